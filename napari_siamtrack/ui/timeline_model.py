"""What the track timeline shows, as plain data (no Qt): one lane per track with its confidence over
time, its keyframes, its runs of uncertain frames and the spans where it is absent; and the geometry
that maps frames to pixels and back. :mod:`napari_siamtrack.ui.timeline` draws it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..annotation.absence import absent_spans
from ..annotation.review import BoxReview

#: Pixels left of the lanes for the track ids.
LABEL_WIDTH = 36


@dataclass(frozen=True)
class Lane:
    """One track: ``frames`` with a box and their ``confidence``; ``keyframes``; ``uncertain`` runs and
    ``absent`` spans (first, last)."""

    track_id: int
    frames: np.ndarray
    confidence: np.ndarray
    keyframes: tuple[int, ...]
    uncertain: tuple[tuple[int, int], ...]
    absent: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Timeline:
    n_frames: int
    lanes: tuple[Lane, ...]

    def x_of(self, frame: float, width: int) -> float:
        """Pixel column of the centre of ``frame`` in a view ``width`` pixels wide."""
        span = max(width - LABEL_WIDTH, 1)
        return LABEL_WIDTH + (frame + 0.5) * span / max(self.n_frames, 1)

    def frame_at(self, x: float, width: int) -> int:
        """The frame under pixel column ``x`` (clamped to the video)."""
        span = max(width - LABEL_WIDTH, 1)
        frame = int(np.floor((x - LABEL_WIDTH) * max(self.n_frames, 1) / span))
        return min(max(frame, 0), max(self.n_frames - 1, 0))

    def lane_at(self, y: float, height: int) -> Lane | None:
        """The lane under pixel row ``y`` when the lanes fill ``height`` pixels."""
        if not self.lanes or not 0 <= y < height:
            return None
        return self.lanes[min(int(y * len(self.lanes) / height), len(self.lanes) - 1)]

    def line(self, lane: Lane, width: int) -> list[np.ndarray]:
        """``lane``'s confidence line in a view ``width`` pixels wide: a (K, 2) array of (x, confidence)
        points per run of consecutive frames, at most the lowest and the highest confidence per pixel
        column, so a line over thousands of frames costs what the view is wide and a one-frame dip
        still shows."""
        frames, values = lane.frames, lane.confidence
        if not len(frames):
            return []
        x = self.x_of(frames, width)
        run = np.cumsum(np.r_[0, np.diff(frames) != 1])
        cell = run * (1 << 32) + np.floor(x).astype(np.int64)  # a run's frames in one pixel column
        first = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]])
        low, high = np.minimum.reduceat(values, first), np.maximum.reduceat(values, first)
        points = np.column_stack([np.repeat(x[first], 2), np.column_stack([low, high]).ravel()])
        return np.split(points, 2 * np.flatnonzero(np.diff(run[first])) + 2)

    def ticks(self, width: int, spacing: int = 70) -> list[int]:
        """Frames to label on the ruler: multiples of 1, 2 or 5 x 10^k, at least ``spacing`` pixels apart."""
        per_frame = max(width - LABEL_WIDTH, 1) / max(self.n_frames, 1)
        step = next(m * 10**k for k in range(12) for m in (1, 2, 5) if m * 10**k * per_frame >= spacing)
        return list(range(0, self.n_frames, step))


def build_timeline(boxes: BoxReview, threshold: float, n_frames: int) -> Timeline:
    """The timeline of ``boxes`` in a video of ``n_frames`` frames (at least as long as its last box)."""
    n_frames = max(n_frames, int(boxes.frames.max(initial=-1)) + 1)
    run_lists = boxes.uncertain_runs(threshold)
    lanes = []
    for track_id in boxes.track_ids():
        track = boxes.track(track_id)
        lanes.append(
            Lane(
                track_id,
                track.frames,
                track.confidence,
                tuple(track.frames[track.protected].tolist()),
                tuple(run_lists.get(track_id, ())),
                tuple(absent_spans(track, track_id, n_frames)),
            )
        )
    return Timeline(n_frames, tuple(lanes))
