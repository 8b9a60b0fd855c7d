"""COCO object detection JSON with the COCO-video additions for tracks:

- ``videos``: the one video (``id`` 1, ``name``, ``width``, ``height``, ``length``);
- ``images``: one per frame of the video (``id`` = frame + 1, ``video_id``, ``frame_id`` = the 0-based
  frame, ``file_name`` ``frame_000123.jpg``, ``width``, ``height``);
- ``annotations``: one per box, ``bbox`` ``[x, y, w, h]`` in pixels, ``area``, ``iscrowd`` 0,
  ``category_id``, ``track_id`` (ours), ``score``, and ``attributes`` as CVAT writes and reads them:
  ``track_id`` (CVAT's, counted from 0), ``keyframe`` and ``source`` (``manual``, or ``semi-auto`` for a
  tracker's box);
- ``categories``: ``id`` from 1, ``name``.

Outside boxes are left out (COCO has no visibility). With ``images=True`` the frames are written to
``images/`` beside the JSON file. Reading takes the frame from ``frame_id``, else from the digits of
``file_name``; the track from ``track_id``, else ``attributes.track_id`` (+1) or ``instance_id``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..atomic import atomic_folder, atomic_path
from ..box_csv import BoxRow, checked_rows, row_problem
from .common import (
    DECIMALS,
    UNLABELLED,
    FormatError,
    Loaded,
    Video,
    Written,
    class_names,
    frame_name,
    left_out,
    write_images,
)

TITLE = "COCO"
#: CVAT's names for where a box came from, and ours.
CVAT_SOURCES = {"manual": "manual", "tracked": "semi-auto"}


def write_coco(
    path: str | os.PathLike,
    rows: Iterable[BoxRow],
    video: Video | None = None,
    classes: Sequence[str] | None = None,
    images: bool = False,
) -> Written:
    """Write ``rows`` of ``video`` (whose size and length it needs) to the JSON file ``path``
    atomically; with ``images``, the frames to ``images/`` beside it first."""
    path = Path(path)
    rows = checked_rows(path, rows)
    video = video or Video()
    height, width = video.need_size(TITLE)
    names = class_names(rows, classes)
    kept = [r for r in sorted(rows, key=lambda r: (r.frame, r.track_id)) if not r.outside]
    beyond = [r for r in kept if r.frame >= video.n_frames]
    if beyond:
        raise FormatError(
            f"{path}: track {beyond[0].track_id} has a box on frame {beyond[0].frame}, after the "
            f"video's last frame {video.n_frames - 1}"
        )
    document = {
        "info": {"description": f"{video.name}: boxes tracked with napari-siamtrack", "version": "1.0"},
        "licenses": [],
        "categories": [{"id": k + 1, "name": name, "supercategory": ""} for k, name in enumerate(names)],
        "videos": [{"id": 1, "name": video.name, "width": width, "height": height, "length": video.n_frames}],
        "images": [
            {"id": f + 1, "video_id": 1, "frame_id": f, "file_name": f"{frame_name(f)}.jpg",
             "width": width, "height": height}
            for f in range(video.n_frames)
        ],
        "annotations": [_annotation(k + 1, r, names) for k, r in enumerate(kept)],
    }  # fmt: skip
    written = [path]
    if images:
        with atomic_folder(path.parent / "images") as tmp:
            write_images(tmp, video)
        written.append(path.parent / "images")
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(document, separators=(",", ":")), encoding="utf-8")
    return Written(written, left_out(TITLE, rows, {"track_id", "keyframe", "score", "label"}))


def _annotation(ann_id: int, r: BoxRow, names: list[str]) -> dict:
    bbox = [round(v, DECIMALS) for v in (r.x, r.y, r.w, r.h)]
    return {
        "id": ann_id, "image_id": r.frame + 1, "category_id": names.index(r.label or UNLABELLED) + 1,
        "bbox": bbox, "area": round(bbox[2] * bbox[3], DECIMALS), "iscrowd": 0, "segmentation": [],
        "track_id": r.track_id, "score": r.score,
        "attributes": {"track_id": r.track_id - 1, "keyframe": r.keyframe, "source": CVAT_SOURCES[r.source]},
    }  # fmt: skip


def looks_like(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a JSON file that starts like a COCO document."""
    path = Path(path)
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    try:
        with open(path, "rb") as file:
            head = file.read(1 << 16)
    except OSError:
        return False
    return head.lstrip().startswith(b"{") and (b'"images"' in head or b'"annotations"' in head)


