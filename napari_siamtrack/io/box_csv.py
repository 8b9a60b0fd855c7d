"""The CSV file format for labelled boxes: one row per box, one box per (frame, track_id).

Columns, in this order (extra columns are ignored when reading):

- ``frame``: 0-based frame index (integer >= 0)
- ``track_id``: identity of the tracked object (integer >= 1)
- ``x``: column of the box's top-left corner, in pixels, 0-based
- ``y``: row of the box's top-left corner, in pixels, 0-based
- ``w``: box width in pixels (> 0)
- ``h``: box height in pixels (> 0)
- ``score``: tracker confidence in [0, 1]; 1.0 for manual boxes
- ``source``: ``manual`` (drawn or corrected by a person) or ``tracked`` (predicted by the tracker)
- ``keyframe``: ``true`` if the box is a keyframe of its track, else ``false``
- ``outside``: ``true`` if the object is not visible from this box's frame until the track's next keyframe
  (CVAT's meaning; the box keeps the last known position), else ``false``
- ``label``: the track's class label (``car``, ``mouse``, ``cell``), text on one line; empty when unset

Files are UTF-8 with a header line and rows sorted by (track_id, frame). Floats are written with the shortest
text that reads back as the identical value. When reading, a byte-order mark and Windows line ends are
accepted, ``keyframe`` and ``outside`` also accept ``1``/``0`` and any letter case, and files without the
``outside`` or ``label`` column (older files) read as ``false`` and empty. Values napari cannot hold are
refused: coordinates and sizes beyond :data:`MAX_PIXELS`, frames from :data:`MAX_FRAMES` on (napari keeps
a box's frame as a 32-bit float) and track ids from 2**31 on.
"""

from __future__ import annotations

import csv
import math
import numbers
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .atomic import atomic_path

COLUMNS = ("frame", "track_id", "x", "y", "w", "h", "score", "source", "keyframe", "outside", "label")
#: Columns a file may lack, and the value each then reads as.
OPTIONAL = {"outside": "false", "label": ""}
REQUIRED = tuple(name for name in COLUMNS if name not in OPTIONAL)
SOURCES = ("manual", "tracked")
#: The largest coordinate or size a box may have, in pixels, and the first frame number it may not have.
MAX_PIXELS, MAX_FRAMES = 1e7, 2**24
_MAX_TRACK = 2**31

#: Rows formatted between two chances for other threads to run.
_CHUNK = 250
_BOOLS = {"true": True, "1": True, "false": False, "0": False}


@dataclass(frozen=True)
class BoxRow:
    """One box of one track on one frame; see the module docstring for the meaning of each field."""

    frame: int
    track_id: int
    x: float
    y: float
    w: float
    h: float
    score: float
    source: str
    keyframe: bool
    outside: bool = False
    label: str = ""


class BoxCsvError(ValueError):
    """A box CSV file or a row to write breaks the schema; the message names the file and the line or row."""


def row_problem(row: BoxRow) -> str | None:
    """What makes ``row`` invalid, or None."""
    for name in ("frame", "track_id"):
        if not isinstance(getattr(row, name), numbers.Integral):
            return f"{name} must be an integer, got {getattr(row, name)!r}"
    if row.frame < 0:
        return f"frame must be >= 0, got {_short(row.frame)}"
    if row.track_id < 1:
        return f"track_id must be >= 1, got {_short(row.track_id)}"
    if row.frame >= MAX_FRAMES:
        return f"frame must be below {MAX_FRAMES}, got {_short(row.frame)}"
    if row.track_id >= _MAX_TRACK:
        return f"track_id must be below {_MAX_TRACK}, got {_short(row.track_id)}"
    for name in ("x", "y", "w", "h", "score"):
        if not math.isfinite(getattr(row, name)):
            return f"{name} must be a finite number, got {getattr(row, name)}"
        if name != "score" and abs(getattr(row, name)) > MAX_PIXELS:
            return f"{name} must be within {MAX_PIXELS:g} pixels, got {getattr(row, name):g}"
    if row.w <= 0 or row.h <= 0:
        return f"w and h must be > 0, got w={row.w}, h={row.h}"
    if not 0 <= row.score <= 1:
        return f"score must be in [0, 1], got {row.score}"
    if row.source not in SOURCES:
        return f"source must be one of {', '.join(SOURCES)}, got {_short(row.source)}"
    return label_problem(row.label)


def label_problem(label: object) -> str | None:
    """What makes ``label`` unusable as a class label, or None."""
    if not isinstance(label, str):
        return f"label must be text, got {_short(label)}"
    if not label.isprintable():
        return f"label must be printable text on one line, got {_short(label)}"
    if label != label.strip():
        return f"label must not start or end with a space, got {_short(label)}"
    return None


