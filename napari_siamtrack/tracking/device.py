"""Which torch device the tracker runs on."""

from __future__ import annotations

import os

import torch

from .quantize import int8_supported

#: Environment variable that overrides the automatic choice (e.g. ``cpu``, ``cuda:1``, ``mps``).
DEVICE_ENV = "NAPARI_SIAMTRACK_DEVICE"


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """The argument, else ``$NAPARI_SIAMTRACK_DEVICE``, else CUDA, else Apple MPS, else the CPU."""
    choice = device if device is not None else os.environ.get(DEVICE_ENV) or None
    if choice is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        resolved = torch.device(choice)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"unknown device {choice!r}: {exc}") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {choice!r} was asked for, but torch sees no CUDA GPU")
    if resolved.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {choice!r} was asked for, but Apple MPS is not available")
    return resolved


#: Environment variable that overrides the automatic precision choice (``fp32``, ``bf16``, ``fp16``,
#: ``int8``).
PRECISION_ENV = "NAPARI_SIAMTRACK_PRECISION"
PRECISIONS = ("fp32", "bf16", "fp16", "int8")


def resolve_precision(precision: str | None, device: torch.device, int8_calibrated: bool = False) -> str:
    """The network's compute precision: the argument, else ``$NAPARI_SIAMTRACK_PRECISION``, else
    ``auto``: on a CPU with VNNI, int8 when the weights carry an int8 calibration
    (``int8_calibrated``); else bfloat16 where the hardware runs it natively (CPUs with AVX-512 BF16
    / AMX, CUDA GPUs with bf16); else float32. Geometry and score maps stay float32 either way."""
    choice = (precision or os.environ.get(PRECISION_ENV) or "auto").lower()
    if choice == "auto":
        if device.type == "cpu" and int8_calibrated and int8_supported():
            return "int8"
        return "bf16" if bf16_supported(device) else "fp32"
    if choice not in PRECISIONS:
        raise ValueError(f"unknown precision {choice!r}; choose from auto, {', '.join(PRECISIONS)}")
    if choice == "fp16" and device.type not in ("cuda", "mps"):
        raise ValueError("fp16 needs a GPU; use bf16 or fp32 on the CPU")
    if choice == "int8":
        if device.type != "cpu":
            raise ValueError("int8 runs on the CPU; use fp16 or bf16 on a GPU")
        if not int8_calibrated:
            raise ValueError(
                "int8 needs CIResNet-22 weights with an int8 calibration (siamtrack calibrate)"
            )
        if not int8_supported():
            raise ValueError("this CPU has no VNNI int8 instructions (or torch lacks oneDNN); use bf16 or fp32")
    return choice


def bf16_supported(device: torch.device) -> bool:
    """Whether ``device`` runs bfloat16 convolutions natively."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return False
