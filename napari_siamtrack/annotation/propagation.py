"""Propagation: which frames to track from which keyframes (:func:`plan`), and tracking them
(:func:`propagate`).

The rules, for each track:

- A *keyframe* is a protected box (see :mod:`napari_siamtrack.annotation.track_table`). Tracking starts from a keyframe
  and fills the frames up to, not including, the track's next keyframe in the direction of travel, so a
  keyframe is never tracked over.
- ``start_from="frame"`` starts from the keyframes on the current frame. ``until="end"`` then carries on
  through every later keyframe (each restarts the tracker), ``until="next_keyframe"`` stops at the first
  one, ``until="frame"`` stops after ``until_frame``.
- ``start_from="all"`` starts from every keyframe of every track, so each gap between keyframes is filled;
  a gap already filled since its keyframes last changed is left as it is, unless ``full``
  (:mod:`napari_siamtrack.annotation.gaps`).
- From every keyframe, a gap between two visible keyframes (inside the requested range) is filled from
  both ends, whatever the direction: forward from the keyframe before it, then backward from the one
  after it: each frame keeps the forward box, and the backward run checks it (:mod:`.fusion`). The direction
  decides the gaps before the first and after the last keyframe, which have one end.
- ``direction="both"`` is forward plus backward; from the current frame, forward fills the gaps between
  keyframes and backward only the frames before the first keyframe, so no frame is tracked twice.
- With ``until="frame"`` and ``direction="both"``, ``until_frame`` bounds the side it lies on; the
  other side runs to the end of the video.
- An ``outside`` keyframe means the object is not visible from there until the track's next keyframe:
  that span is never tracked into, the keyframe is never tracked from, nor learnt from.
- A tracker that learns from examples (the online target model) starts each segment having seen the
  track's keyframes behind it as well (before its start when it runs forward, after it when it runs
  backward), up to :data:`MAX_EXAMPLES` of them, the nearest first: a correction helps the frames
  after it, and re-tracking the gap before it gives the same forward boxes as before up to it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby

import numpy as np

from ..io.box_csv import BoxRow
from .fusion import fuse
from .gaps import FilledGaps, Gap, GapKey, track_gaps
from .track_table import TrackTable

DIRECTIONS = ("forward", "backward", "both")
UNTIL = ("end", "next_keyframe", "frame")
START_FROM = ("frame", "all")

#: Backward runs read a block of frames in file order, then walk it in reverse (videos decode forwards).
_BACKWARD_BLOCK_BYTES = 64 * 2**20
#: The most keyframes of a track, besides its start, that a segment's tracker learns from.
MAX_EXAMPLES = 8

Box = tuple[float, float, float, float]


class PropagationError(ValueError):
    """A propagation request that cannot run; the message says what to do instead."""


@dataclass(frozen=True)
class PropagationRequest:
    """What the person asked for; ``frame`` is the frame they are on."""

    frame: int
    direction: str = "forward"
    until: str = "end"
    until_frame: int | None = None
    start_from: str = "frame"
    full: bool = False  #: with start_from="all", also re-track the gaps that are up to date

    def __post_init__(self) -> None:
        for name, allowed in (("direction", DIRECTIONS), ("until", UNTIL), ("start_from", START_FROM)):
            if getattr(self, name) not in allowed:
                raise PropagationError(
                    f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}"
                )
        if self.until == "frame" and self.until_frame is None:
            raise PropagationError('until="frame" needs until_frame')


@dataclass(frozen=True)
class Segment:
    """Track ``track_id`` from its keyframe ``box`` on frame ``start`` to frame ``stop`` (inclusive); the
    boxes found carry the keyframe's ``label``."""

    track_id: int
    start: int
    stop: int
    box: Box
    label: str = ""
    gap: GapKey | None = None  #: the key of the gap this segment fills whole, if it does
    #: The track's visible keyframes behind the run, as (frame, box), the nearest to ``start`` first.
    examples: tuple[tuple[int, Box], ...] = ()
    #: A backward pass over a gap the same propagation tracks forward first: its boxes are fused with
    #: the forward ones (:func:`~.fusion.fuse`).
    fuses: bool = False

    @property
    def step(self) -> int:
        return 1 if self.stop > self.start else -1

    def __len__(self) -> int:
        """Frames this segment fills."""
        return abs(self.stop - self.start)


