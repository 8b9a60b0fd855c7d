"""The SiamFC+ network: one backbone shared by template and search image, and a cross-correlation head."""

from __future__ import annotations

import torch
from torch import nn

from .backbone import CIResNet22
from .head import XCorrHead

#: Channel orders a network can expect; images are float 0-255 in either order, no mean/std normalisation.
CHANNEL_ORDERS = ("RGB", "BGR")


class SiamFCPlus(nn.Module):
    """Siamese tracker network.

    ``channel_order`` tells the tracker how to feed it: the project's own weights take RGB, the published
    SiamDW checkpoint takes BGR. Both take float 0-255 pixels without normalisation.
    """

    def __init__(
        self,
        backbone: nn.Module | None = None,
        head: XCorrHead | None = None,
        channel_order: str = "RGB",
    ) -> None:
        super().__init__()
        if channel_order not in CHANNEL_ORDERS:
            raise ValueError(f"channel_order must be one of {CHANNEL_ORDERS}, not {channel_order!r}")
        self.backbone = backbone if backbone is not None else CIResNet22()
        self.head = head if head is not None else XCorrHead()
        self.channel_order = channel_order

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) images -> (N, C, h, w) features."""
        return self.backbone(images)

    def forward(self, templates: torch.Tensor, searches: torch.Tensor) -> torch.Tensor:
        """Score map logits of N (template, search) image pairs: (N, 1, 17, 17) for 127/255 inputs."""
        return self.head(self.embed(templates), self.embed(searches))
