"""Filling a gap from both ends: the run forward from the keyframe before the gap gives each frame its
box, and the run backward from the keyframe after it checks that box.

A keyframe after a gap is usually where tracking went wrong: on a hard frame (an occlusion, blur, a
turn), so a run from it is less sure than the run that reached it, which held up to there. Where the two
boxes disagree (IoU below :data:`AGREE_IOU`), at least one run is wrong there: the frame's score becomes
the lower of the two scores times their IoU, so review finds it.
"""

from __future__ import annotations

from dataclasses import replace

from ..io.box_csv import BoxRow
from ..metrics import iou

#: Below this IoU the forward and backward boxes of a frame disagree.
AGREE_IOU = 0.5


def fuse(forward: BoxRow, backward: BoxRow) -> BoxRow:
    """The box of ``forward.frame`` in a gap filled from both ends, given the forward run's row and the
    backward run's row there."""
    overlap = float(iou(_box(forward), _box(backward)))
    if overlap < AGREE_IOU:
        return replace(forward, score=min(forward.score, backward.score) * overlap)
    return forward


def _box(row: BoxRow) -> tuple[float, float, float, float]:
    return (row.x, row.y, row.w, row.h)
