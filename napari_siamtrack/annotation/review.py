"""Review: how likely each tracked box is right, and where the runs of doubtful boxes are.

The tracker's score alone is a poor guide: a tracker that has jumped to a similar object (another
runner, another cell) can score high there, and a correct box can score low when the target blurs or
turns. :func:`confidence_values` reads each tracked box in the context of its run from a keyframe
(:func:`run_features`): its score, and the lowest score since the keyframe (a tracker that has lost its
target seldom finds it again). A logistic model (:data:`MODEL`) turns these into the probability that
the box overlaps the target with IoU >= 0.5, so the number means the same on every video. Keyframes
have confidence 1. :mod:`napari_siamtrack.bench.review` fits the model on tracking sequences and
measures how well it separates right from wrong boxes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from .track_table import TrackTable, is_protected

#: Boxes whose confidence is below this are "uncertain": more likely wrong than right.
DEFAULT_THRESHOLD = 0.5

#: Names of the columns :func:`run_features` returns.
FEATURES = ("score", "lowest")

#: Weights (one per feature) and intercept of the logistic model, fitted with the shipped weights and
#: settings on the 14 validation sequences with ``python benchmarks/review.py review.json --fit``.
MODEL = {"weights": (8.142, 1.525), "intercept": -5.258}


def run_features(scores: np.ndarray) -> np.ndarray:
    """Features of each box of a run from a keyframe, given the scores (T,) in the order they were
    tracked. Returns (T, len(FEATURES)): the tracker's score, and the lowest score since the keyframe
    (this frame included)."""
    scores = np.asarray(scores, np.float64)
    return np.column_stack([scores, np.minimum.accumulate(scores) if len(scores) else scores])


def probability(features: np.ndarray, model: dict = MODEL) -> np.ndarray:
    """The logistic model's probability that each box is right."""
    z = np.asarray(features, np.float64) @ np.asarray(model["weights"]) + model["intercept"]
    return 1.0 / (1.0 + np.exp(-z))


@dataclass(frozen=True)
class BoxReview:
    """Every box's confidence, as arrays with one entry per (track, frame), sorted by track, then frame:
    ``protected`` boxes are a person's (keyframes, manual boxes), ``outside`` ones mark the object
    absent."""

    tracks: np.ndarray
    frames: np.ndarray
    confidence: np.ndarray
    protected: np.ndarray
    outside: np.ndarray

    @classmethod
    def of(cls, table: TrackTable) -> BoxReview:
        """The review of every box of ``table`` (see :func:`confidence_values`)."""
        rows = list(table)  # sorted by (track_id, frame)
        tracks = np.array([r.track_id for r in rows], np.int64)
        frames = np.array([r.frame for r in rows], np.int64)
        protected = np.array([is_protected(r) for r in rows], bool)
        values = confidence_values(tracks, frames, [r.score for r in rows], protected)
        return cls(tracks, frames, values, protected, np.array([r.outside for r in rows], bool))

    def by_key(self) -> dict[tuple[int, int], float]:
        """The confidence of each box by (track_id, frame)."""
        return dict(zip(zip(self.tracks.tolist(), self.frames.tolist()), self.confidence.tolist()))

    def track_ids(self) -> list[int]:
        return np.unique(self.tracks).tolist()

    def track(self, track_id: int) -> BoxReview:
        """The boxes of ``track_id``, in frame order."""
        first, end = np.searchsorted(self.tracks, [track_id, track_id + 1])
        return BoxReview(*(column[first:end] for column in vars(self).values()))

    def uncertain_runs(self, threshold: float) -> dict[int, list[tuple[int, int]]]:
        """Per track, the runs of frames whose box has confidence below ``threshold``."""
        below = self.confidence < threshold
        tracks, frames = self.tracks[below], self.frames[below]
        bounds = np.r_[0, np.flatnonzero(np.diff(tracks)) + 1, len(tracks)]
        return {int(tracks[a]): runs(frames[a:b]) for a, b in pairwise(bounds.tolist()) if b > a}


def confidences(table: TrackTable) -> dict[tuple[int, int], float]:
    """Confidence of every box of ``table``, by (track_id, frame) (see :func:`confidence_values`)."""
    return BoxReview.of(table).by_key()


def confidence_values(tracks, frames, scores, protected) -> np.ndarray:
    """Confidence of each box, given one value per box (at most one box per track and frame).

    Protected boxes (keyframes) have confidence 1. Each stretch of consecutive tracked frames is read as
    a run from the keyframe before it (forward), or, when its first frame follows no box, from the
    keyframe after it (backward)."""
    tracks, frames = np.asarray(tracks, np.int64), np.asarray(frames, np.int64)
    scores, protected = np.asarray(scores, np.float64), np.asarray(protected, bool)
    out = np.ones(len(frames))
    if protected.all():
        return out
    order = np.lexsort((frames, tracks))
    t, f, p = tracks[order], frames[order], protected[order]
    follows = np.zeros(len(f), bool)  # the row before is the same track's previous frame
    follows[1:] = (t[1:] == t[:-1]) & (f[1:] == f[:-1] + 1)
    tracked = np.flatnonzero(~p)
    starts = ~p & ~(follows & np.r_[False, ~p[:-1]])
    stretch = np.cumsum(starts)[tracked]
    bounds = np.flatnonzero(np.r_[True, stretch[1:] != stretch[:-1], True])
    for first, end in pairwise(bounds.tolist()):
        rows = order[tracked[first:end]]
        last = tracked[end - 1] + 1
        if not follows[tracked[first]] and last < len(f) and follows[last]:
            rows = rows[::-1]  # a box follows the stretch but none comes before it: run backward
        out[rows] = probability(run_features(scores[rows]))
    return out


def runs(frames: Iterable[int]) -> list[tuple[int, int]]:
    """Runs of consecutive frames, as (first, last) pairs, in order."""
    frames = np.unique(np.fromiter(frames, np.int64))
    if not len(frames):
        return []
    breaks = np.flatnonzero(np.diff(frames) != 1)
    return list(zip(frames[np.r_[0, breaks + 1]].tolist(), frames[np.r_[breaks, len(frames) - 1]].tolist()))


def next_run_start(run_lists: dict[int, list[tuple[int, int]]], frame: int, step: int = 1) -> int | None:
    """The first frame of the nearest run of uncertain frames that starts after ``frame`` (``step=-1``:
    before it), wrapping around the ends; ``None`` when there is no run."""
    starts = sorted({first for track_runs in run_lists.values() for first, _ in track_runs})
    if not starts:
        return None
    if step > 0:
        later = [f for f in starts if f > frame]
        return later[0] if later else starts[0]
    earlier = [f for f in starts if f < frame]
    return earlier[-1] if earlier else starts[-1]
