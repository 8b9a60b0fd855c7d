"""The network as trained: SiamFC+ with a batch-normalised score map.

From scratch (no ImageNet backbone here), the raw cross-correlation of 512-channel features is
thousands of units wide and SiamDW's fixed ``0.1 * xcorr`` makes the logistic loss diverge. A
``BatchNorm2d(1)`` without affine parameters between the correlation and the head's learned affine
keeps the logits in range. In eval mode that normalisation is itself affine, so :meth:`export` folds it
into the head: the shipped network is the plain SiamFC+ architecture. :meth:`start_from` undoes that
fold, so training can go on from exported weights.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from ..tracking.model import SiamFCPlus, XCorrHead


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

    @torch.no_grad()
    def start_from(self, net: SiamFCPlus, templates: torch.Tensor, searches: torch.Tensor) -> None:
        """Take the weights of an exported ``net``. The score normalisation's statistics are measured
        on these training crops and the head's affine map is unfolded to match, so the scores start
        where ``net``'s are and :meth:`export` gives ``net`` back."""
        if type(net.backbone) is not type(self.net.backbone) or net.head.adjust is None:
            raise ValueError("can only start from CIResNet-22 SiamFC+ weights with a learned head")
        if net.channel_order != self.net.channel_order:
            raise ValueError(f"can only start from {self.net.channel_order} weights, not {net.channel_order}")
        self.net.load_state_dict(net.state_dict())
        training = self.training
        self.eval()
        scores = self.net.head.correlate(self.net.embed(templates), self.net.embed(searches)).float()
        self.train(training)
        mean, var = scores.mean(), scores.var()
        self.score_norm.running_mean.fill_(mean)
        self.score_norm.running_var.fill_(var)
        adjust = self.net.head.adjust
        scale = adjust.weight.reshape(()).clone()
        adjust.weight.mul_(torch.sqrt(var + self.score_norm.eps))
        adjust.bias.add_(scale * mean)

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
            net.head.adjust.bias.sub_(w.reshape(-1) * mean * inv_std)
        return net