def read_coco(path: str | os.PathLike) -> Loaded:
    """Read the tracked boxes of a COCO JSON file; a problem raises :class:`FormatError` naming the file
    and the line (syntax) or the element (content)."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise FormatError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(f"{path}: cannot read it: {exc}") from None
    where = "the document"
    try:
        _expect(isinstance(document, dict), "a COCO file is a JSON object")
        categories = {}
        for k, category in enumerate(_list(document, "categories")):
            where = f"categories[{k}]"
            categories[_get(category, "id", int)] = _get(category, "name", str).strip()
        frames = {}
        for k, image in enumerate(_list(document, "images")):
            where = f"images[{k}]"
            frames[_get(image, "id", int)] = _frame_of(image)
        rows, seen = [], set()
        for k, ann in enumerate(_list(document, "annotations")):
            where = f"annotations[{k}]"
            row = _row(ann, frames, categories)
            _expect(
                (row.frame, row.track_id) not in seen,
                f"a second box for track {row.track_id} on frame {row.frame}",
            )
            seen.add((row.frame, row.track_id))
            rows.append(row)
    except ValueError as exc:
        raise FormatError(f"{path}, {where}: {exc}") from None
    return Loaded(sorted(rows, key=lambda r: (r.track_id, r.frame)))


def _row(ann: object, frames: dict[int, int], categories: dict[int, str]) -> BoxRow:
    _expect(isinstance(ann, dict), "an annotation is a JSON object")
    image_id, category_id = _get(ann, "image_id", int), _get(ann, "category_id", int)
    _expect(image_id in frames, f"image_id {image_id} is not an image of the file")
    _expect(category_id in categories, f"category_id {category_id} is not a category of the file")
    bbox = _get(ann, "bbox", list)
    _expect(len(bbox) == 4 and all(_is_number(v) for v in bbox), f"bbox must be four numbers, got {bbox!r}")
    attributes = ann.get("attributes") or {}
    _expect(isinstance(attributes, dict), "attributes must be a JSON object")
    if "track_id" in ann:
        track = _get(ann, "track_id", int)
    elif "track_id" in attributes:
        track = _get(attributes, "track_id", int) + 1
    elif "instance_id" in ann:
        track = _get(ann, "instance_id", int)
    else:
        raise ValueError("the annotation has no track_id: a COCO file without track ids holds no tracks")
    keyframe = _get(attributes, "keyframe", bool) if "keyframe" in attributes else True
    source = attributes.get("source", "manual" if keyframe else "semi-auto")
    _expect(
        source in ("manual", "semi-auto", "auto", "file"),
        f"attributes.source {source!r} is not a CVAT source",
    )
    score = _get(ann, "score", float) if "score" in ann else 1.0
    outside = _get(attributes, "outside", bool) if "outside" in attributes else False
    row = BoxRow(frames[image_id], track, *map(float, bbox), float(score),
                 "manual" if source in ("manual", "file") else "tracked", keyframe, outside, categories[category_id])  # fmt: skip
    problem = row_problem(row)
    _expect(problem is None, problem or "")
    return row


def _frame_of(image: object) -> int:
    _expect(isinstance(image, dict), "an image is a JSON object")
    if "frame_id" in image:
        frame = _get(image, "frame_id", int)
    else:
        digits = re.findall(r"\d+", Path(_get(image, "file_name", str)).stem)
        _expect(
            bool(digits), f"file_name {image['file_name']!r} holds no frame number, and there is no frame_id"
        )
        frame = int(digits[-1])
    _expect(frame >= 0, f"frame {frame} must be >= 0")
    return frame


def _list(document: dict, key: str) -> list:
    value = document.get(key, [])
    _expect(isinstance(value, list), f"{key!r} must be a list")
    return value


def _get(obj: dict, key: str, kind: type):
    _expect(key in obj, f"it lacks {key!r}")
    value = obj[key]
    ok = (
        _is_number(value)
        if kind is float
        else isinstance(value, kind) and (kind is bool or not isinstance(value, bool))
    )
    _expect(ok, f"{key!r} must be {'a number' if kind is float else kind.__name__}, got {value!r}")
    return value


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _expect(condition: bool, problem: str) -> None:
    if not condition:
        raise ValueError(problem)
