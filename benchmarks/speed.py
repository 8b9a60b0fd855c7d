"""Tracking speed, frame in -> box out (crops included), per precision and number of targets.

Prints one table of medians over repeated runs, with OpenCV's CSRT measured in the same run as the
baseline when opencv-contrib is installed (each of our runs followed by one of CSRT's; ours/CSRT is the
median of the ratios of those pairs), then the start-up time (a fresh process: import, weights,
template, first box). Uses the shipped weights.

    python benchmarks/speed.py --threads 2                 # CPU, 640x480, 1 and 8 targets
    python benchmarks/speed.py --device cuda --frames 300  # GPU
    python benchmarks/speed.py --threads 2 --steps --frames 80  # where a frame's time goes
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import replace

import numpy as np
import torch

from napari_siamtrack.cli import parse_setting
from napari_siamtrack.io.sample import make_sample
from napari_siamtrack.tracking.config import TrackerConfig
from napari_siamtrack.tracking.device import bf16_supported, resolve_device
from napari_siamtrack.tracking.quantize import int8_supported
from napari_siamtrack.tracking.tracker import Tracker
from napari_siamtrack.tracking.weights import load_weights

#: A fresh process that reports the seconds to import the package, to import the tracker (and torch
#: with it), and from Tracker() to the first tracked box; then the precision it chose.
_STARTUP = """
import sys, time
start = time.perf_counter()
import napari_siamtrack
imported = time.perf_counter()
assert "torch" not in sys.modules, "importing the package imported torch"
from napari_siamtrack import Tracker
import torch
torch_ready = time.perf_counter()
torch.set_num_threads({threads})
import numpy as np
frames = np.random.default_rng(0).integers(0, 256, (2, {height}, {width}, 3), dtype=np.uint8)
begin = time.perf_counter()
tracker = Tracker(device={device!r})
tracker.init(frames[0], ({width} / 2 - 40, {height} / 2 - 30, 80, 60))
tracker.update(frames[1])
print(imported - start, torch_ready - imported, time.perf_counter() - begin, tracker.precision)
"""


def _boxes(first: np.ndarray, k: int, width: int, height: int) -> np.ndarray:
    """The sample's target plus k - 1 same-sized boxes spread over the frame."""
    boxes = [first]
    for i in range(1, k):
        x = (first[0] + i * width / k) % (width - first[2])
        y = (first[1] + i * height / (k + 1)) % (height - first[3])
        boxes.append(np.array([x, y, first[2], first[3]]))
    return np.array(boxes)


def time_siamtrack(tracker: Tracker, frames, boxes: np.ndarray) -> float:
    tracker.init(frames[0], boxes)
    start = time.perf_counter()
    for frame in frames[1:]:
        tracker.update(frame)
    if tracker.device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def time_csrt(frames, boxes: np.ndarray) -> float:
    import cv2

    bgr = [np.ascontiguousarray(f[..., ::-1]) for f in frames]  # OpenCV wants BGR
    trackers = []
    for box in boxes:
        t = cv2.TrackerCSRT_create()
        t.init(bgr[0], tuple(round(v) for v in box))
        trackers.append(t)
    start = time.perf_counter()
    for frame in bgr[1:]:
        for t in trackers:
            t.update(frame)
    return time.perf_counter() - start


#: The tracker's steps timed by ``--steps``: (label, owner attribute path, method).
_STEPS = (
    ("backbone on the search crops", "", "_search_features"),
    ("wide re-detection (all of its own work)", "", "_redetect"),
    ("crops", "", "_crops"),
    ("correlation with the templates", "model.head", "forward"),
    ("target model response", "_filter", "respond"),
    ("target model update", "_filter", "update"),
    ("look-alike memory", "", "_remember_distractors"),
    ("template from the search features", "", "_features_at"),
)


def print_steps(tracker: Tracker, frames, boxes_per_count: list[np.ndarray]) -> None:
    """Mean milliseconds per frame of each step of :data:`_STEPS`, per number of targets. A step called
    inside another (re-detection crops, embeds and correlates) counts only in the outer one."""
    spent: dict[str, float] = {}
    depth = [0]

    def timed(label, method):
        def run(*args, **kwargs):
            depth[0] += 1
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                depth[0] -= 1
                if depth[0] == 0:
                    spent[label] = spent.get(label, 0.0) + time.perf_counter() - start
        return run

    for label, path, name in _STEPS:
        owner = tracker
        for part in filter(None, path.split(".")):
            owner = getattr(owner, part)
        if owner is not None:
            setattr(owner, name, timed(label, getattr(owner, name)))
    columns = []
    for boxes in boxes_per_count:
        time_siamtrack(tracker, frames[:4], boxes)  # warm-up
        spent.clear()
        total = time_siamtrack(tracker, frames, boxes)
        n = len(frames) - 1
        column = {label: spent.get(label, 0.0) * 1000 / n for label, _, _ in _STEPS}
        column["the rest (upsampling, peaks, bookkeeping)"] = total * 1000 / n - sum(column.values())
        column["frame"] = total * 1000 / n
        columns.append(column)
    print(f"\nms per frame, mean over {len(frames) - 1} frames ({tracker.precision})")
    print(f"{'step':<42}" + "".join(f"{f'{len(b)} target(s)':>14}" for b in boxes_per_count))
    for label in columns[0]:
        print(f"{label:<42}" + "".join(f"{c[label]:14.2f}" for c in columns))


