"""Lazy frame sources: a folder of images, a multi-page TIFF or a video file, read one frame at a time."""

from __future__ import annotations

import operator
import os
import re
import threading
from abc import ABC, abstractmethod
from bisect import bisect_right
from collections.abc import Callable, Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import av
import imageio.v3 as iio
import numpy as np
import tifffile

if TYPE_CHECKING:
    from typing_extensions import Self

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
TIFF_SUFFIXES = (".tif", ".tiff")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")


class FrameSourceError(ValueError):
    """A frame source cannot be opened or read; the message names the path and the problem."""


def _error(path: Path, problem: str) -> FrameSourceError:
    """The error for ``problem`` with ``path``, on one line (library messages can span several)."""
    problem = " ".join(problem.split())
    return FrameSourceError(f"{path}: {problem if len(problem) <= 300 else problem[:299] + '…'}")


def _av_problem(exc: av.FFmpegError) -> str:
    """FFmpeg's words for ``exc``, without the error number and path PyAV adds."""
    return (exc.strerror or str(exc)).rstrip(".").lower()


class FrameSource(ABC):
    """A sequence of equally shaped frames of one dtype, read on demand.

    Index it like a sequence (negative indices allowed) for random access, or use :meth:`iter_frames` to
    read frames in order. Frames keep the file's native dtype.
    """

    path: Path
    _shape: tuple[int, ...]
    _dtype: np.dtype

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    @abstractmethod
    def __len__(self) -> int:
        """Number of frames."""

    @abstractmethod
    def _read(self, index: int) -> np.ndarray:
        """Frame ``index``, already checked to lie in ``range(len(self))``."""

    @property
    def frame_shape(self) -> tuple[int, ...]:
        """(H, W) or (H, W, C)."""
        return self._shape

    @property
    def dtype(self) -> np.dtype:
        """Native dtype of the frames."""
        return self._dtype

    def __getitem__(self, index: int) -> np.ndarray:
        n = len(self)
        i = operator.index(index)
        if not -n <= i < n:
            raise IndexError(f"frame index {index} out of range for {n} frames of {self.path}")
        return self._read(i % n)

    def _indices(self, start: int, stop: int | None) -> range:
        return range(len(self))[start:stop]

    def iter_frames(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(index, frame)`` for frames ``start:stop`` (slice semantics), reading one frame a step."""
        for i in self._indices(start, stop):
            yield i, self._read(i)

    def close(self) -> None:
        """Release open files; the base class holds none."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _natural_key(name: str) -> list[int | str]:
    """Sort key that orders digit runs by value, so "img2" < "img10"."""
    return [int(part) if i % 2 else part.casefold() for i, part in enumerate(re.split(r"(\d+)", name))]


class FolderSource(FrameSource):
    """The image files of a directory in natural sort order, one frame per file.

    Files with other suffixes and hidden files are ignored. Shape and dtype come from the first image; reading
    an image of another shape or dtype raises :class:`FrameSourceError`.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        super().__init__(path)
        if not self.path.is_dir():
            raise _error(self.path, "is not a directory")
        images = [
            p
            for p in self.path.iterdir()
            if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".") and p.is_file()
        ]
        self.files = sorted(images, key=lambda p: (_natural_key(p.name), p.name))
        if not self.files:
            raise _error(self.path, f"has no frames (no {'/'.join(IMAGE_SUFFIXES)} images)")
        first = self._load(0)
        self._shape, self._dtype = first.shape, first.dtype

    def __len__(self) -> int:
        return len(self.files)

    def _load(self, index: int) -> np.ndarray:
        file = self.files[index]
        try:
            return np.asarray(iio.imread(file))
        except Exception as exc:  # imageio backends raise many exception types for unreadable files
            raise _error(file, f"cannot read image ({exc})") from exc

    def _read(self, index: int) -> np.ndarray:
        frame = self._load(index)
        if frame.shape != self._shape or frame.dtype != self._dtype:
            raise _error(
                self.files[index],
                f"frame {index} has shape {frame.shape} and dtype {frame.dtype}, but the first frame "
                f"({self.files[0].name}) has shape {self._shape} and dtype {self._dtype}",
            )
        return frame


#: A frame larger than this (bytes) is taken for a damaged file's misread size, not allocated.
MAX_FRAME_BYTES = 2**34


class TiffSource(FrameSource):
    """The pages of the first series of a TIFF file, one (H, W) or (H, W, C) page per frame, read lazily.
    A page of another shape or dtype than the first, or too large to be a frame, is a damaged file."""

    def __init__(self, path: str | os.PathLike) -> None:
        super().__init__(path)
        try:
            self._tif = tifffile.TiffFile(self.path)
        except (OSError, ValueError) as exc:
            raise _error(self.path, f"cannot open TIFF ({exc})") from exc
        try:
            self._pages = self._frame_pages()
        except BaseException:
            self._tif.close()
            raise

    def _frame_pages(self) -> list:
        """The pages of series 0, after checking that each page is one frame; sets shape and dtype."""
        try:
            series = self._tif.series[0] if self._tif.series else None
            pages, page = (series.pages, series.keyframe) if series is not None else ([], None)
        except (IndexError, KeyError, ValueError, OSError) as exc:  # tifffile's words for a damaged file
            raise _error(self.path, f"cannot read TIFF, it is damaged or truncated ({exc})") from exc
        if not pages or page is None:
            raise _error(self.path, "has no frames")
        shape = tuple(series.shape)
        if len(shape) == len(page.shape) + 1 and shape[1:] == tuple(page.shape) and len(pages) < shape[0]:
            raise _error(
                self.path,
                f"TIFF declares {series.shape[0]} frames but only {len(pages)} can be found: "
                "the file is truncated or damaged",
            )
        one_page_per_frame = tuple(series.shape) == (len(pages), *page.shape) or (
            len(pages) == 1 and tuple(series.shape) == tuple(page.shape)
        )
        if page.axes not in ("YX", "YXS") or not one_page_per_frame:
            raise _error(
                self.path,
                f"TIFF series of shape {series.shape} (axes {series.axes}) is not one (H, W) or (H, W, C) "
                f"page per frame; pages have shape {page.shape} (axes {page.axes})",
            )
        self._shape, self._dtype = tuple(page.shape), page.dtype
        if np.prod(self._shape, dtype=np.float64) * self._dtype.itemsize > MAX_FRAME_BYTES:
            raise _error(self.path, f"pages of shape {self._shape} are too large for frames: the file is damaged")
        return pages

    def __len__(self) -> int:
        return len(self._pages)

    def _read(self, index: int) -> np.ndarray:
        try:
            frame = self._pages[index].asarray()
        except (OSError, ValueError, MemoryError) as exc:
            raise _error(self.path, f"cannot read page {index} ({type(exc).__name__}: {exc})") from exc
        if frame.shape != self._shape or frame.dtype != self._dtype:
            raise _error(
                self.path,
                f"page {index} has shape {frame.shape} and dtype {frame.dtype}, but the first page has shape "
                f"{self._shape} and dtype {self._dtype}: the file is damaged",
            )
        return frame

    def close(self) -> None:
        self._tif.close()


class _Timeline:
    """Presentation timestamps and keyframes of a video stream, from one pass over its packets."""

    def __init__(self, path: Path) -> None:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            packets = [(p.pts, p.is_keyframe) for p in container.demux(stream) if p.size and not p.is_discard]
        timestamps = [pts for pts, _ in packets]
        self.count = len(packets)
        #: Whether frames can be found by timestamp; cleared when decoded timestamps contradict the packets.
        self.seekable = None not in timestamps and len(set(timestamps)) == len(timestamps)
        self.pts: list[int] = sorted(timestamps) if self.seekable else []
        self.position = {pts: i for i, pts in enumerate(self.pts)}
        keys = {self.position[pts] for pts, key in packets if key} if self.seekable else set()
        self.keyframes = sorted(keys | {0})

    def keyframe_before(self, index: int) -> int:
        """The last keyframe at or before frame ``index`` (0 when the stream is not seekable)."""
        return self.keyframes[bisect_right(self.keyframes, index) - 1] if self.seekable else 0


class _VideoCursor:
    """An open video decoder that returns frames by index, decoding forward or seeking to a keyframe.

    Frame indices count decoded frames from the start of the stream. After a seek the position is recovered
    from frame timestamps and checked against every following frame; on any disagreement the timeline is
    marked unseekable and the cursor falls back to decoding from the start.
    """

    def __init__(
        self, path: Path, timeline: Callable[[], _Timeline], size: tuple[int, int], turns: int
    ) -> None:
        self._path = path
        self._timeline = timeline
        self._height, self._width = size
        self._turns = turns
        self._container: av.container.InputContainer | None = None

    def _rewind(self) -> None:
        self.close()
        self._container = av.open(str(self._path))
        self._stream = self._container.streams.video[0]
        self._frames = self._container.decode(self._stream)
        self._next: int | None = 0  # index of the next decoded frame; None right after a seek
        self._by_pts = False

    def _seek(self, index: int) -> None:
        timeline = self._timeline()
        if not timeline.seekable:
            self._rewind()
            return
        self._container.seek(timeline.pts[timeline.keyframe_before(index)], stream=self._stream)
        self._frames = self._container.decode(self._stream)
        self._next, self._by_pts = None, True

    def _locate(self, frame: av.VideoFrame) -> int | None:
        """Index of a just decoded frame, or None when its timestamp contradicts the timeline."""
        if not self._by_pts:
            return self._next
        timeline = self._timeline()
        found = timeline.position.get(frame.pts)
        return found if self._next is None or found == self._next else None

    def _decode(self, index: int) -> np.ndarray | None:
        forward = self._next is not None and self._next <= index
        if not (forward and (index == self._next or self._timeline().keyframe_before(index) <= self._next)):
            self._seek(index)
        for frame in self._frames:
            position = self._locate(frame)
            if position is None or position > index:
                return None
            self._next = position + 1
            if position == index:
                return self._pixels(frame)
        return None

    def _pixels(self, frame: av.VideoFrame) -> np.ndarray:
        """RGB pixels the way players show them: the stream's size (a frame of another size is scaled
        to it) and its display rotation."""
        rgb = frame.to_ndarray(format="rgb24", width=self._width, height=self._height)
        return np.ascontiguousarray(np.rot90(rgb, self._turns)) if self._turns else rgb

    def read(self, index: int) -> np.ndarray:
        try:
            if self._container is None:
                self._rewind()
            frame = self._decode(index)
            if frame is None and self._by_pts:
                self._timeline().seekable = False
                self._rewind()
                frame = self._decode(index)
        except av.FFmpegError as exc:
            problem = f"cannot decode frame {index} ({_av_problem(exc)}): the file is damaged or truncated"
            raise _error(self._path, problem) from exc
        if frame is None:
            raise _error(self._path, f"frame {index} could not be decoded (the stream ends before it)")
        return frame

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None


class VideoSource(FrameSource):
    """Frames of the first video stream of a file, decoded with PyAV as RGB uint8 (H, W, 3), turned as the
    file's display rotation says (phone videos), as players show them.

    The frame count is the container's count (``stream.frames``) when it declares one; otherwise (e.g. mkv,
    webm) it is the number of video packets, counted once by demuxing the file without decoding, and cached.
    Random access seeks to the nearest keyframe by timestamp and decodes forward; when the timestamps prove
    unreliable it decodes from the start instead. :meth:`iter_frames` decodes sequentially with its own
    decoder, holding one frame at a time.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        super().__init__(path)
        try:
            with av.open(str(self.path)) as container:
                if not container.streams.video:
                    raise _error(self.path, "has no video stream")
                stream = container.streams.video[0]
                first = next(container.decode(stream), None)
                self._count = stream.frames or self._timeline.count
        except av.FFmpegError as exc:
            raise _error(self.path, f"cannot open video ({_av_problem(exc)})") from exc
        if first is None or not self._count:
            raise _error(self.path, "has no frames")
        self._size = (first.height, first.width)
        self._turns = round(getattr(first, "rotation", 0) / 90) % 4
        self._shape = (*(self._size[::-1] if self._turns % 2 else self._size), 3)
        self._dtype = np.dtype(np.uint8)
        self._cursor: _VideoCursor | None = None
        self._lock = threading.Lock()

    @cached_property
    def _timeline(self) -> _Timeline:
        return _Timeline(self.path)

    def __len__(self) -> int:
        return self._count

    def _read(self, index: int) -> np.ndarray:
        with self._lock:
            if self._cursor is None:
                self._cursor = self._new_cursor()
            return self._cursor.read(index)

    def _new_cursor(self) -> _VideoCursor:
        return _VideoCursor(self.path, lambda: self._timeline, self._size, self._turns)

    def iter_frames(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """Like :meth:`FrameSource.iter_frames`, decoding in order with a decoder of its own."""
        indices = self._indices(start, stop)
        cursor = self._new_cursor()
        try:
            for i in indices:
                yield i, cursor.read(i)
        finally:
            cursor.close()

    def close(self) -> None:
        with self._lock:
            if self._cursor is not None:
                self._cursor.close()
                self._cursor = None


def open_frames(path: str | os.PathLike) -> FrameSource:
    """Open a directory of images, a TIFF file or a video file as a :class:`FrameSource`."""
    path = Path(path)
    if not path.exists():
        raise _error(path, "no such file or directory")
    if path.is_dir():
        return FolderSource(path)
    if path.stat().st_size == 0:
        raise _error(path, "is empty (0 bytes)")
    suffix = path.suffix.lower()
    if suffix in TIFF_SUFFIXES:
        return TiffSource(path)
    if suffix in VIDEO_SUFFIXES:
        return VideoSource(path)
    supported = ", ".join(TIFF_SUFFIXES + VIDEO_SUFFIXES)
    raise _error(path, f"unsupported file type {path.suffix!r} (expected a folder of images or {supported})")