@dataclass(frozen=True)
class Progress:
    """One tracked frame: its new boxes, how far the whole propagation has got, and the keys of the gaps
    whose last box this frame brought."""

    rows: tuple[BoxRow, ...]
    done: int
    total: int
    filled: tuple[GapKey, ...] = ()


def plan(
    table: TrackTable,
    request: PropagationRequest,
    n_frames: int,
    frame_size: tuple[int, int] | None = None,
    filled: FilledGaps | None = None,
) -> list[Segment]:
    """The segments that carry out ``request`` on a video of ``n_frames`` frames.

    ``frame_size`` (height, width), when given, is used to reject keyframes that lie outside the frame
    before any work starts. With ``start_from="all"``, gaps that ``filled`` holds as current are left
    out unless ``request.full``. Raises :class:`PropagationError` when there is nothing to start from.
    """
    f = request.frame
    if not 0 <= f < n_frames:
        raise PropagationError(f"frame {f} is outside the video (0…{n_frames - 1})")
    if request.until == "frame" and not 0 <= request.until_frame < n_frames:
        raise PropagationError(f"frame {request.until_frame} is outside the video (0…{n_frames - 1})")
    forward = request.direction in ("forward", "both")
    backward = request.direction in ("backward", "both")
    high, low = n_frames - 1, 0
    if request.until == "frame":
        n = request.until_frame
        if request.direction == "forward" and n <= f:
            raise PropagationError(f"frame {n} is not after the current frame {f}: choose a later frame")
        if request.direction == "backward" and n >= f:
            raise PropagationError(f"frame {n} is not before the current frame {f}: choose an earlier frame")
        high, low = (n, low) if n > f else (high, n)

    tracks = table.track_ids()
    if request.start_from == "frame":
        tracks = [t for t in tracks if f in table.keyframes(t)]
        if not tracks:
            frames = sorted({k for t in table.track_ids() for k in table.keyframes(t)})
            listed = ", ".join(map(str, frames[:8])) + (" …" if len(frames) > 8 else "")
            where = f" (keyframes are on frame {listed})" if frames else ""
            raise PropagationError(
                f"frame {f} has no keyframe{where}: go to a keyframe, draw a box here, "
                "or start from every keyframe"
            )
    elif not any(table.keyframes(t) for t in tracks):
        raise PropagationError("there are no keyframes yet: draw a box on a frame first")

    nearest = request.until == "next_keyframe" and request.start_from == "frame"
    segments = []
    for track in tracks:
        for gap in track_gaps(table, track, n_frames):
            start_ahead = gap.before.frame if gap.before is not None else None
            start_behind = gap.after.frame if gap.after is not None else None
            if gap.before is not None and gap.before.outside:
                continue  # an absent span: the object is not visible until the next keyframe
            ahead = forward and start_ahead is not None and start_ahead < high
            behind = backward and start_behind is not None and start_behind > low and not gap.after.outside
            if request.start_from == "frame":
                ahead = ahead and (start_ahead == f if nearest else start_ahead >= f)
                behind = behind and (start_behind == f if nearest else start_behind <= f)
            elif filled is not None and not request.full and filled.is_current(table, gap):
                continue
            elif _two_ended(gap, low, high):
                segments += [_fill(gap, +1, high, table), _fill(gap, -1, low, table, fuses=True)]
                continue
            else:  # before the first keyframe or after the last: one end
                behind = behind and not ahead
            if ahead:
                segments.append(_fill(gap, +1, high, table))
            if behind:
                segments.append(_fill(gap, -1, low, table))
    if frame_size is not None:
        _check_inside(segments, frame_size)
    return segments


