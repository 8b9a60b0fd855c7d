"""Gaps: the frames of a track that propagation fills, between two of its keyframes, before its first
or after its last; and which gaps are up to date.

A gap is *filled* when every frame in it has a box of its track. Its :attr:`Gap.key` names the
keyframes that bound it, boxes included, so a gap whose keyframe was added, moved or removed has a key
that was never seen: "start from every keyframe" re-tracks only gaps whose key is not among those filled
since (see :class:`FilledGaps`), and gaps that are not filled.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from ..io.box_csv import BoxRow
from .track_table import TrackTable

#: A gap's identity: (track_id, keyframe before, keyframe after), each keyframe as (frame, x, y, w, h).
GapKey = tuple


def _anchor(row: BoxRow | None) -> tuple | None:
    return None if row is None else (row.frame, row.x, row.y, row.w, row.h)


@dataclass(frozen=True)
class Gap:
    """Frames ``first`` … ``last`` (inclusive) of track ``track_id``; ``before`` and ``after`` are the
    keyframes that bound it (``None`` at the ends of the video)."""

    track_id: int
    first: int
    last: int
    before: BoxRow | None
    after: BoxRow | None

    @property
    def key(self) -> GapKey:
        return (self.track_id, _anchor(self.before), _anchor(self.after))

    def covers(self, frame: int) -> bool:
        return self.first <= frame <= self.last

    def __len__(self) -> int:
        return self.last - self.first + 1


def _bounds(table: TrackTable, track_id: int) -> list[tuple[BoxRow | None, BoxRow | None]]:
    """(keyframe before, keyframe after) of each gap of ``track_id``, in frame order."""
    keys = [table.get(track_id, f) for f in table.keyframes(track_id)]
    return [(None, keys[0]), *pairwise(keys), (keys[-1], None)] if keys else []


def track_gaps(table: TrackTable, track_id: int, n_frames: int) -> list[Gap]:
    """The gaps of ``track_id`` in a video of ``n_frames`` frames, in frame order (empty ones left out)."""
    gaps = [
        Gap(
            track_id,
            0 if before is None else before.frame + 1,
            n_frames - 1 if after is None else after.frame - 1,
            before,
            after,
        )
        for before, after in _bounds(table, track_id)
    ]
    return [g for g in gaps if len(g) > 0]


def is_filled(table: TrackTable, gap: Gap) -> bool:
    return all(table.get(gap.track_id, f) is not None for f in range(gap.first, gap.last + 1))


class FilledGaps:
    """The keys of the gaps tracked since their keyframes last changed (per boxes layer)."""

    def __init__(self, table: TrackTable | None = None) -> None:
        """Start from ``table`` as it is: its gaps count as tracked (those not filled are re-tracked
        anyway)."""
        self._keys: set[GapKey] = set()
        if table is not None:
            for track in table.track_ids():
                self._keys.update((track, _anchor(b), _anchor(a)) for b, a in _bounds(table, track))

    def record(self, keys) -> None:
        self._keys.update(keys)

    def is_current(self, table: TrackTable, gap: Gap) -> bool:
        """Whether ``gap`` needs no tracking: its keyframes are as when it was tracked, and it is filled."""
        return gap.key in self._keys and is_filled(table, gap)
