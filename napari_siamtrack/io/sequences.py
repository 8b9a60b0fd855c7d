"""Tracking sequences on disk, in the layouts benchmarks ship them (for training and benchmarking).

- OTB / UAV123 / DTB70: ``<seq>/img/<frames>`` + ``<seq>/groundtruth_rect.txt``, one ``x,y,w,h`` per
  frame, **1-based** corner. Delimiters may be commas, tabs or spaces; line ends may be CRLF.
- GOT-10k: ``<seq>/<frames>`` + ``<seq>/groundtruth.txt`` with 4 values per line, 0-based.
- VOT: ``<seq>/<frames>`` or ``<seq>/color/<frames>`` or ``<seq>/img/<frames>`` + ``groundtruth.txt``
  with 8 values per line (a polygon, 0-based), turned into its axis-aligned bounding box.

Boxes come back 0-based ``x, y, w, h``. A frame without a box (missing line, ``NaN``, zero size) has a
NaN row. An optional ``frames.txt`` gives each frame's original frame number (subsampled sequences).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
_FRAME_DIRS = ("img", "color", ".")


class SequenceError(ValueError):
    """A sequence folder that cannot be read."""


@dataclass(frozen=True)
class Sequence:
    """One target in one video: frame files and a 0-based box per frame (NaN row: no box)."""

    name: str
    frames: tuple[Path, ...]
    boxes: np.ndarray  # (N, 4) float64, x, y, w, h
    frame_numbers: np.ndarray  # (N,) int, original frame numbers (0..N-1 unless frames.txt says)

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def valid(self) -> np.ndarray:
        """Boolean mask of frames with a usable box."""
        return np.isfinite(self.boxes).all(axis=1) & (self.boxes[:, 2] > 0) & (self.boxes[:, 3] > 0)

    def read(self, i: int) -> np.ndarray:
        """Frame ``i`` as an (H, W, 3) uint8 RGB array (greyscale files are repeated to 3 channels)."""
        import imageio.v3 as iio

        image = np.asarray(iio.imread(self.frames[i]))
        if image.ndim == 2:
            image = np.repeat(image[:, :, None], 3, axis=2)
        return np.ascontiguousarray(image[:, :, :3])


def find_sequences(root: str | Path) -> list[Sequence]:
    """Every sequence in ``root`` (or ``root`` itself when it is one), sorted by name."""
    root = Path(root)
    if not root.is_dir():
        raise SequenceError(f"{root} is not a folder")
    if _groundtruth_file(root) is not None:
        return [load_sequence(root)]
    found = [load_sequence(d) for d in sorted(root.iterdir()) if d.is_dir() and _groundtruth_file(d)]
    if not found:
        raise SequenceError(
            f"no sequences in {root}: expected folders holding groundtruth_rect.txt or groundtruth.txt"
        )
    return found


def load_sequence(folder: str | Path) -> Sequence:
    """Read one sequence folder (see the module docstring for the layouts)."""
    folder = Path(folder)
    gt = _groundtruth_file(folder)
    if gt is None:
        raise SequenceError(f"{folder} has no groundtruth_rect.txt or groundtruth.txt")
    frames = _frame_files(folder)
    boxes = read_groundtruth(gt, one_based=gt.name == "groundtruth_rect.txt")
    n = len(frames)
    if len(boxes) > n:
        raise SequenceError(f"{gt} has {len(boxes)} boxes but {folder} has only {n} frames")
    # Frames past the last annotated line have no box (OTB's Diving and Football1 do this).
    boxes = np.vstack([boxes, np.full((n - len(boxes), 4), np.nan)])
    boxes[~(np.isfinite(boxes).all(axis=1) & (boxes[:, 2] > 0) & (boxes[:, 3] > 0))] = np.nan
    numbers_file = folder / "frames.txt"
    if numbers_file.is_file():
        numbers = np.loadtxt(numbers_file, dtype=np.int64, ndmin=1)
        if len(numbers) != n:
            raise SequenceError(f"{numbers_file} has {len(numbers)} lines for {n} frames")
    else:
        numbers = np.arange(n, dtype=np.int64)
    return Sequence(folder.name, tuple(frames), boxes, numbers)


def read_groundtruth(path: str | Path, one_based: bool) -> np.ndarray:
    """Boxes from a ground-truth file: (N, 4) 0-based x, y, w, h; polygons become their bounding box.
    A blank line is a frame without a box (NaN row); blank lines at the end are ignored."""
    rows = []
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise SequenceError(f"{path}: not UTF-8 text (byte {exc.object[exc.start]:#04x})") from None
    while lines and not lines[-1].strip():
        lines.pop()
    for number, line in enumerate(lines, start=1):
        fields = [f for f in re.split(r"[,\s]+", line.strip()) if f]
        if not fields:  # a blank line inside the file: a frame without a box
            rows.append([np.nan] * 4)
            continue
        try:
            values = [float(f) for f in fields]
        except ValueError:
            raise SequenceError(f"{path}, line {number}: not numbers: {line.strip()[:60]!r}") from None
        if len(values) == 4:
            rows.append(values)
        elif len(values) >= 6 and len(values) % 2 == 0:
            xs, ys = np.asarray(values[0::2]), np.asarray(values[1::2])
            rows.append([xs.min(), ys.min(), xs.max() - xs.min(), ys.max() - ys.min()])
        else:
            raise SequenceError(
                f"{path}, line {number}: expected 4 values (x,y,w,h) or a polygon, got {len(values)}"
            )
    boxes = np.asarray(rows, dtype=np.float64).reshape(-1, 4)
    if one_based:
        boxes[:, :2] -= 1.0
    return boxes


def _groundtruth_file(folder: Path) -> Path | None:
    for name in ("groundtruth_rect.txt", "groundtruth.txt"):
        if (folder / name).is_file():
            return folder / name
    return None


def _frame_files(folder: Path) -> list[Path]:
    for sub in _FRAME_DIRS:
        d = folder / sub
        files = sorted(
            p for p in d.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        ) if d.is_dir() else []
        if files:
            return files
    raise SequenceError(f"no image frames in {folder} (looked in img/, color/ and the folder itself)")
