"""SiamFC+ head: full-channel cross-correlation of template and search features."""

from __future__ import annotations

import torch
from torch import nn


class XCorrHead(nn.Module):
    """``response = a * xcorr(z, x) + b``.

    With ``learned=False`` (SiamDW's public code) ``a`` is the constant ``out_scale`` (0.1) and ``b`` is 0.
    With ``learned=True`` they are the weight and bias of a 1x1 convolution (the ``loc_adjust`` layer of
    the published checkpoint), initialised to ``out_scale`` and 0.
    """

    def __init__(self, out_scale: float = 0.1, learned: bool = False) -> None:
        super().__init__()
        self.out_scale = out_scale
        self.adjust = nn.Conv2d(1, 1, 1) if learned else None
        if self.adjust is not None:
            nn.init.constant_(self.adjust.weight, out_scale)
            nn.init.zeros_(self.adjust.bias)

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Score logits: the affine map of :meth:`correlate`."""
        out = self.correlate(z, x)
        if self.adjust is None:
            return out * self.out_scale
        return out * self.adjust.weight.reshape(()) + self.adjust.bias  # the 1x1 convolution, cheaper

    def correlate(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Correlate each target's templates with its own search features.

        ``z``: (K, C, hz, wz) templates, or (K, T, C, hz, wz) for T templates per target; ``x``:
        (K * S, C, hx, wx) search features, ``S`` per target, grouped by target (all of target 0's
        first). Returns (K * S, T, hx - hz + 1, wx - wz + 1), T = 1 for the first form.
        """
        if z.dim() == 4:
            z = z[:, None]
        k, t, c, hz, wz = z.shape
        s = x.shape[0] // k
        hx, wx = x.shape[2:]
        ho, wo = hx - hz + 1, wx - wz + 1
        # One matrix product per search map gives, at every search cell, its dot product with every
        # template cell; the correlation at (i, j) then sums template cell (u, v)'s product at
        # (i + u, j + v). This runs several times faster than a grouped convolution on the CPU.
        cells = t * hz * wz
        templates = z.transpose(1, 2).reshape(k, 1, c, cells).expand(k, s, c, cells).reshape(k * s, c, cells)
        products = torch.bmm(x.reshape(k * s, c, hx * wx).transpose(1, 2), templates)
        products = products.reshape(k * s, hx, wx, t, hz, wz)
        # A view whose element (n, t, i, j, u, v) is products[n, i + u, j + v, t, u, v], summed over u, v.
        n_, i_, j_, t_, u_, v_ = products.stride()
        shifted = products.as_strided((k * s, t, ho, wo, hz, wz), (n_, t_, i_, j_, i_ + u_, j_ + v_))
        return shifted.sum(dim=(4, 5))
