"""CVAT for video 1.1 XML: one ``<track id label source>`` per track holding
``<box frame outside occluded keyframe xtl ytl xbr ybr>`` elements, as CVAT's documentation
defines it (frames 0-based, corners in pixels, flags ``0``/``1``).

Track ids are CVAT's, counted from 0 (ours minus one). A box is a keyframe exactly when ours is (a
person's box); tracked boxes are ``keyframe="0"``. CVAT reads a track as visible from its first box
until an outside keyframe, so a track gets an outside keyframe on the first frame of each gap between
its boxes and after its last box (unless that is the video's last frame, or the video's length is
unknown), as CVAT itself writes them. Scores and sources are not part of the format: reading gives
keyframes as ``manual`` and other boxes as ``tracked``, all with score 1.

CVAT imports only the keyframes of a track and interpolates between them, so tracked boxes written as
``keyframe="0"`` are replaced by interpolation there; ``all_keyframes=True`` writes every box as a
keyframe, which CVAT keeps as it is (and which reads back as keyframes).

Reading takes an ``.xml`` file or a zip holding one (CVAT's export). DTDs and entities are refused.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterable, Sequence
from itertools import groupby
from pathlib import Path
from xml.parsers import expat
from xml.sax.saxutils import escape, quoteattr

from ..atomic import atomic_path
from ..box_csv import BoxRow, checked_rows, row_problem
from .common import UNLABELLED, FormatError, Loaded, Video, Written, class_names, left_out, number, plural

TITLE = "CVAT for video 1.1"


def write_cvat(
    path: str | os.PathLike,
    rows: Iterable[BoxRow],
    video: Video | None = None,
    classes: Sequence[str] | None = None,
    all_keyframes: bool = False,
) -> Written:
    """Write ``rows`` to the XML file ``path`` atomically (see the module docstring)."""
    path = Path(path)
    rows = checked_rows(path, rows)
    video = video or Video()
    names = class_names(rows, classes)
    lines = ['<?xml version="1.0" encoding="utf-8"?>', "<annotations>", "  <version>1.1</version>"]
    lines += _meta(video, names)
    gaps = 0
    for track, boxes in groupby(rows, key=lambda r: r.track_id):
        boxes = list(boxes)
        labels = sorted({b.label for b in boxes})
        if len(labels) > 1:
            raise FormatError(
                f"{path}: track {track} has several labels ({', '.join(map(repr, labels))}): "
                "give each track one label"
            )
        source = "manual" if all(b.keyframe or b.source == "manual" for b in boxes) else "semi-auto"
        lines.append(
            f'  <track id="{track - 1}" label={quoteattr(labels[0] or UNLABELLED)} source="{source}">'
        )
        for box, kind in _with_closers(boxes, video.n_frames):
            gaps += kind == "gap"
            keyframe = kind != "box" or box.keyframe or box.source == "manual" or all_keyframes
            lines.append(
                f'    <box frame="{box.frame}" outside="{int(box.outside)}" occluded="0" '
                f'keyframe="{int(keyframe)}" xtl="{number(box.x)}" ytl="{number(box.y)}" '
                f'xbr="{number(box.x + box.w)}" ybr="{number(box.y + box.h)}">'
            )
            lines.append("    </box>")
        lines.append("  </track>")
    lines.append("</annotations>")
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    extra = []
    if gaps:
        extra.append(
            f"frames without a box inside a track ({plural(gaps, 'gap')}, written as outside: CVAT "
            "has no unlabelled frames inside a track)"
        )
    if video.n_frames is None and rows:
        extra.append(
            "where tracks end (without the video's length CVAT shows each track's last box to the "
            "end of the video: give the video)"
        )
    notes = [left_out(TITLE, rows, {"track_id", "keyframe", "outside", "label"}, extra)]
    tracked = sum(not (r.keyframe or r.source == "manual") for r in rows)
    if tracked and not all_keyframes:
        notes.append(
            f"CVAT imports only keyframes, so there its {plural(tracked, 'tracked box')} become "
            "interpolation (siamtrack export --all-keyframes keeps them)"
        )
    return Written([path], "; ".join(n for n in notes if n))


def _meta(video: Video, names: list[str]) -> list[str]:
    lines = ["  <meta>", "    <task>", f"      <name>{escape(video.name)}</name>"]
    if video.n_frames is not None:
        lines.append(f"      <size>{video.n_frames}</size>")
    lines += ["      <mode>interpolation</mode>", "      <overlap>0</overlap>", "      <labels>"]
    for name in names:
        lines += [
            "        <label>",
            f"          <name>{escape(name)}</name>",
            "          <attributes>",
            "          </attributes>",
            "        </label>",
        ]
    lines.append("      </labels>")
    if video.width is not None and video.height is not None:
        lines += [
            "      <original_size>",
            f"        <width>{video.width}</width>",
            f"        <height>{video.height}</height>",
            "      </original_size>",
        ]
    return lines + ["    </task>", "  </meta>"]


def _with_closers(boxes: list[BoxRow], n_frames: int | None):
    """``(box, "box")`` for each box of a track; after a visible box whose next frame has no box, an
    outside copy on that frame: ``"gap"`` before a later box, ``"end"`` after the last one (only when the
    video's length is known and that frame lies in it)."""
    frames = {b.frame for b in boxes}
    for box in boxes:
        yield box, "box"
        after = box.frame + 1
        if box.outside or after in frames:
            continue
        kind = "gap" if box.frame < boxes[-1].frame else "end"
        if kind == "gap" or (n_frames is not None and after < n_frames):
            closer = BoxRow(
                after, box.track_id, box.x, box.y, box.w, box.h, 1.0, "manual", True, True, box.label
            )
            yield closer, kind


def looks_like(path: str | os.PathLike) -> bool:
    """Whether ``path`` is an XML file, or a zip holding one, whose root element is ``<annotations>``."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:
                name = next((n for n in archive.namelist() if n.lower().endswith(".xml")), None)
                head = archive.open(name).read(4096) if name else b""
        elif path.suffix.lower() == ".xml" and path.is_file():
            with open(path, "rb") as file:
                head = file.read(4096)
        else:
            return False
    except (OSError, zipfile.BadZipFile):
        return False
    return b"<annotations" in head


def read_cvat(path: str | os.PathLike) -> Loaded:
    """Read the box tracks of a CVAT for video 1.1 XML file (or a zip holding one); a problem raises
    :class:`FormatError` naming the file and line."""
    path = Path(path)
    name, data = _open(path)
    reader = _Reader(name)
    parser = expat.ParserCreate()
    reader.parser = parser
    parser.StartDoctypeDeclHandler = reader.forbid
    parser.EntityDeclHandler = reader.forbid
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise FormatError(
            f"{name}, line {exc.lineno}: not well-formed XML ({expat.errors.messages[exc.code]})"
        ) from None
    except ValueError as exc:
        raise FormatError(f"{name}, line {parser.CurrentLineNumber}: {exc}") from None
    if not reader.root_seen:
        raise FormatError(f"{name}: the root element is not <annotations>")
    return Loaded(sorted(reader.rows, key=lambda r: (r.track_id, r.frame)), reader.note())


def _open(path: Path) -> tuple[str, bytes]:
    try:
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if n.lower().endswith(".xml")]
                if len(names) != 1:
                    raise FormatError(f"{path}: the archive holds {len(names)} XML files, expected one")
                return f"{path}:{names[0]}", archive.read(names[0])
        return str(path), path.read_bytes()
    except (OSError, zipfile.BadZipFile) as exc:
        raise FormatError(f"{path}: cannot read it: {exc}") from None


class _Reader:
    """expat handlers that collect the boxes of ``<track>`` elements."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.parser = None
        self.rows: list[BoxRow] = []
        self.root_seen = False
        self.depth = 0
        self.track: tuple[int, str] | None = None
        self.seen: set[tuple[int, int]] = set()
        self.skipped: dict[str, int] = {}

    def forbid(self, *_) -> None:
        raise ValueError("DTDs and entities are not allowed in annotation files")

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        if self.depth == 1:
            if tag != "annotations":
                raise ValueError(f"the root element is <{tag}>, not <annotations>")
            self.root_seen = True
        elif self.depth == 2 and tag == "track":
            track_id = _int(attrs, "id")
            if track_id < 0:
                raise ValueError(f"track id must be >= 0, got {track_id}")
            self.track = (track_id + 1, attrs.get("label", "").strip())
        elif self.depth == 2 and tag == "image":
            self._skip("shapes of CVAT for images (no tracks)")
        elif self.depth == 3 and self.track is not None:
            if tag == "box":
                self._box(attrs)
            else:
                self._skip(f"{tag} tracks (only boxes are read)")
        elif self.depth == 4 and tag == "attribute":
            self._skip("box attributes")

    def end(self, tag: str) -> None:
        if self.depth == 2 and tag == "track":
            self.track = None
        self.depth -= 1

    def _box(self, attrs: dict[str, str]) -> None:
        track_id, label = self.track
        frame, outside, keyframe = _int(attrs, "frame"), _flag(attrs, "outside"), _flag(attrs, "keyframe")
        if _flag(attrs, "occluded"):
            self._skip("the occluded flag")
        if outside and not keyframe:
            return  # CVAT's interpolation inside an outside span: no box there
        if (track_id, frame) in self.seen:
            raise ValueError(f"a second box for track {track_id - 1} on frame {frame}")
        self.seen.add((track_id, frame))
        xtl, ytl, xbr, ybr = (_float(attrs, k) for k in ("xtl", "ytl", "xbr", "ybr"))
        w, h = round(xbr - xtl, 6), round(ybr - ytl, 6)
        source = "manual" if keyframe else "tracked"
        row = BoxRow(frame, track_id, xtl, ytl, w, h, 1.0, source, keyframe, outside, label)
        problem = row_problem(row)
        if problem is not None:
            raise ValueError(problem)
        self.rows.append(row)

    def _skip(self, what: str) -> None:
        self.skipped[what] = self.skipped.get(what, 0) + 1

    def note(self) -> str:
        if not self.skipped:
            return ""
        parts = [f"{what} ({count})" for what, count in self.skipped.items()]
        return f"{TITLE}: left out {'; '.join(parts)}"


def _int(attrs: dict[str, str], key: str) -> int:
    text = _attr(attrs, key)
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{key} must be an integer, got {text!r}") from None


def _float(attrs: dict[str, str], key: str) -> float:
    text = _attr(attrs, key)
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{key} must be a number, got {text!r}") from None


def _flag(attrs: dict[str, str], key: str) -> bool:
    text = attrs.get(key, "0").strip()
    if text not in ("0", "1"):
        raise ValueError(f"{key} must be 0 or 1, got {text!r}")
    return text == "1"


def _attr(attrs: dict[str, str], key: str) -> str:
    if key not in attrs:
        raise ValueError(f"the element lacks the {key!r} attribute")
    return attrs[key].strip()
