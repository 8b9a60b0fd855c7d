"""The backbone rebuilt for inference: the same function as :class:`CIResNet22` in eval mode, less work.

Two exact rewrites:

- **BatchNorm folding.** Every convolution absorbs the BatchNorm after it (scale into the weights,
  shift into a bias), so a unit is three convolutions and ReLUs.
- **No computing what gets cropped.** :class:`CIResNet22` pads each 3x3 convolution by one pixel and
  crops that border off at the end of the unit. Everything after the 3x3 convolution is pointwise, so
  the same output comes from an unpadded 3x3 convolution and a shortcut cropped *before* its 1x1
  projection; the stem likewise drops its padding and the two border cells it would crop. The
  1x1 convolutions after each 3x3 one then run on (n - 2)^2 instead of n^2 cells.

Inputs must have odd sides (the tracker's 127 and 255 are), as the stem rewrite relies on it.
The module is written for eager-mode quantisation (:mod:`napari_siamtrack.tracking.quantize`): each
convolution is one fused module with what follows it (ReLU; or residual addition and ReLU), and quant /
dequant stubs mark the ends. All of these are plain float operations until the network is quantised.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.ao.nn.intrinsic import ConvAdd2d, ConvAddReLU2d, ConvReLU2d
from torch.ao.quantization import DeQuantStub, QuantStub

from .backbone import CIResNet22, CIRUnit


def _fold(conv: nn.Conv2d, bn: nn.BatchNorm2d, padding: int | None = None) -> nn.Conv2d:
    """A convolution with a bias equal to ``bn(conv(x))`` (``bn`` in eval mode)."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    fused = nn.Conv2d(
        conv.in_channels,
        conv.out_channels,
        conv.kernel_size,
        stride=conv.stride,
        padding=conv.padding if padding is None else padding,
        bias=True,
    )
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    with torch.no_grad():
        fused.weight.copy_(conv.weight * scale[:, None, None, None])
        fused.bias.copy_((bias - bn.running_mean) * scale + bn.bias)
    return fused


class _Unit(nn.Module):
    """A folded :class:`CIRUnit` with an unpadded 3x3 convolution (same output, see module docs)."""

    def __init__(self, unit: CIRUnit) -> None:
        super().__init__()
        self.conv1 = ConvReLU2d(_fold(unit.conv1, unit.bn1), nn.ReLU())
        self.conv2 = ConvReLU2d(_fold(unit.conv2, unit.bn2, padding=0), nn.ReLU())
        conv3 = _fold(unit.conv3, unit.bn3)
        # conv3, the residual addition and (but in the last unit) the ReLU, as one fused operation.
        self.conv3 = ConvAddReLU2d(conv3, torch.add, nn.ReLU()) if unit.last_relu else ConvAdd2d(conv3, torch.add)
        self.downsample = (
            _fold(unit.downsample[0], unit.downsample[1]) if unit.downsample is not None else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x[:, :, 1:-1, 1:-1]
        if self.downsample is not None:
            shortcut = self.downsample(shortcut)
        return self.conv3(self.conv2(self.conv1(x)), shortcut)


class InferenceBackbone(nn.Module):
    """:class:`CIResNet22` (eval mode) folded and unpadded; built from a trained backbone."""

    def __init__(self, backbone: CIResNet22) -> None:
        super().__init__()
        # Stem: output cell i of the padded, 2-cell-cropped 7x7/2 convolution reads input pixels
        # 2i + 1 ... 2i + 7, which is an unpadded convolution of the input without its first row/column.
        self.quant = QuantStub()
        self.conv1 = ConvReLU2d(_fold(backbone.conv1, backbone.bn1, padding=0), nn.ReLU())
        self.maxpool = nn.MaxPool2d(2, stride=2)
        self.layer1 = nn.Sequential(*(_Unit(u) for u in backbone.layer1))
        self.layer2 = nn.Sequential(
            *(_Unit(u) if isinstance(u, CIRUnit) else nn.MaxPool2d(2, stride=2) for u in backbone.layer2)
        )
        self.dequant = DeQuantStub()
        self.eval()
        self.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.conv1(self.quant(x)[:, :, 1:, 1:]))
        return self.dequant(self.layer2(self.layer1(x)))
