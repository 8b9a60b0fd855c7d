"""The network as trained: SiamFC+ with a batch-normalised score map.

From scratch (no ImageNet backbone here), the raw cross-correlation of 512-channel features is
thousands of units wide and SiamDW's fixed ``0.1 * xcorr`` makes the logistic loss diverge. A
``BatchNorm2d(1)`` without affine parameters between the correlation and the head's learned affine
keeps the logits in range. In eval mode that normalisation is itself affine, so :meth:`export` folds it
into the head: the shipped network is the plain SiamFC+ architecture.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from ..model import SiamFCPlus, XCorrHead


class TrainingNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = SiamFCPlus(head=XCorrHead(learned=True), channel_order="RGB")
        nn.init.ones_(self.net.head.adjust.weight)
        self.score_norm = nn.BatchNorm2d(1, affine=False)

    def forward(self, templates: torch.Tensor, searches: torch.Tensor):
        """(logits (N, 1, 17, 17), template features, search features) for N pairs."""
        z = self.net.embed(templates)
        x = self.net.embed(searches)
        logits = self.net.head.adjust(self.score_norm(self.net.head.correlate(z, x)))
        return logits, z, x

    def export(self) -> SiamFCPlus:
        """A copy of the tracking network, on the CPU in eval mode, with the normalisation folded in."""
        net = copy.deepcopy(self.net).float().cpu().eval()
        net = net.to(memory_format=torch.contiguous_format)
        norm = self.score_norm
        inv_std = 1.0 / torch.sqrt(norm.running_var.float().cpu() + norm.eps)
        mean = norm.running_mean.float().cpu()
        with torch.no_grad():
            w = net.head.adjust.weight.clone()
            net.head.adjust.weight.mul_(inv_std)
            net.head.adjust.bias.sub_((w.reshape(-1) * mean * inv_std))
        return net
