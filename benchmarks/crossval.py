"""Choose tracker settings by two-fold cross-validation, and report them on data that did not choose them.

The sequences are split into two fixed halves (``siamtrack bench --half``: sorted by name, alternating).
Every candidate setting runs the one-pass evaluation on every sequence (cached per candidate, so a
rerun only tracks what is new). Then, for each half, the candidate with the best mean AUC on that half
is reported on the *other* half; the cross-validated AUC is the mean of those two reports over all
sequences. The table also shows every candidate on each half, so what each part buys is visible.

    python benchmarks/crossval.py ../shared/data/val --exclude Dudek_first20 --threads 2 \\
        --candidate plain: --candidate model4:target_model=4 --candidate model8:target_model=8

A candidate is ``NAME:NAME=VALUE,NAME=VALUE`` (TrackerConfig fields on top of the weights' stored
settings; nothing after the colon: the stored settings as they are).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from napari_siamtrack.bench.command import HALVES, half
from napari_siamtrack.bench.ope import PRECISION_AT, one_pass, precision_curve, success_curve
from napari_siamtrack.bench.trackers import SiamTracker
from napari_siamtrack.cli import parse_setting
from napari_siamtrack.io.sequences import find_sequences
from napari_siamtrack.tracking.config import TrackerConfig
from napari_siamtrack.tracking.tracker import Tracker
from napari_siamtrack.tracking.weights import load_weights


def _candidate(text: str) -> tuple[str, dict]:
    name, _, settings = text.partition(":")
    return name, dict(parse_setting(item) for item in filter(None, settings.split(",")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path)
    parser.add_argument("--candidate", action="append", required=True, type=_candidate)
    parser.add_argument("--weights", type=Path)
    parser.add_argument("--exclude", nargs="*", default=[])
    parser.add_argument("--threads", type=int)
    parser.add_argument("--out", type=Path, default=Path("siamtrack-crossval"))
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    sequences = [s for s in find_sequences(args.data) if s.name not in args.exclude]
    stored = load_weights(args.weights).tracker_config or TrackerConfig()
    args.out.mkdir(parents=True, exist_ok=True)
    tag = (args.weights.stem if args.weights else "shipped")
    results = {}
    for name, values in args.candidate:
        path = args.out / f"{tag}-{name}.json"
        config = replace(stored, **values)
        cached = json.loads(path.read_text()) if path.is_file() else {}
        if cached.get("config") != config.to_dict():
            cached = {"config": config.to_dict(), "sequences": {}}
        todo = [s for s in sequences if s.name not in cached["sequences"]]
        if todo:
            tracker = SiamTracker(Tracker(args.weights, config=config))
            for seq in todo:
                frames = [seq.read(i) for i in range(len(seq))]
                began = time.perf_counter()
                result = one_pass(tracker, frames, seq.boxes)
                success = success_curve(result.boxes, seq.boxes)
                cached["sequences"][seq.name] = {
                    "auc": float(success.mean()),
                    "precision": float(precision_curve(result.boxes, seq.boxes)[int(PRECISION_AT)]),
                    "fps": result.fps,
                }
                print(f"{name:<16} {seq.name:<28} AUC {success.mean():.3f} ({time.perf_counter() - began:.0f} s)",
                      flush=True)
                path.write_text(json.dumps(cached, indent=1))
        results[name] = cached["sequences"]

    halves = {h: [s.name for s in half(sequences, h)] for h in HALVES}
    mean = {name: {h: float(np.mean([r[s]["auc"] for s in names])) for h, names in halves.items()}
            for name, r in results.items()}
    print(f"\n| candidate | AUC half A ({len(halves['A'])}) | AUC half B ({len(halves['B'])}) | AUC all |")
    print("|---|---:|---:|---:|")
    for name, r in results.items():
        everything = np.mean([r[s.name]["auc"] for s in sequences])
        print(f"| {name} | {mean[name]['A']:.3f} | {mean[name]['B']:.3f} | {everything:.3f} |")
    reported = []
    for chooser, other in (("A", "B"), ("B", "A")):
        best = max(mean, key=lambda n: mean[n][chooser])
        reported += [results[best][s]["auc"] for s in halves[other]]
        print(f"chosen on {chooser}: {best} (AUC {mean[best][chooser]:.3f} there); on {other}: {mean[best][other]:.3f}")
    print(f"cross-validated AUC (each half scored by the setting the other half chose): {np.mean(reported):.3f}")


if __name__ == "__main__":
    main()
