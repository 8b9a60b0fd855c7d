"""The ``siamtrack`` command line: track, convert, demo."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from .box_csv import BoxRow, write_csv


def _box(text: str) -> tuple[float, float, float, float]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"box {text!r} must be four numbers x,y,w,h") from None
    if len(values) != 4:
        raise argparse.ArgumentTypeError(f"box {text!r} must be four numbers x,y,w,h")
    return values  # type: ignore[return-value]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="siamtrack", description="SiamFC+ box tracking for video labelling."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    track = commands.add_parser(
        "track",
        help="track boxes through a video, a folder of frames or a multi-page TIFF",
        description="Track one or more boxes drawn on one frame forward to the last frame and write "
        "every box to a CSV file (columns: frame, track_id, x, y, w, h, score, source, keyframe; "
        "0-based frames and pixels).",
    )
    track.add_argument("input", type=Path, help="video file (mp4/avi/mov/…), folder of frames or TIFF")
    track.add_argument(
        "--box", type=_box, action="append", required=True, metavar="X,Y,W,H",
        help="box on the start frame, 0-based pixels (x = column of the top-left corner); repeat "
        "for several targets (track ids 1, 2, …)",
    )
    track.add_argument("--frame", type=int, default=0, help="0-based frame the boxes are drawn on")
    track.add_argument("--out", type=Path, required=True, help="CSV file to write")
    _add_model_options(track)

    convert = commands.add_parser(
        "convert",
        help="convert a SiamDW CIResNet22.pth checkpoint to this project's safetensors format",
    )
    convert.add_argument("checkpoint", type=Path)
    convert.add_argument("out", type=Path, help="the .safetensors file to write")
    convert.add_argument("--trust-pickle", action="store_true", help=_TRUST_HELP)

    demo = commands.add_parser(
        "demo", help="track the built-in sample video and compare with its ground truth"
    )
    demo.add_argument("--out", type=Path, default=Path("siamtrack-demo"), help="folder for the results")
    _add_model_options(demo)
    return parser


_TRUST_HELP = (
    "allow a checkpoint that holds Python objects besides tensors; loading such a file can run code, "
    "so only use this for files from a source you trust"
)


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--weights", type=Path, help="weights file (default: the shipped weights)")
    parser.add_argument(
        "--preset", help="tracker settings preset: default, otb2013, otb2015, vot2015, vot2016, vot2017"
    )
    parser.add_argument(
        "--device", help="cpu, cuda, cuda:N or mps (default: $NAPARI_SIAMTRACK_DEVICE, else the best)"
    )
    parser.add_argument("--trust-pickle", action="store_true", help=_TRUST_HELP)


def _tracker(args: argparse.Namespace, untrained: bool = False):
    """The tracker the options ask for; ``untrained``: a freshly initialised network instead."""
    from .config import TrackerConfig
    from .model import SiamFCPlus
    from .tracker import Tracker

    config = TrackerConfig.preset(args.preset) if args.preset else None
    if untrained:
        return Tracker.from_model(SiamFCPlus(), device=args.device, config=config)
    return Tracker(args.weights, device=args.device, config=config, trust_pickle=args.trust_pickle)


def _run_track(args: argparse.Namespace) -> int:
    from .sources import open_frames

    with open_frames(args.input) as source:
        tracker = _tracker(args)
        rows = _track_with_progress(tracker, source, args.box, args.frame)
    write_csv(args.out, rows)
    print(f"wrote {len(rows)} boxes to {args.out}")
    return 0


def _track_with_progress(tracker, source, boxes, start: int) -> list[BoxRow]:
    """Track with a progress bar; on Ctrl-C keep (and return) what was tracked so far."""
    from tqdm import tqdm

    from .track_frames import track_forward

    rows: list[BoxRow] = []
    with tqdm(total=len(source) - start, unit="frame", desc="tracking", file=sys.stderr) as bar:
        try:
            for frame_rows in track_forward(tracker, source, boxes, start):
                rows.extend(frame_rows)
                bar.update(1)
        except KeyboardInterrupt:
            print("interrupted: keeping the boxes tracked so far", file=sys.stderr)
    return rows


def _run_convert(args: argparse.Namespace) -> int:
    from .weights import load_weights, save_weights

    loaded = load_weights(args.checkpoint, trust_pickle=args.trust_pickle)
    save_weights(loaded.model, args.out, loaded.tracker_config, loaded.provenance)
    print(f"wrote {args.out} (input: {loaded.model.channel_order}, 0-255)")
    return 0


def _run_demo(args: argparse.Namespace) -> int:
    from .metrics import iou
    from .sample import make_sample, write_video
    from .sources import open_frames

    args.out.mkdir(parents=True, exist_ok=True)
    sample = make_sample()
    video = args.out / "sample.mp4"
    write_video(video, sample.frames)
    print(f"sample video: {video} ({len(sample.frames)} frames)")
    tracker = _demo_tracker(args)
    with open_frames(video) as source:
        rows = _track_with_progress(tracker, source, [tuple(sample.boxes[0])], 0)
    csv_path = write_csv(args.out / "boxes.csv", rows)
    found = np.array([[r.x, r.y, r.w, r.h] for r in rows])
    ious = iou(found, sample.boxes[: len(found)])
    print(f"wrote {csv_path}: {len(rows)} boxes")
    print(
        f"IoU with the ground truth: mean {ious.mean():.3f}, "
        f"frames with IoU >= 0.5: {(ious >= 0.5).sum()}/{len(ious)}"
    )
    return 0


def _demo_tracker(args: argparse.Namespace):
    """The requested tracker; an untrained network (with a warning) while no weights ship."""
    from .weights import SHIPPED_WEIGHTS

    if args.weights is not None or SHIPPED_WEIGHTS.is_file():
        return _tracker(args)
    print(
        f"warning: no trained weights at {SHIPPED_WEIGHTS}; the demo runs an UNTRAINED network, "
        "so its boxes are not meaningful. Pass --weights FILE to use trained weights.",
        file=sys.stderr,
    )
    return _tracker(args, untrained=True)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    run = {"track": _run_track, "convert": _run_convert, "demo": _run_demo}[args.command]
    try:
        return run(args)
    except ValueError as exc:  # every user-facing error of the package is a ValueError
        print(f"siamtrack {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
