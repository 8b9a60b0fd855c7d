"""A frame source seen as a lazy (T, H, W[, C]) array, so napari can show a long video without loading it."""

from __future__ import annotations

import operator
import warnings
from collections.abc import Iterator

import numpy as np

from .sources import FrameSource, FrameSourceError


class VideoArray:
    """``array[t]`` reads frame ``t`` only; ``array[a:b]`` reads frames a…b-1. Any further indices apply to
    the frames read. :meth:`iter_frames` reads in order with a decoder of its own (for tracking).

    A frame that cannot be decoded (a truncated or damaged file) reads as black here, with one warning per
    video (napari shows it), so that the rest of the video can still be viewed; :meth:`iter_frames`
    raises :class:`~napari_siamtrack.io.sources.FrameSourceError` instead, so that nothing is tracked
    on a frame that is not there."""

    def __init__(self, source: FrameSource) -> None:
        self.source = source
        self._warned = False
        self.shape = (len(source), *source.frame_shape)
        self.dtype = np.dtype(source.dtype)
        self.ndim = len(self.shape)
        self.size = int(np.prod(self.shape))

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"VideoArray({str(self.source.path)!r}, shape={self.shape}, dtype={self.dtype})"

    def __getitem__(self, key) -> np.ndarray:
        key = key if isinstance(key, tuple) else (key,)
        if any(k is Ellipsis or k is None for k in key):
            raise IndexError("VideoArray supports integer, slice and integer-array indices, not ... or None")
        first, rest = (key[0], key[1:]) if key else (slice(None), ())
        if isinstance(first, slice):
            frames = [self._frame(i) for i in range(len(self))[first]]
            stack = np.stack(frames) if frames else np.zeros((0, *self.shape[1:]), self.dtype)
            return stack[(slice(None), *rest)]
        if isinstance(first, (list, np.ndarray)):
            index = np.asarray(first)
            stack = np.stack([self._frame(int(i)) for i in index.ravel()])
            return stack.reshape(*index.shape, *self.shape[1:])[(slice(None),) * index.ndim + rest]
        return self._frame(operator.index(first))[rest]

    def _frame(self, index: int) -> np.ndarray:
        try:
            return self.source[index]
        except FrameSourceError as exc:
            if not self._warned:
                warnings.warn(f"{exc}; frames that cannot be decoded are shown black", stacklevel=3)
                self._warned = True
            return np.zeros(self.shape[1:], self.dtype)

    def iter_frames(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        return self.source.iter_frames(start, stop)

    def close(self) -> None:
        self.source.close()
