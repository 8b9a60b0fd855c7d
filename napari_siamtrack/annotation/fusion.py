"""Filling a gap from both ends: the box each frame takes from the run forward from the keyframe before
the gap and the run backward from the keyframe after it.

Each run is trusted less the farther it has gone: on a frame ``d`` frames from a run's keyframe, in a gap
of ``L`` frames, the run weighs ``score * (1 - d / (L + 1))``, and the frame takes the box of the run that
weighs more (the forward one on a tie). Where the two boxes disagree (IoU below :data:`AGREE_IOU`), at
least one run is wrong there: the frame's score becomes the lower of the two scores times their IoU, so
review finds it.
"""

from __future__ import annotations

from dataclasses import replace

from ..io.box_csv import BoxRow
from ..metrics import iou

#: Below this IoU the forward and backward boxes of a frame disagree.
AGREE_IOU = 0.5


def fuse(forward: BoxRow, backward: BoxRow, before: int, after: int) -> BoxRow:
    """The box of ``forward.frame`` in the gap between keyframes on frames ``before`` and ``after``,
    given the forward run's row and the backward run's row there."""
    length = after - before - 1
    weight_forward = forward.score * (1 - (forward.frame - before) / (length + 1))
    weight_backward = backward.score * (1 - (after - backward.frame) / (length + 1))
    chosen = backward if weight_backward > weight_forward else forward
    overlap = float(iou(_box(forward), _box(backward)))
    if overlap < AGREE_IOU:
        return replace(chosen, score=min(forward.score, backward.score) * overlap)
    return chosen


def _box(row: BoxRow) -> tuple[float, float, float, float]:
    return (row.x, row.y, row.w, row.h)
