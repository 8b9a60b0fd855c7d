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
    """Confidence of every box of ``table``, by (track_id, frame).

    Each stretch of consecutive tracked frames is read as a run from the keyframe before it (forward),
    or, when there is none, from the keyframe after it (backward)."""
    out: dict[tuple[int, int], float] = {}
    by_track: dict[int, list] = {}
    for row in table:  # sorted by track, then frame
        by_track.setdefault(row.track_id, []).append(row)
    for track, rows in by_track.items():
        out.update({(track, r.frame): 1.0 for r in rows if is_protected(r)})
        for stretch in _stretches(rows):
            # a stretch is bounded by keyframes or by frames without a box
            if table.get(track, stretch[0].frame - 1) is None and table.get(track, stretch[-1].frame + 1):
                stretch = stretch[::-1]
            p = probability(run_features(np.array([r.score for r in stretch])))
            out.update({(track, r.frame): float(v) for r, v in zip(stretch, p)})
    return out


def _stretches(rows: list) -> list[list]:
    """Maximal runs of consecutive frames of tracked (unprotected) rows; ``rows`` sorted by frame."""
    out: list[list] = []
    for row in rows:
        if is_protected(row):
            continue
        if out and row.frame == out[-1][-1].frame + 1:
            out[-1].append(row)
        else:
            out.append([row])
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
