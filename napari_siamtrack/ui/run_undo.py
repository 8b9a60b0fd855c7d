"""Undo a propagation. Before a run starts, the tracked boxes on every (track, frame) the run may write
are remembered, with their place in the layer. Undoing the run takes out the tracked boxes on those
slots and puts the remembered ones back where they were, so the layer's data and features are exactly
what they were before the run. Boxes a person drew, moved or accepted are never taken out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from napari.layers import Shapes

from ..annotation.propagation import Segment
from .boxes_layer import BoxesLayer
from .layer_boxes import protected

#: Propagations that can be undone, per viewer (the oldest are forgotten).
DEPTH = 10


@dataclass(frozen=True)
class _Run:
    layer: Shapes
    slots: frozenset[tuple[int, int]]  # (track_id, frame)
    indices: list[int]  # where the remembered boxes stood, ascending
    vertices: list[np.ndarray]
    shape_types: list[str]
    features: pd.DataFrame


def _slots(segments: Iterable[Segment]) -> frozenset[tuple[int, int]]:
    """The (track, frame) pairs the segments fill (every frame but the keyframe they start on)."""
    return frozenset(
        (s.track_id, f) for s in segments for f in range(s.start + s.step, s.stop + s.step, s.step)
    )


def _on_slots(features: pd.DataFrame, slots: frozenset) -> np.ndarray:
    """Indices of the tracked (unprotected) boxes that lie on ``slots``."""
    keys = zip(features["track_id"].tolist(), features["frame"].tolist())
    on = np.fromiter((key in slots for key in keys), dtype=bool, count=len(features))
    return np.flatnonzero(on & ~protected(features))


class RunUndo:
    """The propagations that can be undone, newest last."""

    def __init__(self) -> None:
        self._runs: list[_Run] = []

    def record(self, layer: Shapes, segments: Iterable[Segment]) -> None:
        """Remember what a run about to start on ``layer`` may replace."""
        slots = _slots(segments)
        indices = _on_slots(layer.features, slots).tolist()
        data, types = layer.data, layer.shape_type
        run = _Run(
            layer,
            slots,
            indices,
            [np.array(data[i]) for i in indices],
            [types[i] for i in indices],
            layer.features.iloc[indices].reset_index(drop=True),
        )
        self._runs = [*self._runs, run][-DEPTH:]

    def can_undo(self, layer: Shapes | None) -> bool:
        return any(run.layer is layer for run in self._runs)

    def forget(self, layer: Shapes) -> None:
        self._runs = [run for run in self._runs if run.layer is not layer]

    def undo(self, boxes: BoxesLayer) -> int | None:
        """Undo the last run on ``boxes``; return how many tracked boxes were taken out (None: there is
        no run to undo)."""
        runs = [i for i, run in enumerate(self._runs) if run.layer is boxes.layer]
        if not runs:
            return None
        run = self._runs.pop(runs[-1])
        layer = boxes.layer
        features = layer.features
        drop = set(_on_slots(features, run.slots).tolist())
        keep = [i for i in range(layer.nshapes) if i not in drop]
        kept = {(t, f) for t, f in zip(features["track_id"].iloc[keep], features["frame"].iloc[keep])}
        back = [
            k for k in range(len(run.indices))
            if (run.features.at[k, "track_id"], run.features.at[k, "frame"]) not in kept
        ]
        order = _interleave(len(keep), [run.indices[k] for k in back])
        data, types = layer.data, layer.shape_type
        pool = [data[i] for i in keep] + [run.vertices[k] for k in back]
        pool_types = [types[i] for i in keep] + [run.shape_types[k] for k in back]
        pool_features = pd.concat([features.iloc[keep], run.features.iloc[back]], ignore_index=True)
        boxes.set_shapes(
            [pool[i] for i in order],
            [pool_types[i] for i in order],
            pool_features.iloc[order].reset_index(drop=True),
        )
        return len(drop)


def _interleave(n_kept: int, places: list[int]) -> list[int]:
    """The order of the shapes after an undo, as indices into the kept shapes (0…n_kept-1) followed by
    the shapes put back (n_kept…): each one put back returns to its old place (``places``, ascending),
    and the kept ones fill the other places in their order."""
    total, spots, previous = n_kept + len(places), {}, -1
    for k, place in enumerate(places):
        previous = max(previous + 1, min(place, total - len(places) + k))
        spots[previous] = n_kept + k
    kept = iter(range(n_kept))
    return [spots[i] if i in spots else next(kept) for i in range(total)]
