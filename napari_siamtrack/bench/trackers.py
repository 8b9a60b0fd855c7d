"""The trackers a benchmark compares, behind one small interface: ``init(frame, box)``, then
``update(frame) -> box`` per frame (RGB uint8 frames, 0-based ``x, y, w, h`` boxes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

#: OpenCV contrib trackers offered as baselines, by the name the benchmark prints.
OPENCV_TRACKERS = ("CSRT", "KCF", "MIL")


class BenchTracker(Protocol):
    name: str

    def init(self, frame: np.ndarray, box: np.ndarray) -> None: ...

    def update(self, frame: np.ndarray) -> np.ndarray: ...


class SiamTracker:
    """This project's tracker (one target); ``score`` is the score of the last update."""

    def __init__(self, tracker, name: str = "SiamFC+") -> None:
        self.tracker = tracker
        self.name = name
        self.score = float("nan")

    def init(self, frame: np.ndarray, box: np.ndarray) -> None:
        self.tracker.init(frame, tuple(float(v) for v in box))

    def update(self, frame: np.ndarray) -> np.ndarray:
        box, self.score = self.tracker.update(frame)
        return np.asarray(box, dtype=np.float64)


class OpenCVTracker:
    """An OpenCV contrib tracker with default parameters. When it reports a failure, the last box
    is kept (OpenCV then returns no usable box)."""

    def __init__(self, name: str) -> None:
        import cv2

        if name not in OPENCV_TRACKERS:
            raise ValueError(f"unknown OpenCV tracker {name!r}; choose from {OPENCV_TRACKERS}")
        self.name = name
        self._create: Callable = getattr(cv2, f"Tracker{name}").create
        self._cv2 = cv2
        self._tracker = None
        self._box = None

    def init(self, frame: np.ndarray, box: np.ndarray) -> None:
        self._tracker = self._create()
        x, y, w, h = (float(v) for v in box)
        rect = (round(x), round(y), max(1, round(w)), max(1, round(h)))
        self._tracker.init(self._bgr(frame), rect)
        self._box = np.asarray(box, dtype=np.float64)

    def update(self, frame: np.ndarray) -> np.ndarray:
        ok, rect = self._tracker.update(self._bgr(frame))
        if ok and rect[2] > 0 and rect[3] > 0:
            self._box = np.asarray(rect, dtype=np.float64)
        return self._box

    def _bgr(self, frame: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(frame[:, :, ::-1])


def opencv_available() -> bool:
    """Whether OpenCV with the contrib trackers is installed."""
    try:
        import cv2
    except ImportError:
        return False
    return all(hasattr(cv2, f"Tracker{name}") for name in OPENCV_TRACKERS)
