"""A frame source seen as a lazy (T, H, W[, C]) array, so napari can show a long video without loading it."""

from __future__ import annotations

import operator
from collections.abc import Iterator

import numpy as np

from .sources import FrameSource


class VideoArray:
    """``array[t]`` reads frame ``t`` only; ``array[a:b]`` reads frames a…b-1. Any further indices apply to
    the frames read. :meth:`iter_frames` reads in order with a decoder of its own (for tracking)."""

    def __init__(self, source: FrameSource) -> None:
        self.source = source
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
            frames = [self.source[i] for i in range(len(self))[first]]
            stack = np.stack(frames) if frames else np.zeros((0, *self.shape[1:]), self.dtype)
            return stack[(slice(None), *rest)]
        if isinstance(first, (list, np.ndarray)):
            index = np.asarray(first)
            stack = np.stack([self.source[int(i)] for i in index.ravel()])
            return stack.reshape(*index.shape, *self.shape[1:])[(slice(None),) * index.ndim + rest]
        return self.source[operator.index(first)][rest]

    def iter_frames(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        return self.source.iter_frames(start, stop)

    def close(self) -> None:
        self.source.close()