def _two_ended(gap: Gap, low: int, high: int) -> bool:
    """Whether ``gap`` lies between two visible keyframes, both within ``low`` … ``high``."""
    before, after = gap.before, gap.after
    if before is None or after is None or after.outside:
        return False
    return low <= before.frame and after.frame <= high


def _fill(gap: Gap, step: int, limit: int, table: TrackTable, fuses: bool = False) -> Segment:
    """The segment filling ``gap`` from its keyframe before (``step=+1``) or after (``-1``), up to
    ``limit``; it carries the gap's key when it reaches the gap's end."""
    anchor, end = (gap.before, gap.last) if step > 0 else (gap.after, gap.first)
    stop = min(end, limit) if step > 0 else max(end, limit)
    return Segment(
        gap.track_id, anchor.frame, stop, _box(anchor), anchor.label, gap.key if stop == end else None,
        _examples(table, gap.track_id, anchor.frame, step), fuses,
    )


def _box(row: BoxRow) -> Box:
    return (row.x, row.y, row.w, row.h)


def _examples(table: TrackTable, track_id: int, start: int, step: int) -> tuple[tuple[int, Box], ...]:
    """The visible keyframes of ``track_id`` behind a run from ``start`` in direction ``step`` (before
    it when going forward), nearest first."""
    behind = (f for f in table.keyframes(track_id) if (f - start) * step < 0)
    frames = sorted(behind, key=lambda f: abs(f - start))
    rows = [table.get(track_id, f) for f in frames]
    return tuple((row.frame, _box(row)) for row in rows if not row.outside)[:MAX_EXAMPLES]


def _check_inside(segments: list[Segment], frame_size: tuple[int, int]) -> None:
    height, width = frame_size
    for s in segments:
        x, y, w, h = s.box
        if x >= width or y >= height or x + w <= 0 or y + h <= 0:
            raise PropagationError(
                f"the keyframe of track {s.track_id} on frame {s.start} lies outside the "
                f"{width}x{height} image: move it onto the image"
            )


def total_frames(segments: Sequence[Segment]) -> int:
    """Frames :func:`propagate` will track: one per frame per run (targets in one run share a frame)."""
    return sum(max(len(s) for s in run) for run in _runs(segments))


def _runs(segments: Sequence[Segment]):
    """Segments grouped into tracker runs: same start frame, same direction; forward runs first."""
    key = lambda s: (-s.step, s.start * s.step)
    return [list(run) for _, run in groupby(sorted(segments, key=key), key=key)]


def propagate(tracker, frames, segments: Sequence[Segment]) -> Iterator[Progress]:
    """Track every segment; yield one :class:`Progress` per tracked frame.

    ``tracker`` has ``init(frame, boxes)``, ``update(frame) -> (boxes, scores)`` and
    ``select_targets(indices)`` (see :class:`~napari_siamtrack.tracking.tracker.Tracker`); when its
    ``learns_from_examples`` is true, ``init`` also gets each segment's ``examples`` with their frames.
    ``frames`` is indexable by frame number (a NumPy, dask or
    :class:`~napari_siamtrack.io.video_array.VideoArray` stack); when it has ``iter_frames(start, stop)``
    that is used to read frames in order. Stopping the iteration stops the work at once; every row
    yielded so far is final, or replaced later in the same propagation by the checked box of a gap filled
    from both ends (forward runs come first, so the backward pass of such a gap checks the forward boxes
    kept here).
    """
    total, done = total_frames(segments), 0
    open_segments = Counter(s.gap for s in segments if s.gap is not None)
    forward_rows: dict[GapKey, dict[int, BoxRow]] = {s.gap: {} for s in segments if s.fuses}
    for run in _runs(segments):
        start, step = run[0].start, run[0].step
        last = max(len(s) for s in run)
        reader = _read(frames, start, start + step * last, step)
        _, first = next(reader)
        boxes = np.array([s.box for s in run], dtype=np.float64)
        if getattr(tracker, "learns_from_examples", False) and any(s.examples for s in run):
            tracker.init(first, boxes, examples=_example_views(frames, run))
        else:
            tracker.init(first, boxes)
        active = list(run)
        for index, frame in reader:
            boxes, scores = tracker.update(frame)
            found = (
                (s, BoxRow(index, s.track_id, *map(float, box), float(score), "tracked", False, label=s.label))
                for s, box, score in zip(active, np.asarray(boxes), np.asarray(scores))
            )
            rows = tuple(_kept(s, row, forward_rows) for s, row in found)
            done += 1
            filled = []
            for s in active:
                if s.stop == index and s.gap is not None:
                    open_segments[s.gap] -= 1
                    if not open_segments[s.gap]:
                        filled.append(s.gap)
            yield Progress(rows, done, total, tuple(filled))
            keep = [i for i, s in enumerate(active) if s.stop != index]
            if len(keep) < len(active) and keep:
                tracker.select_targets(keep)
                active = [active[i] for i in keep]


