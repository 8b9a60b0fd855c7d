"""MOT 1.1 ground truth as CVAT writes it: ``gt/gt.txt`` and ``gt/labels.txt``, in a folder or a zip.

``gt.txt`` has one line per box, sorted by frame then track::

    frame, track_id, x, y, w, h, not_ignored, class_id, visibility

with 1-based frames, the box's top-left corner and size in pixels, ``class_id`` the 1-based line of the
box's label in ``labels.txt``, and ``not_ignored`` and ``visibility`` 1 for a visible box. An outside box
is written with both 0 (evaluation tools leave such boxes out) and read back as outside. MOT has no
keyframes, scores or sources: every box reads as a person's keyframe (as CVAT reads MOT).

Reading takes a zip or a folder holding ``gt/gt.txt``, or a ``gt.txt`` file; lines may have 6 to 10
fields (a missing class reads as no label, missing flags as 1). Without ``labels.txt`` class ids are the
MOT Challenge classes (1 pedestrian … 12 reflection).
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..atomic import atomic_folder, atomic_path
from ..box_csv import BoxRow, checked_rows, row_problem
from .common import UNLABELLED, FormatError, Loaded, Video, Written, class_names, left_out, number

TITLE = "MOT 1.1"
GT, LABELS = "gt/gt.txt", "gt/labels.txt"
#: The MOT Challenge's classes, for files without labels.txt.
MOT_CLASSES = (
    "pedestrian", "person on vehicle", "car", "bicycle", "motorbike", "non motorized vehicle",
    "static person", "distractor", "occluder", "occluder on the ground", "occluder full", "reflection",
)  # fmt: skip


def write_mot(
    path: str | os.PathLike,
    rows: Iterable[BoxRow],
    video: Video | None = None,
    classes: Sequence[str] | None = None,
) -> Written:
    """Write ``gt/gt.txt`` and ``gt/labels.txt`` into the folder ``path``, or into a zip when ``path``
    ends in ``.zip`` (the archive CVAT imports), atomically. ``video`` is not needed (MOT holds no frame
    size); it is taken so that every writer is called alike."""
    path = Path(path)
    rows = checked_rows(path, rows)
    names = class_names(rows, classes)
    lines = [
        ",".join([
            str(r.frame + 1), str(r.track_id), number(r.x), number(r.y), number(r.w), number(r.h),
            "0" if r.outside else "1", str(names.index(r.label or UNLABELLED) + 1),
            "0" if r.outside else "1",
        ])
        for r in sorted(rows, key=lambda r: (r.frame, r.track_id))
    ]  # fmt: skip
    files = {GT: "".join(line + "\n" for line in lines), LABELS: "".join(name + "\n" for name in names)}
    if path.suffix.lower() == ".zip":
        with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in files.items():
                archive.writestr(name, text)
    else:
        with atomic_folder(path) as tmp:
            (tmp / "gt").mkdir()
            for name, text in files.items():
                (tmp / name).write_text(text, encoding="utf-8")
    return Written([path], left_out(TITLE, rows, {"track_id", "outside", "label"}))


def looks_like(path: str | os.PathLike) -> bool:
    """Whether ``path`` holds MOT ground truth (a zip or folder with ``gt/gt.txt``, or a ``gt.txt``)."""
    path = Path(path)
    if path.is_dir():
        return (path / GT).is_file() or (path / "gt.txt").is_file()
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                return any(n == GT or n.endswith("/" + GT) for n in archive.namelist())
        except (OSError, zipfile.BadZipFile):
            return False
    return path.name == "gt.txt" and path.is_file()


def read_mot(path: str | os.PathLike) -> Loaded:
    """Read MOT ground truth (see the module docstring); a problem raises :class:`FormatError` naming the
    file and line."""
    path = Path(path)
    gt_name, gt_text, labels_text = _open(path)
    labels = [line.strip() for line in labels_text.splitlines()] if labels_text is not None else None
    names = [n for n in labels if n] if labels is not None else list(MOT_CLASSES)
    rows: list[BoxRow] = []
    first_line: dict[tuple[int, int], int] = {}
    for line_no, line in enumerate(gt_text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = _parse(line, names)
        except ValueError as exc:
            raise FormatError(f"{gt_name}, line {line_no}: {exc}") from None
        key = (row.frame, row.track_id)
        if key in first_line:
            raise FormatError(
                f"{gt_name}, line {line_no}: a second box for track {row.track_id} on frame {row.frame + 1} "
                f"(first on line {first_line[key]})"
            )
        first_line[key] = line_no
        rows.append(row)
    note = ""
    if rows:
        note = f"{TITLE} has no keyframes or scores: every box was read as a keyframe"
    return Loaded(sorted(rows, key=lambda r: (r.track_id, r.frame)), note)


def _open(path: Path) -> tuple[str, str, str | None]:
    """(name of gt.txt for messages, its text, the text of labels.txt or None)."""
    try:
        if path.is_dir():
            gt = path / GT if (path / GT).is_file() else path / "gt.txt"
            return _read_pair(gt)
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
                gt = next((n for n in names if n == GT or n.endswith("/" + GT)), None)
                if gt is None:
                    raise FormatError(f"{path}: the archive holds no {GT}")
                labels = gt.removesuffix("gt.txt") + "labels.txt"
                text = _decode(path, archive.read(gt))
                label_text = _decode(path, archive.read(labels)) if labels in names else None
                return f"{path}:{gt}", text, label_text
        return _read_pair(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise FormatError(f"{path}: cannot read it as MOT ground truth: {exc}") from None


def _read_pair(gt: Path) -> tuple[str, str, str | None]:
    labels = gt.with_name("labels.txt")
    text = _decode(gt, gt.read_bytes())
    return str(gt), text, _decode(labels, labels.read_bytes()) if labels.is_file() else None


def _decode(path: Path, data: bytes) -> str:
    try:
        return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline=None).read()
    except UnicodeDecodeError as exc:
        raise FormatError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _parse(line: str, names: list[str]) -> BoxRow:
    fields = [f.strip() for f in line.split(",")]
    if not 6 <= len(fields) <= 10:
        raise ValueError(f"expected 6 to 10 comma-separated fields, got {len(fields)}")
    frame, track = _int("frame", fields[0]), _int("track id", fields[1])
    if frame < 1:
        raise ValueError(f"frame must be >= 1 (MOT frames count from 1), got {frame}")
    if track < 1:
        raise ValueError(
            f"track id must be >= 1, got {track}: rows without an identity are detections, not tracks"
        )
    x, y, w, h = (_float(name, text) for name, text in zip("xywh", fields[2:6]))
    not_ignored = _float("not-ignored flag", fields[6]) if len(fields) > 6 else 1.0
    class_id = _int("class id", fields[7]) if len(fields) > 7 else -1
    visibility = _float("visibility", fields[8]) if len(fields) > 8 else 1.0
    if class_id == -1:
        label = ""
    elif 1 <= class_id <= len(names):
        label = names[class_id - 1]
    else:
        raise ValueError(f"class id {class_id} is not a line of labels.txt (1…{len(names)})")
    row = BoxRow(
        frame - 1, track, x, y, w, h, 1.0, "manual", True, not_ignored == 0 and visibility == 0, label
    )
    problem = row_problem(row)
    if problem is not None:
        raise ValueError(problem)
    return row


def _int(name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {text!r}") from None


def _float(name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {text!r}") from None
