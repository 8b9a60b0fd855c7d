"""Training losses on the score map.

``balanced_logistic``: SiamFC's logistic loss, averaged separately over positive and negative cells
(both pooled over the batch) and weighted 1/2 each, as in SiamDW.

``contrastive``: Hadsell, Chopra & LeCun's contrastive loss (CVPR 2006), ``y d^2 + (1 - y) max(0, m - d)^2``,
applied to every (template, search window) pair the score map compares: the template embedding
``z`` (C x 5 x 5) and the equally sized window of the search embedding ``x`` under each score cell are a
pair, "similar" (y = 1) on the positive cells of the label and "dissimilar" elsewhere. ``d^2`` is their
mean squared difference, ``(|z|^2 + |x_w|^2 - 2 z.x_w) / (C * 25)``, computed with the same
cross-correlation the tracker uses. Positive and negative terms are balanced like the logistic loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..tracking.model.head import XCorrHead


def balanced_logistic(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    loss = F.binary_cross_entropy_with_logits(logits.float(), labels, reduction="none")
    return _balanced(loss, labels)


def contrastive(
    z: torch.Tensor, x: torch.Tensor, labels: torch.Tensor, margin: float = 1.0
) -> torch.Tensor:
    """``z``: (N, C, hz, wz) template features; ``x``: (N, C, hx, wx) search features; labels (N, 1, h, w)."""
    z, x = z.float(), x.float()
    numel = z[0].numel()
    cross = XCorrHead().correlate(z, x)
    window = z.shape[-2:]
    x_sq = F.avg_pool2d((x * x).sum(dim=1, keepdim=True), window, stride=1) * (window[0] * window[1])
    z_sq = (z * z).sum(dim=(1, 2, 3))[:, None, None, None]
    d2 = ((z_sq + x_sq - 2 * cross) / numel).clamp_min(0)
    d = torch.sqrt(d2 + 1e-12)
    loss = labels * d2 + (1 - labels) * F.relu(margin - d) ** 2
    return _balanced(loss, labels)


def _balanced(loss: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    pos = labels > 0.5
    terms = [loss[mask].mean() for mask in (pos, ~pos) if mask.any()]
    return sum(terms) / len(terms)
