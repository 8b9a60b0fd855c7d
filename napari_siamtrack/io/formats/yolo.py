"""YOLO detection labels (write only), in a folder::

    classes.txt                  one class name per line; line k (0-based) is class k
    labels/frame_000000.txt      one line per box: class x_centre y_centre width height
    images/frame_000000.jpg      with images=True: the frames themselves
    data.yaml                    with images=True: the dataset file Ultralytics trains from

Every frame of the video gets a label file (empty when the frame has no box, so it counts as
background). Coordinates are fractions of the frame's width and height; boxes are clipped to the frame,
and outside boxes are left out. YOLO has no track identities, keyframes or scores.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..atomic import atomic_folder
from ..box_csv import BoxRow, checked_rows
from .common import (
    UNLABELLED,
    Video,
    Written,
    class_names,
    frame_name,
    left_out,
    number,
    plural,
    write_images,
)

TITLE = "YOLO"
#: Decimals of the normalised coordinates: under 1/1000 pixel on frames up to 100,000 pixels wide.
DECIMALS = 8


def write_yolo(
    path: str | os.PathLike,
    rows: Iterable[BoxRow],
    video: Video | None = None,
    classes: Sequence[str] | None = None,
    images: bool = False,
) -> Written:
    """Write a YOLO dataset of ``video`` (whose size and length it needs) into the folder ``path``; its
    files replace those of the same name there, all at the end, so a failure changes nothing."""
    path = Path(path)
    rows = checked_rows(path, rows)
    video = video or Video()
    height, width = video.need_size(TITLE)
    names = class_names(rows, classes)
    lines: dict[int, list[str]] = defaultdict(list)
    clipped = beyond = 0
    for r in sorted(rows, key=lambda r: (r.frame, r.track_id)):
        if r.outside:
            continue
        if r.frame >= video.n_frames:
            beyond += 1
            continue
        x0, y0 = max(r.x, 0.0), max(r.y, 0.0)
        x1, y1 = min(r.x + r.w, float(width)), min(r.y + r.h, float(height))
        if x1 <= x0 or y1 <= y0:
            beyond += 1
            continue
        clipped += (x0, y0, x1, y1) != (r.x, r.y, r.x + r.w, r.y + r.h)
        values = ((x0 + x1) / 2 / width, (y0 + y1) / 2 / height, (x1 - x0) / width, (y1 - y0) / height)
        lines[r.frame].append(
            " ".join([str(names.index(r.label or UNLABELLED))] + [number(v, DECIMALS) for v in values])
        )
    with atomic_folder(path) as tmp:
        (tmp / "labels").mkdir()
        for frame in range(video.n_frames):
            (tmp / "labels" / f"{frame_name(frame)}.txt").write_text(
                "".join(f"{line}\n" for line in lines[frame])
            )
        (tmp / "classes.txt").write_text("".join(f"{name}\n" for name in names), encoding="utf-8")
        if images:
            write_images(tmp / "images", video)
            names_yaml = "".join(f"  {k}: {json.dumps(name)}\n" for k, name in enumerate(names))
            (tmp / "data.yaml").write_text(
                f"train: images\nval: images\nnames:\n{names_yaml}", encoding="utf-8"
            )
    extra = []
    if clipped:
        extra.append(f"the parts of {plural(clipped, 'box')} beyond the frame (clipped)")
    if beyond:
        extra.append(f"{plural(beyond, 'box')} off the frame or after the video's last frame")
    return Written([path], left_out(TITLE, rows, {"label"}, extra))
