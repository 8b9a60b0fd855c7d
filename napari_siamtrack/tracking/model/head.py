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
        """Correlate each template with its own search features.

        ``z``: (K, C, hz, wz) templates; ``x``: (K * S, C, hx, wx) search features, ``S`` per template,
        grouped by template (all of template 0's first). Returns (K * S, 1, hx - hz + 1, wx - wz + 1).
        """
        k, c, hz, wz = z.shape
        s = x.shape[0] // k
        hx, wx = x.shape[2:]
        ho, wo = hx - hz + 1, wx - wz + 1
        # One matrix product per search map gives, at every search cell, its dot product with every
        # template cell; the correlation at (i, j) then sums template cell (u, v)'s product at
        # (i + u, j + v). This runs several times faster than a grouped convolution on the CPU.
        templates = z.reshape(k, 1, c, hz * wz).expand(k, s, c, hz * wz).reshape(k * s, c, hz * wz)
        products = torch.bmm(x.reshape(k * s, c, hx * wx).transpose(1, 2), templates)
        products = products.reshape(k * s, hx, wx, hz, wz)
        out = sum(products[:, u : u + ho, v : v + wo, u, v] for u in range(hz) for v in range(wz))
        return out[:, None]
