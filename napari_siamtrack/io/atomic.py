"""Atomic file writes: write beside the target, then rename over it."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in ``path``'s folder. When the block succeeds the file written there
    replaces ``path`` in one rename (with the permissions a new file, or the old one, would have); when
    it fails, it is removed and ``path`` stays untouched."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, path.stat().st_mode & 0o7777 if path.exists() else _new_file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_folder(path: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``path``. When the block succeeds, each file written there
    moves into ``path`` (created when missing) in one rename, replacing a file of the same name and
    leaving the folder's other files alone; when it fails, nothing in ``path`` changes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        yield tmp
        files = sorted(f for f in tmp.rglob("*") if f.is_file())
        for folder in sorted({path / f.parent.relative_to(tmp) for f in files}):
            folder.mkdir(parents=True, exist_ok=True)
        for file in files:
            os.replace(file, path / file.relative_to(tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _new_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
