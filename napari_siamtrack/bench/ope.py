"""One-pass evaluation (the OTB protocol): start on the first annotated frame's ground truth, track
to the end without help, and score every annotated frame (the first included).

Success: the fraction of frames whose IoU with the ground truth exceeds each of 21 thresholds
0, 0.05, …, 1; its mean is the AUC. Precision: the fraction of frames whose centre error is at most a
threshold, reported at 20 pixels.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..metrics import iou

SUCCESS_THRESHOLDS = np.linspace(0.0, 1.0, 21)
PRECISION_THRESHOLDS = np.arange(0, 51, dtype=np.float64)
PRECISION_AT = 20.0


@dataclass(frozen=True)
class PassResult:
    """One tracker on one sequence: a box per frame and the time spent in the tracker."""

    boxes: np.ndarray  # (N, 4); rows before the first annotated frame are NaN
    scores: np.ndarray  # (N,) the tracker's score per frame, NaN where it gives none
    seconds: float
    frames: int  # frames the tracker processed (init included)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else float("inf")


def one_pass(tracker, frames: list[np.ndarray], truth: np.ndarray) -> PassResult:
    """Track from the first annotated frame to the last frame (a tracker with a ``score`` attribute has
    it recorded after each update)."""
    start = int(np.flatnonzero(np.isfinite(truth).all(axis=1))[0])
    boxes, scores = np.full((len(frames), 4), np.nan), np.full(len(frames), np.nan)
    boxes[start] = truth[start]
    began = time.perf_counter()
    tracker.init(frames[start], truth[start])
    for i in range(start + 1, len(frames)):
        boxes[i] = tracker.update(frames[i])
        scores[i] = getattr(tracker, "score", np.nan)
    return PassResult(boxes, scores, time.perf_counter() - began, len(frames) - start)


def success_curve(boxes: np.ndarray, truth: np.ndarray) -> np.ndarray:
    overlaps = _scored(iou, boxes, truth)
    return (overlaps[None, :] > SUCCESS_THRESHOLDS[:, None]).mean(axis=1)


def precision_curve(boxes: np.ndarray, truth: np.ndarray) -> np.ndarray:
    errors = _scored(centre_error, boxes, truth)
    return (errors[None, :] <= PRECISION_THRESHOLDS[:, None]).mean(axis=1)


def centre_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance between box centres, (N, 4) x (N, 4) -> (N,)."""
    return np.linalg.norm((a[:, :2] + a[:, 2:] / 2) - (b[:, :2] + b[:, 2:] / 2), axis=1)


def _scored(metric, boxes: np.ndarray, truth: np.ndarray) -> np.ndarray:
    annotated = np.isfinite(truth).all(axis=1)
    values = metric(boxes[annotated], truth[annotated])
    return np.nan_to_num(values, nan=0.0 if metric is iou else np.inf)
