"""npe2 contributions (the functions ``napari.yaml`` names). Nothing here imports napari or Qt when the
module loads; a message about what a format left out goes to napari's notifications when it is written."""

from __future__ import annotations

from functools import partial
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
    return read_boxes_csv if "track_id" in header else None  # a damaged boxes file is named, not skipped


def read_boxes_csv(path) -> list[tuple]:
    from .layer_boxes import layer_kwargs

    name = Path(path).name.removesuffix(".csv").removesuffix(".boxes")
    kwargs = layer_kwargs(read_csv(path), name=name)
    return [(kwargs.pop("data"), kwargs, "shapes")]


def write_boxes(path: str, data: list, attributes: dict) -> list[str]:
    """napari writer hook: every box of a boxes layer, one CSV row each, written atomically."""
    return [str(write_csv(path, _layer_rows(data, attributes)))]


def _layer_rows(data: list, attributes: dict) -> list:
    """The boxes of a boxes layer, or a ValueError naming the shapes that are not boxes."""
    from .layer_boxes import read_boxes, unique_boxes

    boxes, repeated = unique_boxes(read_boxes(data, attributes["shape_type"], attributes["features"]))
    problems = boxes.problems + repeated
    if problems:
        listed = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise ValueError(f"cannot export layer {attributes.get('name', '')!r}: {listed}")
    return boxes.rows


def write_mot(path: str, layer_data: list) -> list[str]:
    """napari writer hook: MOT 1.1 ground truth (a zip, or a folder for a path without extension)."""
    return _write_format("mot", path, layer_data)


def write_cvat(path: str, layer_data: list) -> list[str]:
    """napari writer hook: CVAT for video 1.1 XML."""
    return _write_format("cvat", path, layer_data)


def write_yolo(path: str, layer_data: list) -> list[str]:
    """napari writer hook: a YOLO dataset folder with the frames (the video layer must be saved too)."""
    return _write_format("yolo", path, layer_data)


def write_coco(path: str, layer_data: list) -> list[str]:
    """napari writer hook: COCO JSON, with the frames in images/ beside it (the video layer must be saved
    too)."""
    return _write_format("coco", path, layer_data)


def _write_format(name: str, path: str, layer_data: list) -> list[str]:
    """Write the boxes layer among ``layer_data`` (with the video, when an image layer is there)."""
    from ..io.formats import WRITERS, Video

    (boxes,) = [(data, meta) for data, meta, kind in layer_data if kind == "shapes"]
    images = [(data, meta) for data, meta, kind in layer_data if kind == "image"]
    video = None
    if images:
        data, meta = images[0]
        frames = data[0] if meta.get("multiscale") else data
        video = Video.of_frames(meta.get("name", "video"), frames, meta.get("rgb"))
    options = {"images": True} if name in ("yolo", "coco") and video is not None else {}
    written = WRITERS[name](path, _layer_rows(*boxes), video, **options)
    _tell(written.note)
    return [str(p) for p in written.paths]


def get_mot_reader(path):
    """napari reader hook: MOT 1.1 ground truth (zip, folder or gt.txt) as a boxes layer."""
    return _format_reader("mot", path)


def get_cvat_reader(path):
    """napari reader hook: CVAT for video 1.1 XML (or CVAT's zip holding it) as a boxes layer."""
    return _format_reader("cvat", path)


def get_coco_reader(path):
    """napari reader hook: COCO JSON with track ids as a boxes layer."""
    return _format_reader("coco", path)


def _format_reader(name: str, path):
    from ..io.formats import SNIFFERS

    if isinstance(path, (str, Path)) and SNIFFERS[name](path):
        return partial(_read_format, name)
    return None


def _read_format(name: str, path) -> list[tuple]:
    from ..io.formats import READERS
    from .layer_boxes import layer_kwargs

    loaded = READERS[name](path)
    _tell(loaded.note)
    kwargs = layer_kwargs(loaded.rows, name=Path(path).name.split(".")[0] or "boxes")
    return [(kwargs.pop("data"), kwargs, "shapes")]


def _tell(note: str) -> None:
    if note:
        from napari.utils.notifications import show_info

        show_info(note)


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
