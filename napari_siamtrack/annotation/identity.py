"""Fixes to which track a box belongs to: set the track id of boxes, merge tracks, split a track, delete
a track's tracked boxes from a frame on.

Each function takes the :class:`~napari_siamtrack.annotation.track_table.TrackTable` as it is and returns
the rows it should hold afterwards, or raises :class:`IdentityError` (one line, nothing changed). None of
them drops a keyframe or changes a keyframe's box; only tracked boxes are ever removed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from ..io.box_csv import BoxRow
from .track_table import TrackTable, is_protected

#: Track ids are below this (napari keeps them as 32-bit integers).
MAX_TRACK = 2**31


class IdentityError(ValueError):
    """A track edit that cannot be done; the message says why."""


def new_track_id(table: TrackTable) -> int:
    """An id no track has: one more than the largest."""
    return max(table.track_ids(), default=0) + 1


def track_label(table: TrackTable, track_id: int) -> str:
    """The track's class label: the first one its boxes carry, or ``""``."""
    return next((r.label for r in table if r.track_id == track_id and r.label), "")


def set_track_id(table: TrackTable, boxes: Iterable[tuple[int, int]], new_id: int) -> list[BoxRow]:
    """Move the boxes named by (track_id, frame) to track ``new_id``, as its keyframes, replacing its
    tracked box on their frames. Refused when ``new_id`` already has a keyframe on one of those frames."""
    if not 1 <= new_id < MAX_TRACK:
        raise IdentityError(f"a track id is a whole number from 1 to {MAX_TRACK - 1}, not {new_id}")
    moving = [table.get(t, f) for t, f in sorted(set(boxes))]
    moving = [r for r in moving if r is not None and r.track_id != new_id]
    if not moving:
        raise IdentityError(f"the selected boxes are already track {new_id}")
    frames = [r.frame for r in moving]
    if len(set(frames)) < len(frames):
        twice = next(f for f in frames if frames.count(f) > 1)
        raise IdentityError(f"two of the selected boxes are on frame {twice}: a track has one box per frame")
    clash = [f for f in frames if (r := table.get(new_id, f)) is not None and is_protected(r)]
    if clash:
        raise IdentityError(f"track {new_id} already has a keyframe on frame {clash[0]}")
    label = track_label(table, new_id) if new_id in table.track_ids() else ""
    moved = [replace(r, track_id=new_id, keyframe=True, label=label or r.label) for r in moving]
    gone = {(r.track_id, r.frame) for r in moving} | {(new_id, f) for f in frames}
    return [r for r in table if (r.track_id, r.frame) not in gone] + moved


def merge_tracks(table: TrackTable, track_ids: Iterable[int]) -> list[BoxRow]:
    """Merge the tracks into the lowest of their ids, with its label (else the first label among them).
    On a frame where several have a box, the keyframe stays, else the tracked box with the highest score.
    Refused when two of them have a keyframe on the same frame."""
    ids = sorted(set(track_ids))
    if len(ids) < 2:
        raise IdentityError("select boxes of two or more tracks to merge them")
    rows = [r for r in table if r.track_id in ids]
    by_frame: dict[int, list[BoxRow]] = {}
    for row in rows:
        by_frame.setdefault(row.frame, []).append(row)
    target = ids[0]
    label = next((track_label(table, t) for t in ids if track_label(table, t)), "")
    kept = []
    for frame, here in sorted(by_frame.items()):
        keys = [r for r in here if is_protected(r)]
        if len(keys) > 1:
            both = " and ".join(str(r.track_id) for r in keys)
            raise IdentityError(
                f"tracks {both} both have a keyframe on frame {frame}: move or delete one first"
            )
        best = keys[0] if keys else max(here, key=lambda r: (r.score, -r.track_id))
        kept.append(replace(best, track_id=target, label=label))
    return [r for r in table if r.track_id not in ids] + kept


def split_track(table: TrackTable, track_id: int, frame: int, new_id: int | None = None) -> list[BoxRow]:
    """The boxes of ``track_id`` from ``frame`` on become track ``new_id`` (default: a new id)."""
    new_id = new_track_id(table) if new_id is None else new_id
    frames = [r.frame for r in table if r.track_id == track_id]
    if not any(f >= frame for f in frames):
        raise IdentityError(f"track {track_id} has no box from frame {frame} on")
    if not any(f < frame for f in frames):
        raise IdentityError(
            f"track {track_id} starts on frame {min(frames)}: nothing comes before to split from"
        )
    if new_id in table.track_ids():
        raise IdentityError(f"track {new_id} exists already")
    return [replace(r, track_id=new_id) if r.track_id == track_id and r.frame >= frame else r for r in table]


def delete_tracked_from(table: TrackTable, track_id: int, frame: int) -> list[BoxRow]:
    """Remove the tracked boxes (not the keyframes) of ``track_id`` from ``frame`` on."""
    gone = {(r.track_id, r.frame) for r in table if r.track_id == track_id and r.frame >= frame}
    gone = {key for key in gone if not is_protected(table.get(*key))}
    if not gone:
        raise IdentityError(f"track {track_id} has no tracked box from frame {frame} on")
    return [r for r in table if (r.track_id, r.frame) not in gone]
