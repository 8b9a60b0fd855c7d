"""Run every tracker (and, optionally, every effort protocol) over a set of sequences, one sequence
at a time (its frames are read once and shared), into one JSON-ready report."""

from __future__ import annotations

import numpy as np

from ..io.sequences import Sequence
from .effort import assisted_effort, interpolation_effort
from .ope import (
    PRECISION_AT,
    PRECISION_THRESHOLDS,
    SUCCESS_THRESHOLDS,
    one_pass,
    precision_curve,
    success_curve,
)
from .review import pass_record
from .workflow import NAME as WORKFLOW
from .workflow import keyframe_workflow_effort

TAUS = (0.5, 0.7)


def run_suite(
    sequences: list[Sequence],
    trackers: list,
    effort_trackers: tuple[str, ...] = (),
    taus: tuple[float, ...] = TAUS,
    log=print,
    review: list | None = None,
    workflow=None,
) -> dict:
    """``trackers``: :class:`~.trackers.BenchTracker` objects (the first is the one under test).
    ``effort_trackers``: names of those that also run the tracker-assisted effort protocol; when it is
    empty, no effort is measured. ``workflow``, when given with them, is the multi-target tracker the
    keyframe workflow annotator propagates with (:mod:`~.workflow`). ``review``, when given, receives
    the per-frame boxes and scores of the first tracker's pass over each sequence
    (:func:`~.review.pass_record`)."""
    per_sequence: dict[str, dict] = {t.name: {} for t in trackers}
    protocols = ("interpolation", *effort_trackers, *((WORKFLOW,) if workflow is not None else ()))
    effort: dict[str, dict] = {f"{tau:g}": {name: {} for name in protocols} for tau in taus}
    for seq in sequences:
        frames = [seq.read(i) for i in range(len(seq))]
        truth = seq.boxes
        for tracker in trackers:
            result = one_pass(tracker, frames, truth)
            success, precision = success_curve(result.boxes, truth), precision_curve(result.boxes, truth)
            per_sequence[tracker.name][seq.name] = {
                "auc": float(success.mean()),
                "precision": float(precision[int(PRECISION_AT)]),
                "fps": result.fps,
                "frames": result.frames,
                "seconds": result.seconds,
                "success_curve": success.tolist(),
                "precision_curve": precision.tolist(),
            }
            if review is not None and tracker is trackers[0]:
                review.append(pass_record(seq.name, frames[0].shape[:2], truth, result))
            log(
                f"{seq.name:<28} {tracker.name:<8} AUC {success.mean():.3f}  "
                f"P@20 {precision[int(PRECISION_AT)]:.3f}  {result.fps:6.1f} frames/s"
            )
        if effort_trackers:
            for tau in taus:
                key = f"{tau:g}"
                e = interpolation_effort(truth, tau)
                effort[key]["interpolation"][seq.name] = {"boxes": e.boxes, "frames": e.frames}
                for tracker in trackers:
                    if tracker.name in effort_trackers:
                        e = assisted_effort(tracker, frames, truth, tau)
                        effort[key][tracker.name][seq.name] = {"boxes": e.boxes, "frames": e.frames}
                if workflow is not None:
                    e = keyframe_workflow_effort(workflow, frames, truth, tau)
                    effort[key][WORKFLOW][seq.name] = {"boxes": e.boxes, "frames": e.frames}
            log(f"{seq.name:<28} effort done")
    report = {
        "sequences": [s.name for s in sequences],
        "success_thresholds": SUCCESS_THRESHOLDS.tolist(),
        "precision_thresholds": PRECISION_THRESHOLDS.tolist(),
        "trackers": {name: _summary(runs) for name, runs in per_sequence.items()},
    }
    if effort_trackers:
        report["effort"] = {
            tau: {name: _effort_summary(runs) for name, runs in protocols.items()}
            for tau, protocols in effort.items()
        }
    return report


def _summary(runs: dict[str, dict]) -> dict:
    values = list(runs.values())
    seconds = sum(r["seconds"] for r in values)
    return {
        "auc": float(np.mean([r["auc"] for r in values])),
        "precision": float(np.mean([r["precision"] for r in values])),
        "fps": sum(r["frames"] for r in values) / seconds if seconds > 0 else float("inf"),
        "success_curve": np.mean([r["success_curve"] for r in values], axis=0).tolist(),
        "precision_curve": np.mean([r["precision_curve"] for r in values], axis=0).tolist(),
        "sequences": runs,
    }


def _effort_summary(runs: dict[str, dict]) -> dict:
    boxes = sum(r["boxes"] for r in runs.values())
    frames = sum(r["frames"] for r in runs.values())
    return {
        "per_100_frames": float(np.mean([100.0 * r["boxes"] / r["frames"] for r in runs.values()])),
        "boxes": boxes,
        "frames": frames,
        "sequences": runs,
    }
