"""CIResNet-22: the cropping-inside residual backbone of SiamFC+ (Zhang & Peng, CVPR 2019).

Every unit crops the one-pixel border its 3x3 zero padding touched, after the residual addition and
ReLU, so no feature ever sees padding. Module names mirror the published SiamDW checkpoint
(``conv1``, ``bn1``, ``layer1.0`` … ``layer2.4``; ``layer2.1`` is the parameter-free CIR-D max-pool),
which makes loading that checkpoint a prefix rename.

Sizes (H = W): 127 -> 5x5x512, 255 -> 21x21x512, total stride 8. Feature cell ``i`` is centred on input
pixel ``47 + 8 i`` (0-based), i.e. the centre cell of the output is centred on the centre pixel of an
odd-sized input.
"""

from __future__ import annotations

import torch
from torch import nn

STRIDE = 8
OUT_CHANNELS = 512
#: Input pixel (0-based index) on which feature cell 0 is centred.
FIRST_CELL_CENTRE = 47


def _crop(x: torch.Tensor, n: int) -> torch.Tensor:
    return x[:, :, n:-n, n:-n]


class CIRUnit(nn.Module):
    """Bottleneck 1x1 -> 3x3 -> 1x1 with a residual shortcut, then ReLU (optional) and a 1-px crop."""

    expansion = 4

    def __init__(self, in_ch: int, width: int, last_relu: bool = True) -> None:
        super().__init__()
        out_ch = width * self.expansion
        self.conv1 = nn.Conv2d(in_ch, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_ch, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_ch)
        self.relu = nn.ReLU(inplace=True)
        self.last_relu = last_relu
        self.downsample = (
            nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, bias=False), nn.BatchNorm2d(out_ch))
            if in_ch != out_ch
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out)) + shortcut
        if self.last_relu:
            out = self.relu(out)
        return _crop(out, 1)


class CIResNet22(nn.Module):
    """Stem (7x7/2, 2-px crop, 2x2 max-pool), 3 CIR units, a CIR-D unit, 3 CIR units."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(2, stride=2)
        self.layer1 = nn.Sequential(CIRUnit(64, 64), CIRUnit(256, 64), CIRUnit(256, 64))
        # layer2.1 is the CIR-D max-pool: it follows the stride-1 unit layer2.0 and has no parameters.
        self.layer2 = nn.Sequential(
            CIRUnit(256, 128),
            nn.MaxPool2d(2, stride=2),
            CIRUnit(512, 128),
            CIRUnit(512, 128),
            CIRUnit(512, 128, last_relu=False),
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Kaiming-normal (fan-out) convolutions, BatchNorm weight 1 and bias 0."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = _crop(self.relu(self.bn1(self.conv1(x))), 2)
        x = self.maxpool(x)
        return self.layer2(self.layer1(x))
