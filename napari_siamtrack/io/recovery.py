"""The recovery store: boxes saved on disk while a person labels, so that a crash loses seconds, not hours.

Each labelling session writes the boxes of each of its layers to a file of its own, a boxes CSV
(:mod:`napari_siamtrack.io.box_csv`), replaced atomically on every save. Files sit in a folder per
video, named by a digest of the video's absolute path, size and modification time, so a video that is
replaced or edited is never offered another file's boxes::

    <root>/<video key>/video.json                       the video's path, size and modification time
    <root>/<video key>/<session>~<layer>.boxes.csv      one layer of one session

``<root>`` is ``$NAPARI_SIAMTRACK_RECOVERY_DIR``, else ``recovery`` in the user data directory
(``platformdirs``: ``~/.local/share/napari-siamtrack`` on Linux, ``~/Library/Application Support/
napari-siamtrack`` on macOS, ``%LOCALAPPDATA%\\napari-siamtrack`` on Windows). A session never writes
over another session's file. Files are kept until there are more than :data:`KEEP` for a video and
they are older than :data:`KEEP_DAYS` days.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from urllib.parse import quote, unquote

from .atomic import atomic_path
from .box_csv import BoxRow, read_csv, write_csv

#: Files kept per video at least, and the age in days beyond which older ones are removed.
KEEP, KEEP_DAYS = 20, 30
SUFFIX = ".boxes.csv"
_sessions = count(1)


class RecoveryError(ValueError):
    """No saved boxes where some were asked for."""


def recovery_root() -> Path:
    """Where recovery files live (see the module docstring)."""
    override = os.environ.get("NAPARI_SIAMTRACK_RECOVERY_DIR")
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir("napari-siamtrack", appauthor=False)) / "recovery"


@dataclass(frozen=True)
class VideoStamp:
    """What identifies a video file (or a folder of frames): absolute path, size, modification time."""

    path: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: str | os.PathLike) -> VideoStamp:
        resolved = Path(path).resolve()
        stat = resolved.stat()
        return cls(str(resolved), stat.st_size, stat.st_mtime_ns)

    @property
    def key(self) -> str:
        text = json.dumps([self.path, self.size, self.mtime_ns])
        return hashlib.sha256(text.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Entry:
    """One saved layer: its file, the layer's name, when it was saved (seconds since the epoch) and
    how many boxes it holds."""

    path: Path
    layer: str
    saved: float
    boxes: int

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.saved))
        return f"layer {self.layer!r}, {self.boxes} boxes, saved {when}"


class RecoveryStore:
    """The recovery files under ``root`` (default: :func:`recovery_root`)."""

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = Path(root) if root is not None else recovery_root()

    def new_entry(self, video: VideoStamp, layer: str) -> Path:
        """A file of its own for one layer of this session (created by the first :meth:`save`)."""
        folder = self.root / video.key
        folder.mkdir(parents=True, exist_ok=True)
        stamp = folder / "video.json"
        if not stamp.is_file():
            with atomic_path(stamp) as tmp:
                tmp.write_text(json.dumps(vars(video), indent=1))
        self._prune(folder)
        session = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{next(_sessions)}"
        return folder / f"{session}~{quote(layer, safe='')[:120]}{SUFFIX}"

    @staticmethod
    def save(entry: Path, rows: Iterable[BoxRow]) -> None:
        """Replace ``entry`` with ``rows``, atomically."""
        write_csv(entry, rows)

    def entries(self, video: VideoStamp) -> list[Entry]:
        """The saved layers of ``video``, newest first."""
        folder = self.root / video.key
        found = []
        for path in folder.glob(f"*~*{SUFFIX}") if folder.is_dir() else ():
            try:
                saved, lines = path.stat().st_mtime, path.read_bytes().count(b"\n")
            except OSError:  # removed meanwhile
                continue
            layer = unquote(path.name[: -len(SUFFIX)].split("~", 1)[1])
            found.append(Entry(path, layer, saved, max(lines - 1, 0)))
        return sorted(found, key=lambda e: (e.saved, e.path.name), reverse=True)

    def latest(self, video: str | os.PathLike, layer: str | None = None) -> tuple[Entry, list[BoxRow]]:
        """The most recently saved boxes of ``video`` (of the layer named ``layer``, when given), read
        back; raises :class:`RecoveryError` when there are none."""
        path = Path(video)
        if not path.exists():
            raise RecoveryError(f"{path}: no such file or directory")
        candidates = [
            e for e in self.entries(VideoStamp.of(path)) if e.boxes and layer in (None, e.layer)
        ]
        if not candidates:
            what = f"of layer {layer!r} " if layer is not None else ""
            raise RecoveryError(f"no saved boxes {what}for {path}{self._other_versions(path)}")
        return candidates[0], read_csv(candidates[0].path)

    def _other_versions(self, path: Path) -> str:
        """A hint naming the folders of boxes saved for this path when the file was different."""
        wanted = str(path.resolve())
        folders = []
        for stamp in self.root.glob("*/video.json"):
            try:
                if json.loads(stamp.read_text())["path"] == wanted:
                    folders.append(str(stamp.parent))
            except (OSError, ValueError, KeyError, TypeError):
                continue
        if not folders:
            return ""
        return f" as it is now; boxes saved before the file last changed are in {', '.join(folders)}"

    @staticmethod
    def _prune(folder: Path) -> None:
        """Remove the files beyond the newest :data:`KEEP` that are older than :data:`KEEP_DAYS` days."""
        ages = []
        for path in folder.glob(f"*{SUFFIX}"):
            try:
                ages.append((path.stat().st_mtime, path))
            except OSError:
                continue
        cutoff = time.time() - KEEP_DAYS * 86400
        for mtime, path in sorted(ages, reverse=True)[KEEP:]:
            if mtime < cutoff:
                path.unlink(missing_ok=True)
