"""A fixed, analytic stand-in for the CIResNet-22 backbone, and a sequence to test the tracker with."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class AnalyticFeatures(nn.Module):
    """Stride-8 features with the backbone's size and alignment contract (127 -> 5, 255 -> 21).

    Cell ``i`` is centred on input pixel ``47 + 8i``, like the backbone's: an 8x8 block of the lightly
    blurred image, resampled half a pixel up and left (2x2 box filter, stride 1). Per cell: the colours of
    its four 4x4 quarters minus their mean (unit length above a contrast floor), and the cell's colour
    minus its grey level. Everything is local, so a patch gets the same features in any crop.
    """

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        n = (images.shape[-1] - 95) // 8 + 1
        x = F.avg_pool2d(images / 255.0, 5, stride=1, padding=2, count_include_pad=False)
        x = F.avg_pool2d(x, 2, stride=1)[:, :, 43 : 43 + 8 * n, 43 : 43 + 8 * n]
        quarters = F.pixel_unshuffle(F.avg_pool2d(x, 4), 2).reshape(x.shape[0], 3, 4, n, n)
        mean = quarters.mean(dim=2)
        pattern = (quarters - mean[:, :, None]).reshape(x.shape[0], 12, n, n)
        pattern = pattern / pattern.norm(dim=1, keepdim=True).clamp_min(0.05)
        colour = 3.0 * (mean - mean.mean(dim=1, keepdim=True))
        return torch.cat((pattern, colour), dim=1)


def textured_sequence(
    n_frames: int = 120, scale_end: float = 1.3, height: int = 240, width: int = 320
) -> tuple[np.ndarray, np.ndarray]:
    """A cat's face translating on a loop over a plain, noisy background while its size goes from 1 to
    ``scale_end``. Returns (T, H, W, 3) uint8 frames and (T, 4) x, y, w, h ground truth."""
    from skimage import data
    from skimage.transform import resize

    cat = data.chelsea()[20:220, 100:340].astype(np.float64)
    t = np.linspace(0.0, 1.0, n_frames)
    scales = 1.0 + (scale_end - 1.0) * t
    cx = width * (0.5 + 0.28 * np.sin(2 * np.pi * t))
    cy = height * (0.5 + 0.22 * np.sin(4 * np.pi * t + 0.5))
    rng = np.random.default_rng(1)
    frames = np.empty((n_frames, height, width, 3), np.uint8)
    boxes = np.empty((n_frames, 4))
    for i in range(n_frames):
        w, h = round(64 * scales[i]), round(53 * scales[i])
        x, y = round(cx[i] - w / 2), round(cy[i] - h / 2)
        frame = np.full((height, width, 3), 110.0)
        frame[y : y + h, x : x + w] = resize(cat, (h, w), anti_aliasing=True, preserve_range=True)
        frame += rng.normal(0.0, 3.0, frame.shape)
        frames[i] = np.clip(frame, 0, 255)
        boxes[i] = (x, y, w, h)
    return frames, boxes