def precisions(device: torch.device) -> list[str]:
    """Every precision this device runs with the shipped weights, fp32 first."""
    found = ["fp32"]
    if bf16_supported(device):
        found.append("bf16")
    if device.type == "cuda":
        found.append("fp16")
    if device.type == "cpu" and int8_supported() and load_weights(None).int8_ranges is not None:
        found.append("int8")
    return found


def startup(args, width: int, height: int) -> tuple[list[float], str]:
    """Medians over ``args.repeats`` fresh processes of the :data:`_STARTUP` times, and the precision."""
    code = _STARTUP.format(threads=args.threads, height=height, width=width, device=args.device)
    runs = []
    for _ in range(args.repeats):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        *times, precision = out.stdout.split()
        runs.append([float(t) for t in times])
    return [statistics.median(column) for column in zip(*runs)], precision


def _cpu() -> str:
    """The CPU's model name where the system says it, else its architecture."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for torch and OpenCV")
    parser.add_argument("--targets", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--precisions", nargs="+", help="default: every one the device runs")
    parser.add_argument("--frames", type=int, default=40, help="frames tracked per run")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--size", default="640x480", help="frame size WxH")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--weights", help="weights file (default: the shipped weights)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="settings",
                        help="change a tracker setting from the weights' own (as siamtrack --set); repeatable")
    parser.add_argument("--steps", action="store_true",
                        help="instead: where a frame's time goes, step by step, for each --targets count")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    width, height = (int(v) for v in args.size.split("x"))
    frames = make_sample(n_frames=args.frames + 1, height=height, width=width).frames
    first = make_sample(n_frames=2, height=height, width=width).boxes[0]
    try:
        import cv2

        cv2.setNumThreads(args.threads)
        has_csrt = hasattr(cv2, "TrackerCSRT_create")
    except ImportError:
        has_csrt = False

    config = load_weights(args.weights).tracker_config or TrackerConfig()
    config = replace(config, **dict(map(parse_setting, args.settings)))
    if args.steps:
        precision = (args.precisions or precisions(device))[-1]
        tracker = Tracker(args.weights, device=device, precision=precision, config=config)
        print_steps(tracker, frames, [_boxes(first, k, width, height) for k in args.targets])
        return
    rows = []  # (precision, targets, frames/s, CSRT frames/s, ours/CSRT), medians over the runs
    for precision in args.precisions or precisions(device):
        tracker = Tracker(args.weights, device=device, precision=precision, config=config)
        time_siamtrack(tracker, frames[:4], _boxes(first, 1, width, height))  # warm-up
        for k in args.targets:
            boxes = _boxes(first, k, width, height)
            ours, theirs = [], []
            for _ in range(args.repeats):  # run for run, so that a slow spell of the machine hits both
                ours.append(args.frames / time_siamtrack(tracker, frames, boxes))
                if has_csrt:
                    theirs.append(args.frames / time_csrt(frames, boxes))
            ratio = statistics.median(o / t for o, t in zip(ours, theirs)) if theirs else None
            rows.append((precision, k, statistics.median(ours), statistics.median(theirs) if theirs else None, ratio))

    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{_cpu()}, {args.threads} threads"
    changed = {k: v for k, v in config.to_dict().items() if v != TrackerConfig().to_dict()[k]}
    print(
        f"\n{width}x{height} frames, {args.frames} frames x {args.repeats} runs (median); {where}; "
        f"torch {torch.__version__}\ntracker settings (where not SiamDW's): "
        + ", ".join(f"{k}={v}" for k, v in changed.items())
    )
    header = (
        f"{'precision':>9} | {'targets':>7} | {'frames/s':>8} | {'ms/frame':>8} | {'vs fp32':>7} | "
        f"{'cost vs 1 target':>16} | {'CSRT frames/s':>13} | {'ours/CSRT':>9}"
    )
    print(header)
    print("-" * len(header))
    fp32 = {k: fps for p, k, fps, _, _ in rows if p == "fp32"}
    one = {p: fps for p, k, fps, _, _ in rows if k == args.targets[0]}
    for precision, k, fps, csrt, ratio in rows:
        base = f"{fps / fp32[k]:6.2f}x" if k in fp32 else f"{'n/a':>7}"
        theirs = f"{csrt:13.1f} | {ratio:9.2f}" if csrt is not None else f"{'n/a':>13} | {'n/a':>9}"
        print(
            f"{precision:>9} | {k:>7} | {fps:8.1f} | {1000 / fps:8.1f} | {base} | "
            f"{one[precision] / fps:15.2f}x | {theirs}"
        )

    (package, torch_import, first_box), precision = startup(args, width, height)
    print(
        f"\nstart-up, fresh process (median of {args.repeats}): import napari_siamtrack {package:.2f} s "
        f"(without torch); then import torch {torch_import:.2f} s; then weights + template + first "
        f"box {first_box:.2f} s ({precision})"
    )


if __name__ == "__main__":
    main()
