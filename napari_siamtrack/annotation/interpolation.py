"""Linear interpolation as a fill mode: boxes between consecutive visible keyframes of a track.

Interpolated boxes are tracker output as far as the rules go (``source="tracked"``, not keyframes,
score 1.0): a later propagation may replace them, and review does not flag them. A keyframe is never
touched, and no box is made in a span where the object is absent (an ``outside`` keyframe).
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise

from ..io.box_csv import BoxRow
from .gaps import Gap, GapKey
from .track_table import TrackTable

DECIMALS = 3  #: box coordinates are kept to 1/1000 pixel


def interpolate(
    table: TrackTable, track_ids: Iterable[int] | None = None
) -> tuple[list[BoxRow], list[GapKey]]:
    """The interpolated boxes for the frames between each pair of consecutive keyframes, neither of them
    outside, of ``track_ids`` (default: every track), and the keys of the gaps they fill."""
    tracks = table.track_ids() if track_ids is None else sorted(set(track_ids) & set(table.track_ids()))
    rows, keys = [], []
    for track in tracks:
        keyframes = [table.get(track, f) for f in table.keyframes(track)]
        for a, b in pairwise(keyframes):
            if a.outside or b.outside or b.frame - a.frame < 2:
                continue
            label = a.label or b.label
            for frame in range(a.frame + 1, b.frame):
                s = (frame - a.frame) / (b.frame - a.frame)
                x, y, w, h = (round(p + s * (q - p), DECIMALS) for p, q in zip(_box(a), _box(b)))
                rows.append(BoxRow(frame, track, x, y, w, h, 1.0, "tracked", False, label=label))
            keys.append(Gap(track, a.frame + 1, b.frame - 1, a, b).key)
    return rows, keys


def _box(row: BoxRow) -> tuple[float, float, float, float]:
    return (row.x, row.y, row.w, row.h)
