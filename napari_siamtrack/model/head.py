"""SiamFC+ head: full-channel cross-correlation of template and search features."""

from __future__ import annotations

import torch
import torch.nn.functional as F
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
        return out * self.out_scale if self.adjust is None else self.adjust(out)

    def correlate(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Correlate each template with its own search features.

        ``z``: (K, C, hz, wz) templates; ``x``: (K * S, C, hx, wx) search features, ``S`` per template,
        grouped by template (all of template 0's first). Returns (K * S, 1, hx - hz + 1, wx - wz + 1).
        """
        k, c = z.shape[:2]
        s = x.shape[0] // k
        # Templates become the groups of one convolution; the S search maps of a template are its batch.
        xs = x.reshape(k, s, c, *x.shape[2:]).transpose(0, 1).reshape(s, k * c, *x.shape[2:])
        out = F.conv2d(xs, z, groups=k)  # (S, K, ho, wo)
        return out.transpose(0, 1).reshape(k * s, 1, *out.shape[2:])
