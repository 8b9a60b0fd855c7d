"""A benchmark report as text tables, a JSON file and success / precision plots."""

from __future__ import annotations

import json
from pathlib import Path

from ..io.atomic import atomic_path
from .review import review_table
from .workflow import NAME as WORKFLOW

BASELINE = "CSRT"


def tables(report: dict) -> str:
    """The summary table (with ratios to CSRT when it ran), per-sequence AUC, and effort."""
    trackers = report["trackers"]
    base = trackers.get(BASELINE)
    lines = [f"{'tracker':<10} {'AUC':>6} {'P@20':>6} {'frames/s':>9}"
             + (f" {'AUC/CSRT':>9} {'fps/CSRT':>9}" if base else "")]
    for name, t in trackers.items():
        row = f"{name:<10} {t['auc']:6.3f} {t['precision']:6.3f} {t['fps']:9.1f}"
        if base:
            row += f" {t['auc'] / base['auc']:9.2f} {t['fps'] / base['fps']:9.2f}"
        lines.append(row)
    lines += ["", "AUC per sequence", f"{'sequence':<28}" + "".join(f"{n:>9}" for n in trackers)]
    for seq in report["sequences"]:
        lines.append(f"{seq:<28}" + "".join(f"{t['sequences'][seq]['auc']:9.3f}" for t in trackers.values()))
    for tau, protocols in report.get("effort", {}).items():
        lines += ["", f"Effort at IoU >= {tau}: boxes drawn per 100 frames (mean over sequences; total)"]
        for name, e in protocols.items():
            label = name if name in ("interpolation", WORKFLOW) else f"{name}-assisted"
            lines.append(f"{label:<22} {e['per_100_frames']:7.2f}   {e['boxes']:5d} of {e['frames']} frames")
    if "review" in report:
        lines += ["", review_table(report["review"])]
    return "\n".join(lines)


def write_json(report: dict, path: Path) -> None:
    """Write atomically (temporary file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(report, indent=1))


def save_plots(report: dict, folder: Path) -> list[Path]:
    """``success.png`` and ``precision.png`` in ``folder``, one line per tracker."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    plots = (
        ("success", "success_thresholds", "success_curve", "overlap threshold", "success rate", "AUC", "auc"),
        ("precision", "precision_thresholds", "precision_curve", "location error threshold (px)",
         "precision", "P@20", "precision"),
    )
    written = []
    for name, xs, curve, xlabel, ylabel, metric, key in plots:
        fig, ax = plt.subplots(figsize=(5, 4), dpi=120)
        ranked = sorted(report["trackers"].items(), key=lambda kv: -kv[1][key])
        for tracker, t in ranked:
            ax.plot(report[xs], t[curve], label=f"{tracker} [{metric} {t[key]:.3f}]")
        ax.set(xlabel=xlabel, ylabel=ylabel, ylim=(0, 1), xlim=(min(report[xs]), max(report[xs])),
               title=f"One-pass {name}, {len(report['sequences'])} sequences")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left" if name == "success" else "lower right", fontsize=8)
        fig.tight_layout()
        path = folder / f"{name}.png"
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    return written
