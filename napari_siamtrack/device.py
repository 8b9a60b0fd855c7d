"""Which torch device the tracker runs on."""

from __future__ import annotations

import os

import torch

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
