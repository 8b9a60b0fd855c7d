"""Headless tracking of one or several boxes through a frame source, as CSV rows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ..io.box_csv import BoxRow
from ..io.sources import FrameSource


class TrackingError(ValueError):
    """A tracking request that cannot run (too few frames, start frame out of range …)."""


def track_forward(
    tracker,
    source: FrameSource,
    boxes: Sequence[Sequence[float]],
    start: int = 0,
    stop: int | None = None,
    track_ids: Sequence[int] | None = None,
) -> Iterator[list[BoxRow]]:
    """Track ``boxes`` (x, y, w, h) drawn on frame ``start`` forward to frame ``stop`` (exclusive).

    Yields the rows of one frame at a time, first the manual keyframes of ``start`` (score 1.0), then the
    tracked boxes of every later frame. ``track_ids`` name the boxes' tracks (default 1…K, in the order
    given). Frames are read lazily, one at a time.
    """
    ids = list(range(1, len(boxes) + 1)) if track_ids is None else [int(t) for t in track_ids]
    if len(ids) != len(boxes) or len(set(ids)) != len(ids):
        raise TrackingError(f"track ids {ids} must be distinct, one per box ({len(boxes)} boxes)")
    n = len(source)
    if n < 2:
        raise TrackingError(f"{source.path} has {n} frame; tracking needs at least 2")
    stop = n if stop is None else stop
    if not 0 <= start < n:
        raise TrackingError(f"start frame {start} is outside 0…{n - 1}")
    if not start < stop <= n:
        raise TrackingError(f"stop frame {stop} must be after the start frame {start} and at most {n}")
    if start == n - 1:
        raise TrackingError(f"frame {start} is the last frame: there is nothing after it to track")
    frames = source.iter_frames(start, stop)
    _, first = next(frames)
    tracker.init(first, [list(b) for b in boxes])
    yield [
        BoxRow(start, track, *map(float, box), score=1.0, source="manual", keyframe=True)
        for track, box in zip(ids, boxes)
    ]
    for index, frame in frames:
        found, scores = tracker.update(frame)
        yield [
            BoxRow(index, track, *map(float, box), score=float(score), source="tracked", keyframe=False)
            for track, box, score in zip(ids, found, scores)
        ]
