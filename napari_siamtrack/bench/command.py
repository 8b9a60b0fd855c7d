"""``siamtrack bench``: the command-line front of the benchmark suite."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..io.sequences import find_sequences
from .report import save_plots, tables, write_json
from .review import evaluate
from .suite import run_suite
from .trackers import OPENCV_TRACKERS, OpenCVTracker, SiamTracker, opencv_available

#: The two fixed halves of a sequence set that cross-validation chooses on and reports on.
HALVES = ("A", "B")


def add_arguments(bench: argparse.ArgumentParser) -> None:
    bench.add_argument("data", type=Path, nargs="+", help="sequence folders, or folders of them")
    bench.add_argument("--out", type=Path, default=Path("siamtrack-bench"),
                       help="folder for report.json, table.txt, success.png and precision.png")
    bench.add_argument("--sequences", nargs="+", metavar="NAME", help="only these sequences")
    bench.add_argument("--exclude", nargs="+", default=[], metavar="NAME", help="leave these out")
    bench.add_argument(
        "--baselines", nargs="*", choices=OPENCV_TRACKERS, metavar="NAME",
        help=f"OpenCV trackers to run alongside ({', '.join(OPENCV_TRACKERS)}; default: all of them "
        "when OpenCV contrib is installed; give the option with no name for none)",
    )
    bench.add_argument("--effort", action="store_true",
                       help="also measure labelling effort (interpolation, assisted by this tracker "
                       "and by CSRT, and the keyframe workflow of the plugin) at IoU 0.5 and 0.7")
    bench.add_argument("--review", action="store_true",
                       help="also measure how well the review confidence finds wrong boxes (ROC AUC for "
                       "IoU >= 0.5, precision and recall of 'uncertain'); per-frame data in review.json")
    bench.add_argument("--threads", type=int, help="CPU threads for torch and OpenCV")
    bench.add_argument(
        "--half", choices=HALVES,
        help="only one of two fixed halves of the sequences (sorted by name, alternating: A takes the "
        "1st, 3rd, …): report a setting chosen on the other half (benchmarks/crossval.py)",
    )


def run(args: argparse.Namespace, make_tracker) -> int:
    """Run the suite; ``make_tracker()`` builds this project's :class:`~napari_siamtrack.Tracker`."""
    sequences = [s for root in args.data for s in find_sequences(root)]
    if args.sequences:
        unknown = set(args.sequences) - {s.name for s in sequences}
        if unknown:
            raise ValueError(f"no such sequence(s): {', '.join(sorted(unknown))}")
        sequences = [s for s in sequences if s.name in args.sequences]
    sequences = [s for s in sequences if s.name not in args.exclude]
    if args.half:
        sequences = half(sequences, args.half)
    if not sequences:
        raise ValueError("no sequences left to benchmark")
    baselines = _baselines(args.baselines)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
        if baselines:
            import cv2

            cv2.setNumThreads(args.threads)
    tracker = make_tracker()
    trackers = [SiamTracker(tracker), *(OpenCVTracker(name) for name in baselines)]
    effort = tuple(t.name for t in trackers if t.name in ("SiamFC+", "CSRT")) if args.effort else ()
    records = [] if args.review else None
    report = run_suite(
        sequences, trackers, effort_trackers=effort, review=records, workflow=tracker if args.effort else None
    )
    report["tracker"] = {
        "weights": str(args.weights) if args.weights else "shipped",
        "precision": tracker.precision,
        "device": str(tracker.device),
        "config": tracker.config.to_dict(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    if records is not None:
        write_json({"records": records}, args.out / "review.json")
        report["review"] = evaluate(records)
    text = tables(report)
    print(text)
    write_json(report, args.out / "report.json")
    (args.out / "table.txt").write_text(text + "\n")
    try:
        plots = save_plots(report, args.out)
    except ImportError:
        plots = []
        print("matplotlib is not installed: no plots (pip install 'napari-siamtrack[bench]')")
    print(f"wrote {args.out / 'report.json'}, {args.out / 'table.txt'}" + "".join(f", {p}" for p in plots))
    return 0


def half(sequences: list, which: str) -> list:
    """Half ``which`` ("A" or "B") of ``sequences``: sorted by name, A the 1st, 3rd, …, B the others."""
    ordered = sorted(sequences, key=lambda s: s.name)
    return ordered[HALVES.index(which) :: 2]


def _baselines(asked: list[str] | None) -> list[str]:
    if asked is None:
        if opencv_available():
            return list(OPENCV_TRACKERS)
        print("OpenCV contrib is not installed: no baselines (pip install 'napari-siamtrack[bench]')")
        return []
    if asked and not opencv_available():
        raise ValueError("the baselines need OpenCV contrib: pip install 'napari-siamtrack[bench]'")
    return asked
