"""npe2 contributions (the functions ``napari.yaml`` names). Nothing here imports napari or Qt."""

from __future__ import annotations

from pathlib import Path

from ..io.box_csv import read_csv, write_csv
from ..io.sources import VIDEO_SUFFIXES


def get_video_reader(path):
    """napari reader hook: a lazy image layer for a video file (only the frames shown are decoded)."""
    if isinstance(path, (str, Path)) and Path(path).suffix.lower() in VIDEO_SUFFIXES:
        return read_video
    return None


def read_video(path) -> list[tuple]:
    from ..io.sources import open_frames
    from ..io.video_array import VideoArray

    video = VideoArray(open_frames(path))
    meta = {
        "name": Path(path).stem,
        "rgb": True,
        "contrast_limits": [0, 255],
        "metadata": {"path": str(path)},
    }
    return [(video, meta, "image")]


def get_boxes_reader(path):
    """napari reader hook: a box CSV (see :mod:`napari_siamtrack.io.box_csv`) as a boxes layer. A CSV
    whose header names ``track_id`` is taken to be one, so that a damaged file gets a message saying
    what is wrong with it; any other CSV is left to other readers."""
    if not isinstance(path, (str, Path)) or not str(path).lower().endswith(".csv"):
        return None
    try:
        with open(path, encoding="utf-8-sig") as file:
            header = [name.strip() for name in file.readline(4096).strip().split(",")]
    except (OSError, UnicodeDecodeError):
        return None
    return read_boxes_csv if "track_id" in header else None


def read_boxes_csv(path) -> list[tuple]:
    from .layer_boxes import layer_kwargs

    name = Path(path).name.removesuffix(".csv").removesuffix(".boxes")
    kwargs = layer_kwargs(read_csv(path), name=name)
    return [(kwargs.pop("data"), kwargs, "shapes")]


def write_boxes(path: str, data: list, attributes: dict) -> list[str]:
    """napari writer hook: every box of a boxes layer, one CSV row each, written atomically."""
    from .layer_boxes import read_boxes, unique_boxes

    boxes, repeated = unique_boxes(read_boxes(data, attributes["shape_type"], attributes["features"]))
    problems = boxes.problems + repeated
    if problems:
        listed = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise ValueError(f"cannot export layer {attributes.get('name', '')!r}: {listed}")
    return [str(write_csv(path, boxes.rows))]


def make_sample_data() -> list[tuple]:
    """The synthetic sample video (T, H, W, 3), and a boxes layer with the target's box on frame 0."""
    from ..io.box_csv import BoxRow
    from ..io.sample import make_sample
    from .layer_boxes import layer_kwargs

    sample = make_sample()
    kwargs = layer_kwargs(
        [BoxRow(0, 1, *map(float, sample.boxes[0]), 1.0, "manual", True)], name="sample boxes"
    )
    return [
        (sample.frames, {"name": "siamtrack sample", "rgb": True}, "image"),
        (kwargs.pop("data"), kwargs, "shapes"),
    ]
