"""How well the review confidence finds wrong boxes: per-frame records of a one-pass run, the ROC AUC
of the tracker's raw score and of :func:`~napari_siamtrack.annotation.review.confidence` for "IoU >= 0.5",
and the precision and recall of "uncertain" (confidence below the review threshold).

A record is plain JSON (sequence name, frame size, ground truth, boxes, scores), so the analysis can be
redone without tracking again: ``python benchmarks/review.py OUT/review.json``.
"""

from __future__ import annotations

import numpy as np

from ..annotation.review import DEFAULT_THRESHOLD, MODEL, probability, run_features
from ..metrics import iou
from .ope import PassResult

#: The review threshold on the raw score before the confidence existed (for the "before" numbers).
RAW_THRESHOLD = 0.6


def pass_record(name: str, frame_size: tuple[int, int], truth: np.ndarray, result: PassResult) -> dict:
    """One sequence's pass as JSON-ready lists (NaN as None)."""

    def plain(values: np.ndarray) -> list:
        return [None if not np.isfinite(v) else float(v) for v in np.ravel(values)]

    return {
        "name": name,
        "frame_size": [int(frame_size[0]), int(frame_size[1])],
        "truth": [plain(row) for row in truth],
        "boxes": [plain(row) for row in result.boxes],
        "scores": plain(result.scores),
    }


def frame_table(records: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every annotated tracked frame of ``records``: (features, right, raw score, sequence index), where
    ``right`` is IoU >= 0.5 with the ground truth. Each pass is one run from the first frame's box."""
    features, right, scores, sequence = [], [], [], []
    for k, record in enumerate(records):
        truth = np.array(record["truth"], dtype=np.float64)
        boxes = np.array(record["boxes"], dtype=np.float64)
        raw = np.array(record["scores"], dtype=np.float64)
        start = int(np.flatnonzero(np.isfinite(boxes).all(axis=1))[0])
        tracked = slice(start + 1, len(boxes))
        f = run_features(raw[tracked])
        annotated = np.isfinite(truth[tracked]).all(axis=1)
        features.append(f[annotated])
        right.append(iou(boxes[tracked][annotated], truth[tracked][annotated]) >= 0.5)
        scores.append(raw[tracked][annotated])
        sequence.append(np.full(int(annotated.sum()), k))
    return np.vstack(features), np.concatenate(right), np.concatenate(scores), np.concatenate(sequence)


def roc_auc(values: np.ndarray, positive: np.ndarray) -> float:
    """Probability that a random positive has a higher value than a random negative (ties count half)."""
    values, positive = np.asarray(values, np.float64), np.asarray(positive, bool)
    n_pos, n_neg = positive.sum(), (~positive).sum()
    if not n_pos or not n_neg:
        return float("nan")
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values))
    sorted_values = values[order]
    _, first, counts = np.unique(sorted_values, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2.0  # 1-based average rank of each group of ties
    ranks[order] = np.repeat(average, counts)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def fit(features: np.ndarray, right: np.ndarray, l2: float = 1.0) -> dict:
    """Logistic regression (Newton's method, L2 penalty on standardised weights) in the form of
    :data:`~napari_siamtrack.annotation.review.MODEL`."""
    mean, std = features.mean(axis=0), features.std(axis=0) + 1e-9
    x = np.column_stack([(features - mean) / std, np.ones(len(features))])
    y = right.astype(np.float64)
    w = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    penalty[-1] = 1e-6  # (almost) no pull on the intercept; enough to keep Newton's step defined
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-x @ w))
        gradient = x.T @ (p - y) + penalty * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    weights = w[:-1] / std
    return {"weights": tuple(float(v) for v in weights), "intercept": float(w[-1] - weights @ mean)}


def halves(records: list[dict]) -> np.ndarray:
    """The fixed split for cross-validation: sequences in name order, alternately in half 0 and 1."""
    order = np.argsort([r["name"] for r in records])
    half = np.empty(len(records), dtype=np.int64)
    half[order] = np.arange(len(records)) % 2
    return half


def evaluate(
    records: list[dict],
    model: dict = MODEL,
    threshold: float = DEFAULT_THRESHOLD,
    raw_threshold: float = RAW_THRESHOLD,
) -> dict:
    """ROC AUC for "IoU >= 0.5" of the raw score and of the confidence, with the precision and recall
    of "uncertain" (a wrong box flagged; raw score below ``raw_threshold``, confidence below
    ``threshold``). The confidence is measured twice: with ``model`` (the shipped coefficients), and
    cross-validated: each half of the sequences (:func:`halves`) scored by a model fitted on the other."""
    features, right, scores, sequence = frame_table(records)
    half = halves(records)[sequence]
    crossed = np.full(len(right), np.nan)  # stays NaN for a half whose other half lacks right or wrong boxes
    for h in (0, 1):
        other = right[half != h]
        if other.any() and not other.all():
            crossed[half == h] = probability(features[half == h], fit(features[half != h], other))
    shipped = probability(features, model)
    return {
        "frames": len(right),
        "wrong": int((~right).sum()),
        "sequences": len(records),
        "raw score": _summary(scores, right, sequence, raw_threshold),
        "confidence, cross-validated": _summary(crossed, right, sequence, threshold),
        "confidence, shipped model": _summary(shipped, right, sequence, threshold),
        "model fitted on all": fit(features, right),
    }


def _summary(values: np.ndarray, right: np.ndarray, sequence: np.ndarray, threshold: float) -> dict:
    """AUC over all frames, and its mean over the sequences that have right and wrong boxes (how well the
    signal orders the boxes of one video); what flagging below ``threshold`` finds."""
    known = np.isfinite(values)
    if not known.any():
        return dict.fromkeys(("auc", "auc_per_sequence", "flagged", "precision", "recall"), float("nan")) | {
            "threshold": threshold
        }
    values, right, sequence = values[known], right[known], sequence[known]
    flagged = values < threshold
    wrong = ~right
    mixed = [k for k in np.unique(sequence) if 0 < right[sequence == k].sum() < (sequence == k).sum()]
    per_sequence = [roc_auc(values[sequence == k], right[sequence == k]) for k in mixed]
    return {
        "auc": roc_auc(values, right),
        "auc_per_sequence": float(np.mean(per_sequence)) if per_sequence else float("nan"),
        "threshold": threshold,
        "flagged": float(flagged.mean()),
        "precision": float((flagged & wrong).sum() / max(flagged.sum(), 1)),
        "recall": float((flagged & wrong).sum() / max(wrong.sum(), 1)),
    }


def review_table(result: dict) -> str:
    """The evaluation as a text table."""
    lines = [
        (
            f"Review on {result['frames']} annotated frames of {result['sequences']} sequences "
            f"({result['wrong']} with IoU < 0.5): ROC AUC for IoU >= 0.5, and 'uncertain' below the threshold"
        ),
        (
            f"{'signal':<30} {'AUC':>6} {'AUC/raw':>7} {'per video':>9} {'threshold':>9} {'flagged':>8} "
            f"{'precision':>9} {'recall':>7}"
        ),
    ]
    base = result["raw score"]["auc"]
    for name in ("raw score", "confidence, cross-validated", "confidence, shipped model"):
        r = result[name]
        lines.append(
            f"{name:<30} {r['auc']:6.3f} {r['auc'] / base:7.2f} {r['auc_per_sequence']:9.3f} "
            f"{r['threshold']:9.2f} {r['flagged']:8.1%} {r['precision']:9.1%} {r['recall']:7.1%}"
        )
    return "\n".join(lines)
