"""What the format modules share: the video an export describes, class names, numbers as text, the
one-line message about what a format leaves out, and frames written as images."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..box_csv import BoxRow

#: Decimals of the coordinates written (a millionth of a pixel; the boxes keep a thousandth).
DECIMALS = 6
#: The class of a track without a label: every format here needs a class name.
UNLABELLED = "object"
#: Colour frames are written as JPEG at this quality (what MOT and CVAT datasets use).
JPEG_QUALITY = 95


class FormatError(ValueError):
    """A file that breaks its format, or rows a format cannot hold; the message names the file (and the
    line or element) and the problem."""


@dataclass(frozen=True)
class Video:
    """The video the boxes belong to: its name, length and frame size when known, and its frames (a
    (T, H, W[, C]) array-like, indexable by frame) when images are to be written."""

    name: str = "video"
    n_frames: int | None = None
    height: int | None = None
    width: int | None = None
    frames: object | None = field(default=None, repr=False)

    @classmethod
    def of_frames(cls, name: str, frames, rgb: bool | None = None) -> Video:
        """A video from a (T, H, W[, C]) array-like; ``rgb`` says whether its last axis holds channels
        (default: a last axis of 3 or 4)."""
        shape = tuple(frames.shape)
        if len(shape) not in (3, 4):
            raise FormatError(
                f"video {name!r} has shape {shape}: expected (frames, height, width[, channels])"
            )
        rgb = shape[-1] in (3, 4) if rgb is None else rgb
        if len(shape) - int(rgb) != 3:
            raise FormatError(
                f"video {name!r} has shape {shape}: expected (frames, height, width[, channels])"
            )
        return cls(name, shape[0], shape[1], shape[2], frames)

    def need_size(self, what: str) -> tuple[int, int]:
        """(height, width), or a :class:`FormatError` saying that ``what`` needs the video."""
        if self.height is None or self.width is None or self.n_frames is None:
            raise FormatError(
                f"{what} needs the video's frame size and length: give the video (--video; in napari, save "
                "the video layer with the boxes)"
            )
        return self.height, self.width


@dataclass(frozen=True)
class Written:
    """What an export wrote, and the one message about what the format left out ("" when nothing)."""

    paths: list[Path]
    note: str = ""


@dataclass(frozen=True)
class Loaded:
    """The boxes an import read, and the one message about what it could not keep ("" when nothing)."""

    rows: list[BoxRow]
    note: str = ""


def number(value: float, decimals: int = DECIMALS) -> str:
    """``value`` rounded to ``decimals`` places, as the shortest text (``12.5``, ``3``, ``0.000125``)."""
    text = f"{round(float(value), decimals):.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def class_names(rows: Sequence[BoxRow], classes: Sequence[str] | None = None) -> list[str]:
    """The class list of an export: ``classes`` in that order when given (every label used must be on
    it), else the labels used, sorted; a track without a label is :data:`UNLABELLED`."""
    used = {row.label or UNLABELLED for row in rows}
    if classes is None:
        return sorted(used)
    classes = list(classes)
    repeated = sorted({name for name in classes if classes.count(name) > 1})
    if repeated:
        raise FormatError(f"the class list repeats {', '.join(map(repr, repeated))}")
    missing = sorted(used - set(classes))
    if missing:
        raise FormatError(f"labels {', '.join(map(repr, missing))} are not in the class list {classes}")
    return classes


def left_out(format_name: str, rows: Sequence[BoxRow], carries: set[str], extra: Sequence[str] = ()) -> str:
    """The one message saying what ``rows`` hold that a format carrying ``carries`` (any of ``track_id``,
    ``keyframe``, ``score``, ``outside``, ``label``) leaves out, with any ``extra`` parts; "" when nothing."""
    parts = []
    tracks = {row.track_id for row in rows}
    if "track_id" not in carries and len(tracks) > 1:
        parts.append(f"track identities ({len(tracks)} tracks)")
    if "keyframe" not in carries and any(not (r.keyframe or r.source == "manual") for r in rows):
        parts.append("which boxes are keyframes")
    if "score" not in carries and any(r.score != 1.0 for r in rows):
        parts.append("tracker scores")
    outside = sum(r.outside for r in rows)
    if "outside" not in carries and outside:
        parts.append(f"{plural(outside, 'outside box')} (not written)")
    unlabelled = len({r.track_id for r in rows if not r.label})
    if unlabelled:
        parts.append(
            f"the labels of {plural(unlabelled, 'unlabelled track')} (written as class {UNLABELLED!r})"
        )
    parts += extra
    return f"{format_name} leaves out {'; '.join(parts)}" if parts else ""


def plural(count: int, noun: str) -> str:
    """``1 box``, ``2 boxes``, ``3 tracks``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}{'es' if noun.endswith(('s', 'x')) else 's'}"


def frame_name(frame: int) -> str:
    """The name of frame ``frame`` (0-based) in exported datasets: CVAT's ``frame_000123``."""
    return f"frame_{frame:06d}"


def write_images(folder: str | os.PathLike, video: Video, suffix: str = ".jpg") -> list[Path]:
    """Write every frame of ``video`` into ``folder`` as ``frame_000123.jpg`` (8-bit; other dtypes are
    scaled to 0-255 by the window of the first frame, as the tracker sees them); return the paths."""
    import imageio.v3 as iio

    from ..frames import IntensityWindow

    if video.frames is None:
        raise FormatError(f"writing frames needs the video {video.name!r} itself")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    window, paths = None, []
    for index, frame in _frames_in_order(video):
        frame = np.asarray(frame)
        if frame.dtype != np.uint8:
            window = window or IntensityWindow.for_frame(frame)
            frame = window.apply(frame).astype(np.uint8)
        elif frame.ndim == 3:
            frame = frame[..., 0] if frame.shape[-1] == 1 else frame[..., :3]
        path = folder / f"{frame_name(index)}{suffix}"
        options = {"quality": JPEG_QUALITY} if suffix == ".jpg" else {}
        iio.imwrite(path, frame, **options)
        paths.append(path)
    return paths


def _frames_in_order(video: Video) -> Iterator[tuple[int, np.ndarray]]:
    frames = video.frames
    iter_frames = getattr(frames, "iter_frames", None)
    if iter_frames is not None:
        yield from iter_frames(0, video.n_frames)
    else:
        for i in range(video.n_frames):
            yield i, frames[i]
