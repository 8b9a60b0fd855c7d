"""Turn any frame a user has into what the network sees: 3-channel float pixels on a 0-255 scale.

Accepted frames: (H, W) or (H, W, C) with C in 1, 3 or 4 (colour is RGB, alpha is dropped, one channel
is repeated three times), of any integer or floating dtype.

Intensities: uint8 frames are used as they are. Every other dtype (uint16 microscopy, float images, …)
is mapped linearly from an :class:`IntensityWindow` to 0-255 and clipped. The window is chosen once,
from the first frame (its 0.1 and 99.9 percentiles), and then kept for every later frame, so the
image the network sees does not flicker when one frame is brighter than the next.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class FrameError(ValueError):
    """A frame the tracker cannot use."""


@dataclass(frozen=True)
class IntensityWindow:
    """Linear map ``low -> 0``, ``high -> 255`` (clipped)."""

    low: float
    high: float

    @classmethod
    def for_frame(cls, frame: np.ndarray) -> IntensityWindow:
        """The window for a video whose first frame is ``frame``."""
        frame = check_frame(frame)
        if frame.dtype == np.uint8:
            return cls(0.0, 255.0)
        values = frame[..., :3] if frame.ndim == 3 else frame
        finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values
        if finite.size == 0:
            raise FrameError("the frame has no finite pixel values")
        low, high = np.percentile(finite, [0.1, 99.9])
        if high <= low:  # a flat frame: any window that keeps it mid-grey will do
            low, high = float(low) - 1.0, float(low) + 1.0
        return cls(float(low), float(high))

    def apply(self, frame: np.ndarray) -> np.ndarray:
        """(H, W, 3) float32 RGB on the 0-255 scale."""
        frame = check_frame(frame)
        rgb = frame[..., :3] if frame.ndim == 3 else frame[..., None]
        if frame.dtype == np.uint8 and (self.low, self.high) == (0.0, 255.0):
            out = rgb.astype(np.float32)
        else:
            out = (rgb.astype(np.float32) - self.low) * np.float32(255.0 / (self.high - self.low))
            np.nan_to_num(out, copy=False, nan=0.0)
            np.clip(out, 0.0, 255.0, out=out)
        if out.shape[-1] == 1:
            out = np.repeat(out, 3, axis=-1)
        return out


def check_frame(frame: np.ndarray) -> np.ndarray:
    """Return ``frame`` as an array, or raise :class:`FrameError` saying what is wrong with it."""
    frame = np.asarray(frame)
    if frame.dtype.kind not in "uif":
        raise FrameError(f"unsupported frame dtype {frame.dtype}: use an integer or floating-point image")
    if frame.ndim == 3 and frame.shape[-1] not in (1, 3, 4):
        raise FrameError(
            f"unsupported frame shape {frame.shape}: the last axis must be 1, 3 or 4 channels"
        )
    if frame.ndim not in (2, 3):
        raise FrameError(f"unsupported frame shape {frame.shape}: expected (H, W) or (H, W, C)")
    if min(frame.shape[:2]) < 2:
        raise FrameError(f"frame of shape {frame.shape} is too small to track in")
    return frame
