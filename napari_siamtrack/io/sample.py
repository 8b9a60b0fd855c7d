"""A short synthetic video with known ground truth, made from images that ship with scikit-image.

A cat's face (``skimage.data.chelsea``) moves along a smooth loop over a photograph
(``skimage.data.astronaut``), growing and shrinking as it goes. Everything is deterministic, so demos,
tests and the napari sample agree frame for frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SampleVideo:
    """``frames``: (T, H, W, 3) uint8 RGB; ``boxes``: (T, 4) ground-truth x, y, w, h (0-based pixels)."""

    frames: np.ndarray
    boxes: np.ndarray


def make_sample(
    n_frames: int = 60,
    height: int = 240,
    width: int = 320,
    scale_range: tuple[float, float] = (1.0, 1.35),
) -> SampleVideo:
    """Render the sample: the target's size moves between the two ``scale_range`` factors once."""
    from skimage import data
    from skimage.transform import resize

    background = resize(data.astronaut(), (height, width), anti_aliasing=True, preserve_range=True)
    background = 0.6 * background + 0.4 * background.mean(axis=(0, 1))  # lower contrast than the target
    cat = data.chelsea()[20:220, 100:340].astype(np.float64)  # the face, 200 x 240
    base_w, base_h = 0.2 * width, 0.2 * width * cat.shape[0] / cat.shape[1]
    t = np.linspace(0.0, 1.0, n_frames)
    scales = scale_range[0] + (scale_range[1] - scale_range[0]) * np.sin(np.pi * t)
    cx = width * (0.5 + 0.28 * np.sin(2 * np.pi * t))
    cy = height * (0.5 + 0.22 * np.sin(4 * np.pi * t + 0.5))
    rng = np.random.default_rng(0)
    frames = np.empty((n_frames, height, width, 3), dtype=np.uint8)
    boxes = np.empty((n_frames, 4))
    for i in range(n_frames):
        w, h = round(base_w * scales[i]), round(base_h * scales[i])
        x, y = round(cx[i] - w / 2), round(cy[i] - h / 2)
        frame = background.copy()
        frame[y : y + h, x : x + w] = resize(cat, (h, w), anti_aliasing=True, preserve_range=True)
        frame += rng.normal(0.0, 3.0, frame.shape)
        frames[i] = np.clip(frame, 0, 255).astype(np.uint8)
        boxes[i] = (x, y, w, h)
    return SampleVideo(frames, boxes)


def write_video(path, frames: np.ndarray, fps: int = 15) -> None:
    """Write (T, H, W, 3) uint8 frames as an H.264 video (PyAV)."""
    import imageio.v3 as iio

    iio.imwrite(path, frames, plugin="pyav", codec="libx264", fps=fps)