def batched(progress: Iterator[Progress], seconds: float, clock: Callable[[], float] = time.monotonic):
    """The items of ``progress`` joined into one per ``seconds`` (the first one and the last one at once):
    a viewer showing them then updates a few times a second, however fast frames are tracked."""
    rows: list[BoxRow] = []
    filled: list[GapKey] = []
    last = held = None  # when the last item went out; the last item taken and not yet sent
    try:
        for item in progress:
            rows.extend(item.rows)
            filled.extend(item.filled)
            held = item
            if last is None or clock() - last >= seconds:
                yield Progress(tuple(rows), item.done, item.total, tuple(filled))
                rows, filled, last, held = [], [], clock(), None
    except Exception:  # what was tracked before a failure (a frame that cannot be read) still goes out
        if held is not None:
            yield Progress(tuple(rows), held.done, held.total, tuple(filled))
        raise
    if held is not None:
        yield Progress(tuple(rows), held.done, held.total, tuple(filled))


def _kept(segment: Segment, row: BoxRow, forward_rows: dict[GapKey, dict[int, BoxRow]]) -> BoxRow:
    """``row`` as ``segment`` leaves it: kept for fusion when it is the forward pass of a gap filled from
    both ends, fused with the kept forward row when it is the backward pass."""
    rows = forward_rows.get(segment.gap)
    if rows is None:
        return row
    if not segment.fuses:
        rows[row.frame] = row
        return row
    forward = rows.pop(row.frame, None)
    return row if forward is None else fuse(forward, row)


def _example_views(frames, run: Sequence[Segment]) -> list[list[tuple[np.ndarray, Box]]]:
    """Each segment's examples as (frame image, box) pairs; a frame shared by several is read once."""
    images = {f: np.asarray(frames[f]) for f in sorted({f for s in run for f, _ in s.examples})}
    return [[(images[f], box) for f, box in s.examples] for s in run]


def _read(frames, first: int, last: int, step: int) -> Iterator[tuple[int, np.ndarray]]:
    """``(index, frame)`` from ``first`` to ``last`` inclusive, in the direction ``step``."""
    if step > 0:
        yield from _in_order(frames, first, last + 1)
        return
    frame_bytes = int(np.prod(frames.shape[1:])) * np.dtype(frames.dtype).itemsize
    block = max(1, _BACKWARD_BLOCK_BYTES // max(frame_bytes, 1))
    for high in range(first, last - 1, -block):
        yield from reversed(list(_in_order(frames, max(last, high - block + 1), high + 1)))


def _in_order(frames, start: int, stop: int) -> Iterator[tuple[int, np.ndarray]]:
    """Frames ``start:stop`` in file order, through ``frames.iter_frames`` when it has one."""
    iter_frames: Callable | None = getattr(frames, "iter_frames", None)
    if iter_frames is not None:
        yield from iter_frames(start, stop)
    else:
        for i in range(start, stop):
            yield i, np.asarray(frames[i])
