"""Model weights: the project's safetensors format, and the published SiamDW checkpoint layout.

The project's format is a ``.safetensors`` file of the :class:`~napari_siamtrack.tracking.model.SiamFCPlus`
state dict with string metadata:

============== ===============================================================
``format``     ``napari-siamtrack-weights``
``version``    ``1``
``architecture`` ``siamfc+/ciresnet22``
``input``      JSON: ``{"channel_order": "RGB" | "BGR", "value_range": [0, 255]}``
``head``       JSON: ``{"out_scale": 0.1, "learned": true | false}``
``tracker``    JSON: tracker hyperparameters (:class:`TrackerConfig` fields), may be ``{}``
``provenance`` JSON: free-form (data, steps, hardware, source file …)
``int8_ranges`` optional JSON: ``{activation: [low, high]}`` from :func:`~napari_siamtrack.tracking.quantize.calibrate`
============== ===============================================================

SiamDW's ``CIResNet22.pth`` is a (possibly legacy-format) torch pickle of a state dict with keys
``features.features.*`` (backbone) and ``connect_model.loc_adjust.*`` (the head's learned affine),
optionally wrapped in ``{"state_dict": …}`` and prefixed ``module.``; it expects BGR input. Pickles can run
code when loaded: they are read with ``torch.load(weights_only=True)`` and refused otherwise unless the
caller passes ``trust_pickle=True``.
"""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..io.atomic import atomic_path
from .config import TrackerConfig
from .model import SiamFCPlus, XCorrHead

FORMAT = "napari-siamtrack-weights"
VERSION = "1"
ARCHITECTURE = "siamfc+/ciresnet22"
#: The weights the package ships (``napari_siamtrack/weights`` links to ``weights/`` in the repository).
SHIPPED_WEIGHTS = Path(__file__).resolve().parent.parent / "weights" / "siamfc_ciresnet22.safetensors"

_OFFICIAL_PREFIXES = {"features.features.": "backbone.", "connect_model.loc_adjust.": "head.adjust."}
#: How torch checkpoints begin: a zip archive, or (the legacy format) a protocol-2 pickle of torch's
#: magic number 0x1950a86a20f9469cfc6c.
_TORCH_HEADS = (b"PK\x03\x04", b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19")


class WeightsError(ValueError):
    """A weights file that is missing, corrupt, untrusted or for another architecture."""


@dataclass
class LoadedWeights:
    """A ready network (eval mode, on the CPU), the tracker settings it ships with, its provenance and
    its int8 calibration (``None`` when it has none)."""

    model: SiamFCPlus
    tracker_config: TrackerConfig | None
    provenance: dict[str, Any] = field(default_factory=dict)
    int8_ranges: dict[str, tuple[float, float]] | None = None


def load_weights(path: str | os.PathLike | None = None, trust_pickle: bool = False) -> LoadedWeights:
    """Load the project's safetensors file or a SiamDW checkpoint (``None``: the shipped weights)."""
    if path is None:
        path = SHIPPED_WEIGHTS
        if not path.is_file():
            raise WeightsError(
                f"the shipped weights are missing ({path}); reinstall napari-siamtrack or pass a "
                "weights file"
            )
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file not found: {path}")
    with path.open("rb") as fh:
        head = fh.read(16)
    if len(head) > 9 and head[8:10] in (b'{"', b"{ "):
        return _load_safetensors(path)
    if not head.startswith(_TORCH_HEADS):
        what = "neither napari-siamtrack weights (.safetensors) nor a torch checkpoint" if head else "empty"
        raise WeightsError(f"corrupt or unreadable weights file {path}: {what}")
    return _load_checkpoint(path, trust_pickle)


def save_weights(
    model: SiamFCPlus,
    path: str | os.PathLike,
    tracker_config: TrackerConfig | None = None,
    provenance: Mapping[str, Any] | None = None,
    int8_ranges: Mapping[str, tuple[float, float]] | None = None,
) -> Path:
    """Write ``model`` in the project's format, atomically (temporary file, then rename)."""
    from safetensors.torch import save_file

    path = Path(path)
    metadata = {
        "format": FORMAT,
        "version": VERSION,
        "architecture": ARCHITECTURE,
        "input": json.dumps({"channel_order": model.channel_order, "value_range": [0, 255]}),
        "head": json.dumps(
            {"out_scale": model.head.out_scale, "learned": model.head.adjust is not None}
        ),
        "tracker": json.dumps(tracker_config.to_dict() if tracker_config else {}),
        "provenance": json.dumps(dict(provenance or {})),
    }
    if int8_ranges is not None:
        metadata["int8_ranges"] = json.dumps({k: [float(lo), float(hi)] for k, (lo, hi) in int8_ranges.items()})
    tensors = {
        k: v.detach().to("cpu", copy=True).contiguous()
        for k, v in model.state_dict().items()
        if not k.endswith("num_batches_tracked")
    }
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)
    return path


