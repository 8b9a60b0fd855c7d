"""Review: how likely each tracked box is right, and where the runs of doubtful boxes are.

The tracker's score alone is a poor guide: a tracker that has jumped to a similar object (another
runner, another cell) can score high there, and a correct box can score low when the target blurs or
turns. :func:`confidences` reads each tracked box in the context of its run from a keyframe
(:func:`run_features`): its score, and the lowest score since the keyframe (a tracker that has lost its
target seldom finds it again). A logistic model (:data:`MODEL`) turns these into the probability that
the box overlaps the target with IoU >= 0.5, so the number means the same on every video. Keyframes
have confidence 1. :mod:`napari_siamtrack.bench.review` fits the model on tracking sequences and
measures how well it separates right from wrong boxes.
"""

from __future__ import annotations

from collections.abc import Iterable
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


def confidences(table: TrackTable) -> dict[tuple[int, int], float]:
    """Confidence of every box of ``table``, by (track_id, frame) (see :func:`confidence_values`)."""
    rows = list(table)
    values = confidence_values(
        [r.track_id for r in rows], [r.frame for r in rows], [r.score for r in rows],
        [is_protected(r) for r in rows],
    )
    return dict(zip(((r.track_id, r.frame) for r in rows), values.tolist()))


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
    out: list[tuple[int, int]] = []
    for f in sorted(set(frames)):
        if out and f == out[-1][1] + 1:
            out[-1] = (out[-1][0], f)
        else:
            out.append((f, f))
    return out


def uncertain_runs(
    table: TrackTable, threshold: float, confidence: dict[tuple[int, int], float] | None = None
) -> dict[int, list[tuple[int, int]]]:
    """Per track, the runs of frames whose box has confidence below ``threshold``."""
    confidence = confidences(table) if confidence is None else confidence
    flagged: dict[int, list[int]] = {}
    for (track, frame), value in confidence.items():
        if value < threshold:
            flagged.setdefault(track, []).append(frame)
    return {track: runs(frames) for track, frames in sorted(flagged.items())}


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
