"""The keyframe workflow annotator: labelling effort with the plugin's own propagation, as a person uses
the Propagate widget, an oracle drawing exactly the ground truth.

Draw a keyframe on the first annotated frame and propagate from every keyframe (gaps between keyframes
from both ends, each run learning from the track's keyframes behind it); then, while some annotated
frame's box has IoU < tau, draw a keyframe on the first such frame (as a person scrubbing through the
video fixes the first box that went wrong) and propagate again, which re-tracks only the gaps next to
it. A frame whose ground truth no box can match (its own keyframe fails, e.g. a box of zero size) ends
the loop; it and every other frame still below tau then count as drawn, one box each.

The run into the frames after the track's last keyframe stops at its first frame below tau: the next
keyframe goes on that frame or an earlier one, and the frames after it are tracked again from it. The
count is the one that propagating to the end of the video gives, with less tracking: the frames after
the last keyframe were tracked to the end of the video once per keyframe.
"""

from __future__ import annotations

import numpy as np

from ..annotation.gaps import FilledGaps
from ..annotation.propagation import PropagationRequest, plan, propagate
from ..annotation.track_table import TrackTable
from ..io.box_csv import BoxRow
from ..metrics import iou
from .effort import Effort

#: The row's name in the report.
NAME = "keyframe workflow"
_TRACK = 1


class _Stack:
    """A list of equally sized frames as the (T, H, W, …) stack propagation reads, without a copy."""

    def __init__(self, frames: list[np.ndarray]) -> None:
        self._frames = frames
        self.shape, self.dtype = (len(frames), *frames[0].shape), frames[0].dtype

    def __getitem__(self, index: int) -> np.ndarray:
        return self._frames[index]


def keyframe_workflow_effort(tracker, frames: list[np.ndarray], truth: np.ndarray, tau: float) -> Effort:
    """Boxes drawn by the keyframe workflow; ``tracker`` is a multi-target tracker as
    :func:`~napari_siamtrack.annotation.propagation.propagate` takes (the plugin's Tracker)."""
    annotated = np.flatnonzero(np.isfinite(truth).all(axis=1))
    stack, table, filled = _Stack(frames), TrackTable(), FilledGaps()
    request = PropagationRequest(int(annotated[0]), start_from="all")
    frame, drawn = int(annotated[0]), 0
    while True:
        table.merge([BoxRow(frame, _TRACK, *map(float, truth[frame]), 1.0, "manual", True)])
        drawn += 1
        segments = plan(table, request, len(frames), filled=filled)
        # The run forward from the newest keyframe into the frames after the track's last one.
        ahead = [s for s in segments if s.start == frame and s.step > 0 and not _two_ended(s, segments)]
        _track(tracker, stack, [s for s in segments if s not in ahead], table, filled)
        # A keyframe no box can match ends the loop: then every frame after it counts, so track them all.
        matchable = bool((truth[frame, 2:] > 0).all())
        _track(tracker, stack, ahead, table, filled, stop_below=(truth, tau) if matchable else None)
        failing = _overlaps(table, truth, annotated) < tau
        if not failing.any():
            return Effort(drawn, len(annotated))
        frame = int(annotated[np.argmax(failing)])
        if table.get(_TRACK, frame).keyframe:  # drawn already, and still below tau
            return Effort(drawn + int(failing.sum()), len(annotated))


def _track(tracker, stack, segments, table: TrackTable, filled: FilledGaps, stop_below=None) -> None:
    """Propagate ``segments`` into ``table``; with ``stop_below=(truth, tau)``, stop after the first
    annotated frame whose box has IoU < tau."""
    for progress in propagate(tracker, stack, segments):
        table.merge(progress.rows)
        filled.record(progress.filled)
        if stop_below is not None and any(_fails(row, *stop_below) for row in progress.rows):
            return


def _two_ended(segment, segments) -> bool:
    """Whether ``segment`` fills a gap that a backward run in ``segments`` fills too."""
    return any(s.fuses and s.gap == segment.gap for s in segments)


def _fails(row: BoxRow, truth: np.ndarray, tau: float) -> bool:
    """Whether ``row``'s frame is annotated and its box has IoU < tau with the ground truth there."""
    box = truth[row.frame]
    return bool(np.isfinite(box).all() and not iou(np.array([(row.x, row.y, row.w, row.h)]), box[None])[0] >= tau)


def _overlaps(table: TrackTable, truth: np.ndarray, annotated: np.ndarray) -> np.ndarray:
    """IoU of the track's box with the ground truth on each annotated frame (0 where it has none)."""
    rows = [table.get(_TRACK, int(f)) for f in annotated]
    boxes = np.array([(r.x, r.y, r.w, r.h) if r is not None else (np.nan,) * 4 for r in rows])
    return np.nan_to_num(iou(boxes, truth[annotated]), nan=0.0)