def _load_safetensors(path: Path) -> LoadedWeights:
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = fh.metadata() or {}
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 (not a dict)
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(f"corrupt weights file {path}: {exc}") from None
    if meta.get("format") != FORMAT:
        raise WeightsError(f"{path} is a safetensors file but not napari-siamtrack weights")
    if meta.get("architecture") != ARCHITECTURE:
        raise WeightsError(
            f"{path} holds architecture {meta.get('architecture')!r}, expected {ARCHITECTURE!r}"
        )
    if meta.get("version") != VERSION:
        raise WeightsError(f"{path} has format version {meta.get('version')!r}; this reads {VERSION}")
    try:
        input_spec = json.loads(meta["input"])
        head_spec = json.loads(meta["head"])
        tracker = json.loads(meta.get("tracker", "{}"))
        provenance = json.loads(meta.get("provenance", "{}"))
        int8_ranges = (
            {k: (float(lo), float(hi)) for k, (lo, hi) in json.loads(meta["int8_ranges"]).items()}
            if "int8_ranges" in meta
            else None
        )
        model = SiamFCPlus(
            head=XCorrHead(out_scale=float(head_spec["out_scale"]), learned=bool(head_spec["learned"])),
            channel_order=input_spec["channel_order"],
        )
        config = TrackerConfig.from_dict(tracker) if tracker else None
    except (KeyError, TypeError, ValueError) as exc:
        raise WeightsError(f"bad metadata in {path}: {exc}") from None
    _fill_model(model, tensors, path)
    return LoadedWeights(model.eval(), config, provenance, int8_ranges)


def _load_checkpoint(path: Path, trust_pickle: bool) -> LoadedWeights:
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        if not trust_pickle:
            raise WeightsError(
                f"{path} contains Python objects besides tensors, and loading it could run code. "
                "If you trust where it came from, load it with trust_pickle=True "
                "(command line: --trust-pickle)."
            ) from None
        obj = _load_untrusted(path)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for truncated or foreign files
        raise _unreadable(path, exc) from None
    if isinstance(obj, Mapping) and isinstance(obj.get("state_dict"), Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping) or not all(torch.is_tensor(v) for v in obj.values()):
        raise WeightsError(f"{path} does not hold a state dict of tensors")
    tensors = {}
    for key, value in obj.items():
        key = key.removeprefix("module.")
        for old, new in _OFFICIAL_PREFIXES.items():
            if key.startswith(old):
                tensors[new + key[len(old):]] = value
                break
        else:
            raise WeightsError(
                f"{path} is not a SiamFC+ CIResNet-22 checkpoint: unexpected key {key!r}"
            )
    model = SiamFCPlus(head=XCorrHead(learned="head.adjust.weight" in tensors), channel_order="BGR")
    _fill_model(model, tensors, path)
    return LoadedWeights(model.eval(), None, {"source": path.name, "layout": "SiamDW"})


def _load_untrusted(path: Path) -> Any:
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001 - unpickling can raise anything
        raise _unreadable(path, exc) from None


def _unreadable(path: Path, exc: Exception) -> WeightsError:
    problem = " ".join(f"{type(exc).__name__}: {exc}".split())  # one line; torch's messages span several
    return WeightsError(f"corrupt or unreadable weights file {path} ({problem[:300]})")


def _fill_model(model: SiamFCPlus, tensors: Mapping[str, torch.Tensor], path: Path) -> None:
    """Copy ``tensors`` into ``model``, insisting on the exact set of names and shapes."""
    expected = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise WeightsError(
            f"{path} does not match the SiamFC+ CIResNet-22 architecture: "
            f"{len(missing)} missing (e.g. {missing[:3]}), {len(unexpected)} unexpected "
            f"(e.g. {unexpected[:3]})"
        )
    for key, value in tensors.items():
        if tuple(value.shape) != tuple(expected[key].shape):
            raise WeightsError(
                f"{path}: {key} has shape {tuple(value.shape)}, expected {tuple(expected[key].shape)}"
            )
    model.load_state_dict({k: v.float() for k, v in tensors.items()}, strict=False)
