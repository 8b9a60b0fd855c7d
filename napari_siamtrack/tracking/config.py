"""Tracker hyperparameters: one dataclass, SiamDW's defaults, and the published per-benchmark presets."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class TrackerConfig:
    """Hyperparameters of the SiamFC+ tracker (defaults: SiamDW's ``FCConfig``)."""

    exemplar_size: int = 127  #: template crop side, pixels
    instance_size: int = 255  #: search crop side, pixels
    context_amount: float = 0.5  #: context added around the box: p = context_amount * (w + h)
    num_scales: int = 3  #: search scales, step ** linspace(-(n-1)/2, (n-1)/2, n)
    scale_every: int = 1  #: search the other scales on every n-th frame only (the unit scale always)
    side_scale_cells: int = 0  #: n > 0: find the place at the unit scale, then score the others on n x n cells there
    scale_step: float = 1.0375  #: ratio between neighbouring scales
    scale_penalty: float = 0.9745  #: multiplies the peak of every scale but the unit one
    scale_lr: float = 0.59  #: how fast the size follows the chosen scale
    window_influence: float = 0.35  #: weight of the cosine window against the score map
    response_up: int = 16  #: bicubic upsampling factor of the 17x17 score map
    total_stride: int = 8  #: backbone stride
    min_box_size: float = 10.0  #: size floor in pixels (never above the size of the initial box)
    template_lr: float = 0.0  #: per frame, how far the running template moves to the new box (0: fixed)
    template_anchor: float = 0.5  #: share of the first frame's template in the template matched
    template_from_search: bool = False  #: take each new box's features from the search features (no crop)
    motion: float = 0.0  #: share of the last frame's displacement the next search region moves ahead
    motion_min_score: float = 0.0  #: below this score the displacement is not trusted (no move ahead)
    target_model: float = 0.0  #: weight (in logits) of the online target model's response (0: off)
    target_model_lr: float = 0.05  #: per frame, how far each target model moves to the new example
    target_model_channels: int = 64  #: feature channels the target model works on (principal components)
    target_model_sigma: float = 0.5  #: width of the target model's Gaussian label, in feature cells
    distractor: float = 0.0  #: how much of the remembered look-alikes' template is subtracted (0: off)
    distractor_ratio: float = 0.5  #: a second peak scoring at least this share of the chosen one is a look-alike
    distractor_lr: float = 0.2  #: how far the remembered look-alike moves to each new one
    unsure_ratio: float = 0.0  #: a score below this share of the track's usual score makes a frame unsure
    redetect_after: int = 0  #: after this many unsure frames in a row, search wide (0: never)
    redetect_size: int = 511  #: side in pixels of the wide search crop, at the usual pixel scale

    def __post_init__(self) -> None:
        checks = {
            "exemplar_size": self.exemplar_size > 0 and self.exemplar_size % 2 == 1,
            "instance_size": self.instance_size > self.exemplar_size and self.instance_size % 2 == 1,
            "num_scales": self.num_scales >= 1 and self.num_scales % 2 == 1,
            "scale_every": self.scale_every >= 1,
            "side_scale_cells": self.side_scale_cells == 0
            or (self.side_scale_cells % 2 == 1 and 0 < self.side_scale_cells <= self.score_size),
            "scale_step": self.scale_step >= 1.0,
            "scale_penalty": 0.0 < self.scale_penalty <= 1.0,
            "scale_lr": 0.0 <= self.scale_lr <= 1.0,
            "window_influence": 0.0 <= self.window_influence <= 1.0,
            "template_lr": 0.0 <= self.template_lr <= 1.0,
            "template_anchor": 0.0 <= self.template_anchor <= 1.0,
            "motion": 0.0 <= self.motion <= 1.0,
            "motion_min_score": 0.0 <= self.motion_min_score <= 1.0,
            "target_model": self.target_model >= 0.0,
            "target_model_lr": 0.0 <= self.target_model_lr <= 1.0,
            "target_model_channels": self.target_model_channels >= 1,
            "target_model_sigma": self.target_model_sigma > 0.0,
            "distractor": 0.0 <= self.distractor <= 1.0,
            "distractor_ratio": 0.0 < self.distractor_ratio <= 1.0,
            "distractor_lr": 0.0 < self.distractor_lr <= 1.0,
            "redetect_after": self.redetect_after >= 0,
            "unsure_ratio": 0.0 <= self.unsure_ratio <= 1.0,
            "redetect_size": self.redetect_size > self.instance_size and self.total_stride >= 1
            and (self.redetect_size - self.exemplar_size) % self.total_stride == 0,
            "response_up": self.response_up >= 1,
            "total_stride": self.total_stride >= 1,
            "context_amount": self.context_amount >= 0.0,
            "min_box_size": self.min_box_size > 0.0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            values = ", ".join(f"{name}={getattr(self, name)!r}" for name in bad)
            raise ValueError(f"invalid tracker setting(s): {values}")

    @property
    def score_size(self) -> int:
        """Side of the raw score map (17 for 127/255, stride 8)."""
        return (self.instance_size - self.exemplar_size) // self.total_stride + 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrackerConfig:
        """Build from a mapping, rejecting unknown keys with a clear message."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown tracker setting(s): {', '.join(unknown)}")
        return cls(**values)

    @classmethod
    def preset(cls, name: str) -> TrackerConfig:
        """A named preset: ``default`` or one of SiamDW's tuned CIResNet-22 rows (see ``PRESETS``)."""
        try:
            return replace(cls(), **PRESETS[name.lower()])
        except KeyError:
            raise ValueError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}") from None


#: SiamDW's per-benchmark values for SiamFC+ with CIResNet-22 (``experiments/test/*/SiamFCRes22.yaml``).
PRESETS: dict[str, dict[str, float]] = {
    "default": {},
    "otb2013": {
        "scale_step": 1.0482, "scale_lr": 0.3629, "scale_penalty": 0.9997, "window_influence": 0.3896
    },
    "otb2015": {
        "scale_step": 1.1897, "scale_lr": 0.2226, "scale_penalty": 0.9370, "window_influence": 0.2897
    },
    "vot2015": {
        "scale_step": 1.1190, "scale_lr": 0.4373, "scale_penalty": 0.9811, "window_influence": 0.2569
    },
    "vot2016": {
        "scale_step": 1.1535, "scale_lr": 0.4596, "scale_penalty": 0.9259, "window_influence": 0.3309
    },
    "vot2017": {
        "scale_step": 1.1466, "scale_lr": 0.2061, "scale_penalty": 0.9994, "window_influence": 0.3242
    },
}
