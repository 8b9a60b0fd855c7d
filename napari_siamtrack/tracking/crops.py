"""Square crops around targets, resampled to the network's input size in one call.

Coordinates are continuous pixel coordinates: pixel ``j`` covers ``[j, j + 1)`` and its centre is
``j + 0.5``. A crop of side ``size`` centred on ``(cx, cy)`` and resampled to ``out`` pixels puts output
pixel ``i`` at ``cx + (i + 0.5 - out / 2) * size / out``, so the target centre lands exactly on the
crop centre. Pixels outside the frame take the ``fill`` colour (the frame's mean colour).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def crop_and_resize(
    frame: torch.Tensor,
    centres: torch.Tensor,
    sizes: torch.Tensor,
    out_size: int,
    fill: torch.Tensor,
) -> torch.Tensor:
    """Bilinear crops of one frame.

    ``frame``: (3, H, W) float with ``fill`` already subtracted (so zero padding means ``fill``);
    ``centres``: (N, 2) as (cx, cy); ``sizes``: (N,) crop sides in frame pixels; ``fill``: (3,).
    Returns (N, 3, out_size, out_size) with ``fill`` added back.
    """
    _, height, width = frame.shape
    n = centres.shape[0]
    steps = (torch.arange(out_size, device=frame.device, dtype=frame.dtype) + 0.5) / out_size - 0.5
    sizes = sizes.to(device=frame.device, dtype=frame.dtype)
    centres = centres.to(device=frame.device, dtype=frame.dtype)
    # Normalised sampling positions (grid_sample, align_corners=False): u / extent * 2 - 1.
    gx = (centres[:, 0, None] + steps[None, :] * sizes[:, None]) * (2.0 / width) - 1.0  # (N, out)
    gy = (centres[:, 1, None] + steps[None, :] * sizes[:, None]) * (2.0 / height) - 1.0
    grid = torch.empty(n, out_size, out_size, 2, device=frame.device, dtype=frame.dtype)
    grid[..., 0] = gx[:, None, :]
    grid[..., 1] = gy[:, :, None]
    # The frame is expanded, not copied, to one image per crop; the crops come out contiguous.
    crops = F.grid_sample(
        frame[None].expand(n, -1, -1, -1), grid, mode="bilinear", padding_mode="zeros", align_corners=False
    )
    return crops.add_(fill[None, :, None, None])


def covering_region(
    centres: torch.Tensor, sizes: torch.Tensor, out_size: int, width: int, height: int
) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)``, half-open and inside the ``width`` x ``height`` frame: every pixel that
    :func:`crop_and_resize` reads for these crops (bilinear samples and their neighbours), at least
    2 x 2 pixels. Cropping from just this region gives the same crops as from the whole frame, with
    ``centres`` shifted by ``(x0, y0)``."""
    reach = sizes[:, None] * (0.5 - 0.5 / out_size)  # crop centre to its outermost sample
    low = (centres - reach).amin(dim=0).tolist()
    high = (centres + reach).amax(dim=0).tolist()
    region = []
    for lo, hi, extent in zip(low, high, (width, height)):
        start = min(max(math.floor(lo - 0.5), 0), extent - 2)
        region.append((start, min(max(math.floor(hi - 0.5) + 2, start + 2), extent)))
    (x0, x1), (y0, y1) = region
    return x0, y0, x1, y1
