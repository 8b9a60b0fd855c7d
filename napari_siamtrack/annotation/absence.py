"""Absent from here: an ``outside`` keyframe says a track's object is not visible from its frame until the
track's next keyframe (CVAT's meaning). Propagation never tracks from it nor into that span
(:mod:`.propagation`), so the tracked boxes already in the span are removed when it is made.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..io.box_csv import BoxRow
from .identity import IdentityError, track_label
from .review import BoxReview
from .track_table import TrackTable, is_protected


def mark_absent(table: TrackTable, track_id: int, frame: int) -> list[BoxRow]:
    """The rows after making the box of ``track_id`` on ``frame`` an outside keyframe (at the box there,
    else at the track's last known box before it, else its first after) and removing the track's tracked
    boxes up to its next keyframe. On an outside keyframe, it makes the object visible there again."""
    rows = sorted((r for r in table if r.track_id == track_id), key=lambda r: r.frame)
    if not rows:
        raise IdentityError(f"track {track_id} has no box")
    here = table.get(track_id, frame)
    if here is not None and here.outside and is_protected(here):
        return [replace(r, outside=False) if r is here else r for r in table]
    before = [r for r in rows if r.frame <= frame]
    known = before[-1] if before else rows[0]
    if here is not None and is_protected(here):
        absent = replace(here, outside=True)
    else:
        absent = BoxRow(
            frame, track_id, known.x, known.y, known.w, known.h, 1.0, "manual", True,
            outside=True, label=track_label(table, track_id),
        )  # fmt: skip
    stop = next((f for f in table.keyframes(track_id) if f > frame), None)
    span = range(frame, stop if stop is not None else rows[-1].frame + 1)
    gone = {r.frame for r in rows if r.frame in span and not is_protected(r)} | {frame}
    return [r for r in table if r.track_id != track_id or r.frame not in gone] + [absent]


def absent_spans(boxes: BoxReview, track_id: int, n_frames: int) -> list[tuple[int, int]]:
    """The (first, last) frames of each span where ``track_id`` is absent in a video of ``n_frames``."""
    track = boxes.track(track_id)
    keys, outside = track.frames[track.protected], track.outside[track.protected]
    stops = np.r_[keys[1:], max(n_frames, keys[-1] + 1 if len(keys) else 0)]
    return [(k, stop - 1) for k, stop in zip(keys[outside].tolist(), stops[outside].tolist())]
