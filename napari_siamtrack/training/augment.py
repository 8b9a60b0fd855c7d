"""Image augmentations on (3, H, W) float RGB tensors, shared by pair training and pretraining."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

# RGB <-> YIQ, for hue rotation.
_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
_YIQ_INV = torch.linalg.inv(_YIQ)


def jitter_colour(image: torch.Tensor, strength: float, rng) -> torch.Tensor:
    if strength <= 0:
        return image
    b, c, s = 1.0 + rng.uniform(-strength, strength, size=3)
    hue = rng.uniform(-strength, strength) * 2 * np.pi
    image = image * b
    luma = grey(image)
    image = (image - luma.mean()) * c + luma.mean()
    image = luma + (image - luma) * s
    cos, sin = np.cos(hue), np.sin(hue)
    rotate = torch.tensor([[1.0, 0.0, 0.0], [0.0, cos, -sin], [0.0, sin, cos]], dtype=torch.float32)
    matrix = _YIQ_INV @ rotate @ _YIQ
    return torch.einsum("ij,jhw->ihw", matrix, image)


def motion_blur(image: torch.Tensor, length: float, angle: float) -> torch.Tensor:
    """Average along a ``length``-pixel line at ``angle`` radians, as a moving camera or target blurs."""
    size = int(np.ceil(length)) | 1
    steps = np.linspace(-(length - 1) / 2, (length - 1) / 2, 4 * size)
    kernel = torch.zeros(size, size)
    cols = np.rint(size // 2 + steps * np.cos(angle)).astype(int)
    rows = np.rint(size // 2 + steps * np.sin(angle)).astype(int)
    kernel[rows, cols] = 1.0
    kernel = (kernel / kernel.sum()).expand(3, 1, size, size)
    padded = F.pad(image[None], (size // 2,) * 4, mode="replicate")
    return F.conv2d(padded, kernel, groups=3)[0]


def grey(image: torch.Tensor) -> torch.Tensor:
    luma = torch.einsum("c,chw->hw", _YIQ[0], image)
    return luma.expand(3, -1, -1).clone()


def blur(image: torch.Tensor, sigma: float) -> torch.Tensor:
    radius = int(np.ceil(2 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-(x**2) / (2 * sigma**2))
    k = (k / k.sum()).repeat(3, 1, 1)
    padded = F.pad(image[None], (radius, radius, radius, radius), mode="replicate")
    out = F.conv2d(padded, k[:, :, None, :], groups=3)
    return F.conv2d(out, k[:, :, :, None], groups=3)[0]