def _short(value) -> str:
    """``value`` for a one-line message: its repr, cut to 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _format_row(row: BoxRow) -> list[str]:
    floats = (row.x, row.y, row.w, row.h, row.score)
    return [
        str(int(row.frame)),
        str(int(row.track_id)),
        *(repr(float(v)) for v in floats),
        row.source,
        "true" if row.keyframe else "false",
        "true" if row.outside else "false",
        row.label,
    ]


def checked_rows(path: str | os.PathLike, rows: Iterable[BoxRow]) -> list[BoxRow]:
    """``rows`` sorted by (track_id, frame), each checked against the schema before ``path`` is written:
    a bad row or a second box for one (frame, track_id) raises :class:`BoxCsvError` naming ``path``."""
    rows = sorted(rows, key=lambda r: (r.track_id, r.frame))
    seen: set[tuple[int, int]] = set()
    for row in rows:
        problem = row_problem(row)
        if problem is None and (row.frame, row.track_id) in seen:
            problem = f"duplicate box for frame {row.frame}, track_id {row.track_id}"
        if problem is not None:
            raise BoxCsvError(f"{path}: cannot write {row}: {problem}")
        seen.add((row.frame, row.track_id))
    return rows


def write_csv(path: str | os.PathLike, rows: Iterable[BoxRow]) -> Path:
    """Write ``rows`` to ``path`` atomically, sorted by (track_id, frame); return the path.

    The rows are validated first. The file is written to a temporary file next to ``path``, synced to disk and
    then renamed over ``path``, so a failure leaves any existing file untouched.
    """
    path = Path(path)
    rows = checked_rows(path, rows)
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(COLUMNS)
        for start in range(0, len(rows), _CHUNK):
            writer.writerows(_format_row(row) for row in rows[start : start + _CHUNK])
            time.sleep(0)  # lets another thread waiting for the interpreter lock (a viewer) have it
        file.flush()
        os.fsync(file.fileno())
    return path


def _parse(kind: type[int | float], name: str, text: str) -> int | float:
    try:
        return kind(text)
    except ValueError:
        expected = "an integer" if kind is int else "a number"
        raise ValueError(f"{name} must be {expected}, got {_short(text)}") from None


def _parse_bool(name: str, text: str) -> bool:
    value = _BOOLS.get(text.strip().lower())
    if value is None:
        raise ValueError(f"{name} must be true/false/1/0, got {_short(text)}")
    return value


def _parse_row(fields: list[str], columns: dict[str, int]) -> BoxRow:
    values = {name: fields[columns[name]] if name in columns else OPTIONAL[name] for name in COLUMNS}
    row = BoxRow(
        frame=_parse(int, "frame", values["frame"]),
        track_id=_parse(int, "track_id", values["track_id"]),
        **{name: _parse(float, name, values[name]) for name in ("x", "y", "w", "h", "score")},
        source=values["source"].strip(),
        keyframe=_parse_bool("keyframe", values["keyframe"]),
        outside=_parse_bool("outside", values["outside"]),
        label=values["label"].strip(),
    )
    problem = row_problem(row)
    if problem is not None:
        raise ValueError(problem)
    return row


def _header_columns(header: list[str]) -> dict[str, int]:
    """Position of each schema column in the header line (optional columns only when present)."""
    names = [name.strip() for name in header]
    if not any(names):
        raise ValueError(f"missing header line, expected {','.join(COLUMNS)}")
    missing = [name for name in COLUMNS if name not in names and name not in OPTIONAL]
    if missing:
        raise ValueError(f"header lacks column(s) {', '.join(missing)}")
    repeated = [name for name in COLUMNS if names.count(name) > 1]
    if repeated:
        raise ValueError(f"header repeats column(s) {', '.join(repeated)}")
    return {name: names.index(name) for name in COLUMNS if name in names}


def read_csv(path: str | os.PathLike) -> list[BoxRow]:
    """Read and validate a box CSV file, rows in file order; a problem raises :class:`BoxCsvError`."""
    path = Path(path)
    rows: list[BoxRow] = []
    first_line: dict[tuple[int, int], int] = {}
    with open(path, newline="", encoding="utf-8-sig") as file:
        reader = csv.reader(file)
        try:
            header = next(reader, [])
            columns = _header_columns(header)
            for fields in reader:
                if not fields:
                    continue
                if len(fields) != len(header):
                    raise ValueError(f"expected {len(header)} fields, got {len(fields)}")
                row = _parse_row(fields, columns)
                key = (row.frame, row.track_id)
                if key in first_line:
                    raise ValueError(
                        f"duplicate box for frame {row.frame}, track_id {row.track_id} "
                        f"(first on line {first_line[key]})"
                    )
                first_line[key] = reader.line_num
                rows.append(row)
        except UnicodeDecodeError as exc:
            line, byte = max(reader.line_num, 1), exc.object[exc.start]
            problem = f"not UTF-8 text (byte {byte:#04x}); save it as UTF-8 CSV"
            raise BoxCsvError(f"{path}, line {line}: {problem}") from None
        except (ValueError, csv.Error) as exc:
            raise BoxCsvError(f"{path}, line {max(reader.line_num, 1)}: {exc}") from None
    return rows
