"""Tracking speed, frame in -> box out (crops included), for 1 and several targets.

Prints one table of medians over repeated runs, with OpenCV's CSRT measured in the same run as the
baseline when opencv-contrib is installed. The network is the shipped one when it exists, else an
untrained network of the same architecture (speed does not depend on the weights' values).

    python benchmarks/speed.py --threads 2 --targets 1 4
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from napari_siamtrack.model import SiamFCPlus
from napari_siamtrack.sample import make_sample
from napari_siamtrack.tracker import Tracker
from napari_siamtrack.weights import SHIPPED_WEIGHTS


def _boxes(first: np.ndarray, k: int, width: int, height: int) -> np.ndarray:
    """The sample's target plus k - 1 same-sized boxes spread over the frame."""
    boxes = [first]
    for i in range(1, k):
        x = (first[0] + i * width / k) % (width - first[2])
        y = (first[1] + i * height / (k + 1)) % (height - first[3])
        boxes.append(np.array([x, y, first[2], first[3]]))
    return np.array(boxes)


def _median_fps(run, repeats: int, frames: int) -> float:
    return statistics.median(frames / run() for _ in range(repeats))


def time_siamtrack(tracker: Tracker, video, boxes: np.ndarray) -> float:
    tracker.init(video.frames[0], boxes)
    start = time.perf_counter()
    for frame in video.frames[1:]:
        tracker.update(frame)
    return time.perf_counter() - start


def time_csrt(video, boxes: np.ndarray) -> float:
    import cv2

    frames = [np.ascontiguousarray(f[..., ::-1]) for f in video.frames]  # OpenCV wants BGR
    trackers = []
    for box in boxes:
        t = cv2.TrackerCSRT_create()
        t.init(frames[0], tuple(int(round(v)) for v in box))
        trackers.append(t)
    start = time.perf_counter()
    for frame in frames[1:]:
        for t in trackers:
            t.update(frame)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for torch and OpenCV")
    parser.add_argument("--targets", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--frames", type=int, default=30, help="frames tracked per run")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--size", default="640x480", help="frame size WxH")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    width, height = (int(v) for v in args.size.split("x"))
    video = make_sample(n_frames=args.frames + 1, height=height, width=width)
    if SHIPPED_WEIGHTS.is_file():
        tracker, weights = Tracker(device=args.device), "shipped"
    else:
        torch.manual_seed(0)
        tracker, weights = Tracker.from_model(SiamFCPlus(), device=args.device), "untrained"
    try:
        import cv2

        cv2.setNumThreads(args.threads)
        has_csrt = hasattr(cv2, "TrackerCSRT_create")
    except ImportError:
        has_csrt = False

    time_siamtrack(tracker, video, _boxes(video.boxes[0], 1, width, height))  # warm-up
    rows = []
    for k in args.targets:
        boxes = _boxes(video.boxes[0], k, width, height)
        ours = _median_fps(lambda: time_siamtrack(tracker, video, boxes), args.repeats, args.frames)
        csrt = _median_fps(lambda: time_csrt(video, boxes), args.repeats, args.frames) if has_csrt else None
        rows.append((k, ours, csrt))

    print(
        f"\n{width}x{height} frames, {args.frames} frames x {args.repeats} runs (median), "
        f"{args.threads} threads, device {tracker.device}, {weights} weights, torch {torch.__version__}"
    )
    print(f"{'targets':>7} | {'siamtrack fps':>13} | {'ms/frame':>8} | {'CSRT fps':>8} | {'ours/CSRT':>9} | {'cost vs 1 target':>16}")
    one = rows[0][1]
    for k, ours, csrt in rows:
        csrt_txt = f"{csrt:8.1f}" if csrt else f"{'n/a':>8}"
        ratio = f"{ours / csrt:9.2f}" if csrt else f"{'n/a':>9}"
        print(f"{k:>7} | {ours:13.2f} | {1000 / ours:8.1f} | {csrt_txt} | {ratio} | {one / ours:15.2f}x")


if __name__ == "__main__":
    main()
