"""Labelling effort: how many boxes a person draws per 100 frames so that every annotated frame ends
up with a box of IoU >= tau against the ground truth. Each protocol is an oracle annotator that draws
exactly the ground truth whenever it draws.

- ``interpolation`` (keyframes + linear interpolation, as in CVAT and Label Studio): from keyframe
  ``k`` the next keyframe is the farthest frame ``j`` such that interpolating ``k … j`` keeps IoU >= tau
  on every annotated frame in between.
- ``assisted`` (a tracker fills the gaps): draw the first frame, track forward; at the first frame
  whose box has IoU < tau, redraw the ground truth there and restart the tracker from it.
- the keyframe workflow (the plugin's propagation from every keyframe): :mod:`.workflow`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..metrics import iou


@dataclass(frozen=True)
class Effort:
    boxes: int  #: boxes drawn
    frames: int  #: annotated frames

    @property
    def per_100(self) -> float:
        return 100.0 * self.boxes / self.frames


def interpolation_effort(truth: np.ndarray, tau: float) -> Effort:
    """Keyframes an oracle needs when the boxes between keyframes are linearly interpolated."""
    frames = np.flatnonzero(np.isfinite(truth).all(axis=1))
    boxes = truth[frames]
    k, drawn = 0, 1
    while k < len(frames) - 1:
        k = _farthest_keyframe(frames, boxes, k, tau)
        drawn += 1
    return Effort(drawn, len(frames))


def _farthest_keyframe(frames: np.ndarray, boxes: np.ndarray, k: int, tau: float) -> int:
    """Index (into ``frames``) of the farthest next keyframe that interpolation from ``k`` reaches."""
    best = k + 1
    for j in range(k + 2, len(frames)):
        between = slice(k + 1, j)
        t = ((frames[between] - frames[k]) / (frames[j] - frames[k]))[:, None]
        guess = (1 - t) * boxes[k] + t * boxes[j]
        if np.all(iou(guess, boxes[between]) >= tau):
            best = j
    return best


def assisted_effort(tracker, frames: list[np.ndarray], truth: np.ndarray, tau: float) -> Effort:
    """Boxes drawn when ``tracker`` propagates each drawn box forward until it drops below ``tau``."""
    annotated = np.isfinite(truth).all(axis=1)
    start = int(np.flatnonzero(annotated)[0])
    tracker.init(frames[start], truth[start])
    drawn = 1
    for i in range(start + 1, len(frames)):
        box = tracker.update(frames[i])
        if annotated[i] and not iou(box, truth[i]) >= tau:
            tracker.init(frames[i], truth[i])
            drawn += 1
    return Effort(drawn, int(annotated.sum()))
