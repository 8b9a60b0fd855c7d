"""The boxes of every track on every frame, with the rules that protect a person's work.

A box is *protected* when a person made or accepted it: ``source == "manual"`` or ``keyframe``.
Tracker output (``source == "tracked"``, not a keyframe) may replace an unprotected box and nothing else,
so propagation can never overwrite or delete a box someone drew or corrected.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..io.box_csv import BoxRow


def is_protected(row: BoxRow) -> bool:
    """Whether ``row`` was drawn, corrected or accepted by a person."""
    return row.keyframe or row.source == "manual"


class TrackTable:
    """At most one box per (track_id, frame); rows are :class:`~napari_siamtrack.io.box_csv.BoxRow`."""

    def __init__(self, rows: Iterable[BoxRow] = ()) -> None:
        self._rows: dict[tuple[int, int], BoxRow] = {}
        for row in rows:
            key = (row.track_id, row.frame)
            if key in self._rows:
                raise ValueError(f"two boxes for track {row.track_id} on frame {row.frame}")
            self._rows[key] = row

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[BoxRow]:
        """Rows sorted by (track_id, frame)."""
        return iter(sorted(self._rows.values(), key=lambda r: (r.track_id, r.frame)))

    def get(self, track_id: int, frame: int) -> BoxRow | None:
        return self._rows.get((track_id, frame))

    def track_ids(self) -> list[int]:
        return sorted({track for track, _ in self._rows})

    def keyframes(self, track_id: int) -> list[int]:
        """Frames of the protected boxes of ``track_id``, in order (propagation starts and stops at them)."""
        return sorted(f for (t, f), row in self._rows.items() if t == track_id and is_protected(row))

    def on_frame(self, frame: int) -> list[BoxRow]:
        return sorted((r for (_, f), r in self._rows.items() if f == frame), key=lambda r: r.track_id)

    def accepts(self, row: BoxRow) -> bool:
        """Whether :meth:`merge` would store ``row``: any row may fill an empty slot or replace an
        unprotected box; only a protected row may replace a protected one."""
        old = self._rows.get((row.track_id, row.frame))
        return old is None or not is_protected(old) or is_protected(row)

    def merge(self, rows: Iterable[BoxRow]) -> list[BoxRow]:
        """Store the rows :meth:`accepts`; return them (the others are dropped)."""
        taken = [row for row in rows if self.accepts(row)]
        for row in taken:
            self._rows[(row.track_id, row.frame)] = row
        return taken
