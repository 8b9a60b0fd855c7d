"""Boxes as napari Shapes layer data: a (4, 3) rectangle in (t, y, x) and a features row per box.

Nothing here imports napari or Qt: these functions build and read the plain data that napari's Shapes
layer takes (``data``, ``shape_type``, ``features``), so the reader, the writer and the widget agree.

Coordinates: a box (x, y, w, h) becomes the rectangle with corners (y, x) and (y + h, x + w) on plane
t = frame. Layers made here carry ``translate = (0, -0.5, -0.5)``, so that box edges at whole numbers lie
on pixel edges, as they do in the CSV. Reading a rectangle back rounds x, y, w and h to
:data:`DECIMALS` decimals, so export -> import -> export gives the same file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from ..annotation.review import DEFAULT_THRESHOLD, confidences
from ..annotation.track_table import TrackTable
from ..io.box_csv import BoxRow, label_problem

#: The features a box file holds; a layer also carries ``confidence`` (:mod:`..annotation.review`) and
#: ``caption`` (the text on the box, :func:`captions`), derived from them and recomputed on every change.
FEATURES = ("track_id", "frame", "score", "source", "keyframe", "outside", "label")
DECIMALS = 3
TRANSLATE = (0.0, -0.5, -0.5)
#: Values napari gives a rectangle a person draws; ``frame = -1`` marks it as not yet seen by the widget.
NEW_BOX = {
    "track_id": 1, "frame": -1, "score": 1.0, "source": "manual", "keyframe": True, "outside": False,
    "label": "", "confidence": 1.0, "caption": "",
}
#: Edge colours: keyframes, tracked boxes, tracked boxes whose confidence is below the review threshold,
#: and outside keyframes (the object is absent from there until the track's next keyframe).
COLOURS = {"keyframe": "#ffd60a", "tracked": "#4cc9f0", "uncertain": "#ff3860", "absent": "#8d99ae"}
EDGE_WIDTHS = {"keyframe": 3.0, "tracked": 1.5, "uncertain": 2.5, "absent": 1.0}
#: The text on a box: its ``caption`` feature, taken as it is (napari then formats nothing per box).
TEXT = {"string": "caption", "size": 9, "color": "white", "anchor": "upper_left"}


def rectangle(row: BoxRow) -> np.ndarray:
    """The four (t, y, x) corners of ``row``'s box, clockwise from the top-left, in float32 as napari
    keeps them (so that the box read from them is the box read from the layer)."""
    t, x0, y0, x1, y1 = row.frame, row.x, row.y, row.x + row.w, row.y + row.h
    return np.array([[t, y0, x0], [t, y0, x1], [t, y1, x1], [t, y1, x0]], dtype=np.float32)


def features_frame(
    rows: Sequence[BoxRow], confidence: dict[tuple[int, int], float] | None = None
) -> pd.DataFrame:
    """The features table for ``rows``, one row per box, with the dtypes the layer keeps; ``confidence``
    by (track_id, frame), computed from ``rows`` when not given."""
    if confidence is None:
        confidence = confidences(TrackTable(unique_rows(rows)))
    features = pd.DataFrame(
        {
            "track_id": np.array([r.track_id for r in rows], dtype=np.int64),
            "frame": np.array([r.frame for r in rows], dtype=np.int64),
            "score": np.array([r.score for r in rows], dtype=np.float64),
            "source": pd.array([r.source for r in rows], dtype=object),
            "keyframe": np.array([r.keyframe for r in rows], dtype=bool),
            "outside": np.array([r.outside for r in rows], dtype=bool),
            "label": pd.array([r.label for r in rows], dtype=object),
            "confidence": np.array(
                [confidence.get((r.track_id, r.frame), r.score) for r in rows], dtype=np.float64
            ),
        }
    )
    features["caption"] = captions(features)
    return features


def captions(features: pd.DataFrame) -> np.ndarray:
    """The text on each box: its label (when set), track and confidence, or ``absent`` on an outside
    keyframe, e.g. ``mouse 2: 0.87``."""
    absent = (features["outside"].to_numpy(bool) & protected(features)).tolist()
    labels, tracks = features["label"].astype(str).tolist(), features["track_id"].tolist()
    return np.array(
        [
            f"{label} {track}: absent" if out else f"{label} {track}: {value:.2f}"
            for label, track, value, out in zip(labels, tracks, features["confidence"].tolist(), absent)
        ],
        dtype=object,
    )


def unique_rows(rows: Sequence[BoxRow]) -> list[BoxRow]:
    """The last row of each (track_id, frame)."""
    return list({(r.track_id, r.frame): r for r in rows}.values())


def protected(features: pd.DataFrame) -> np.ndarray:
    """Per box, whether a person made or accepted it (the rule of ``track_table.is_protected``)."""
    return features["keyframe"].to_numpy(bool) | (features["source"].to_numpy(object) == "manual")


def kinds(features: pd.DataFrame, threshold: float = DEFAULT_THRESHOLD) -> np.ndarray:
    """Each box's kind, a key of :data:`COLOURS`: outside keyframes, keyframes, tracked boxes, and
    tracked boxes whose confidence is below ``threshold``."""
    low = features["confidence"].to_numpy(float) < threshold
    mine = protected(features)
    out = np.where(mine, "keyframe", np.where(low, "uncertain", "tracked"))
    return np.where(mine & features["outside"].to_numpy(bool), "absent", out)


def style(features: pd.DataFrame, threshold: float = DEFAULT_THRESHOLD) -> tuple[list[str], list[float]]:
    """Edge colour and width of each box, by its kind (:func:`kinds`)."""
    return styled(kinds(features, threshold))


def styled(box_kinds: np.ndarray) -> tuple[list[str], list[float]]:
    """Edge colour and width of each kind in ``box_kinds``."""
    return [COLOURS[k] for k in box_kinds], [EDGE_WIDTHS[k] for k in box_kinds]


def layer_kwargs(rows: Sequence[BoxRow], name: str = "boxes", threshold: float = DEFAULT_THRESHOLD) -> dict:
    """Keyword arguments for a napari Shapes layer holding ``rows`` (``viewer.add_shapes(**kwargs)``)."""
    features = features_frame(rows)
    colours, widths = style(features, threshold)
    return {
        "data": [rectangle(r) for r in rows],
        "ndim": 3,
        "shape_type": "rectangle",
        "features": features,
        "feature_defaults": dict(NEW_BOX),
        "edge_color": colours if rows else COLOURS["keyframe"],
        "edge_width": widths if rows else EDGE_WIDTHS["keyframe"],
        "face_color": "transparent",
        "text": dict(TEXT),
        "translate": TRANSLATE,
        "name": name,
    }


@dataclass(frozen=True)
class LayerBoxes:
    """The boxes read from a layer: ``rows[i]`` is shape ``indices[i]``; ``problems`` names the shapes
    that are not boxes (and were left out)."""

    rows: list[BoxRow]
    indices: list[int]
    problems: list[str]

    #: :attr:`columns`, when the code that made these boxes already has them.
    known_columns: BoxColumns | None = field(default=None, repr=False, compare=False)

    @cached_property
    def columns(self) -> BoxColumns:
        """The rows' track ids, frames, scores and whether a person made each, as arrays."""
        return self.known_columns if self.known_columns is not None else BoxColumns.of(self.rows)


@dataclass(frozen=True)
class BoxColumns:
    """Columns of :class:`LayerBoxes` rows (``mine``: a keyframe or a manual box)."""

    tracks: np.ndarray
    frames: np.ndarray
    scores: np.ndarray
    mine: np.ndarray
    outside: np.ndarray

    @classmethod
    def of(cls, rows: Sequence[BoxRow]) -> BoxColumns:
        """The columns of ``rows``."""
        n = len(rows)
        return cls(
            np.fromiter((r.track_id for r in rows), np.int64, n),
            np.fromiter((r.frame for r in rows), np.int64, n),
            np.fromiter((r.score for r in rows), np.float64, n),
            np.fromiter((r.keyframe or r.source == "manual" for r in rows), bool, n),
            np.fromiter((r.outside for r in rows), bool, n),
        )

    def taken(self, positions: np.ndarray) -> BoxColumns:
        """The rows at ``positions``."""
        return BoxColumns(**{name: column[positions] for name, column in vars(self).items()})

    def then(self, other: BoxColumns) -> BoxColumns:
        """These rows, then ``other``'s."""
        return BoxColumns(
            **{name: np.concatenate([column, vars(other)[name]]) for name, column in vars(self).items()}
        )


def box_of(vertices: np.ndarray) -> tuple[int, float, float, float, float] | str:
    """(frame, x, y, w, h) of a rectangle's (4, 3) vertices, or what keeps them from being a box."""
    vertices = np.asarray(vertices, dtype=np.float64)
    if vertices.ndim != 2 or vertices.shape[1] != 3:
        return f"a shape with {vertices.shape[-1]} coordinates per vertex is not a box; boxes need (t, y, x)"
    if not np.isfinite(vertices).all():
        return "a shape with a coordinate that is not a finite number is not a box"
    t = vertices[:, 0]
    if not np.all(t == t[0]) or t[0] != round(t[0]) or t[0] < 0:
        return f"a shape on plane t={t[0]:g} is not on a frame"
    (y0, x0), (y1, x1) = vertices[:, 1:].min(axis=0), vertices[:, 1:].max(axis=0)
    x, y = round(float(x0), DECIMALS), round(float(y0), DECIMALS)
    w, h = round(float(x1 - x0), DECIMALS), round(float(y1 - y0), DECIMALS)
    if not w > 0 or not h > 0:
        return f"frame {int(t[0])}: a box without area"
    return int(t[0]), x, y, w, h


def not_a_box(vertices: np.ndarray, shape_type: str) -> str:
    """The message for a shape of another type than rectangle: where it is and what to do."""
    plane = np.asarray(vertices, dtype=np.float64)[0, 0]
    on_frame = np.isfinite(plane) and plane == round(plane) and plane >= 0
    where = f"frame {int(plane)}" if on_frame else f"plane t={plane:g}"
    return f"{where}: a {shape_type} is not a box; draw boxes with the rectangle tool (R)"


def read_boxes(data: Sequence[np.ndarray], shape_types: Sequence[str], features: pd.DataFrame) -> LayerBoxes:
    """Read the boxes of a Shapes layer; ``features`` may lack any of :data:`FEATURES` (a layer a person
    made): a box then counts as a manual keyframe, not outside and without a label, and one without a
    track id gets a track of its own."""
    n = len(data)
    column = {name: features[name].to_numpy() if name in features else None for name in FEATURES}
    ids = column["track_id"]
    known = ids.astype(float) if ids is not None else np.zeros(0)
    known = known[np.isfinite(known)]
    next_id = int(known.max()) + 1 if known.size else 1
    geometry = _boxes_of(data, shape_types)

    def values(name: str) -> list:
        return column[name].tolist() if column[name] is not None else [None] * n

    tracks, scores, sources = values("track_id"), values("score"), values("source")
    keyframes, outsides, labels = values("keyframe"), values("outside"), values("label")
    rows, indices, problems = [], [], []
    for i, box in enumerate(geometry):
        if isinstance(box, str):
            problems.append(box)
            continue
        track = tracks[i]
        if track is None or not np.isfinite(float(track)):
            track, next_id = next_id, next_id + 1
        source = sources[i] if sources[i] in ("manual", "tracked") else "manual"
        score = float(scores[i]) if column["score"] is not None else 1.0
        score = min(max(score, 0.0), 1.0) if np.isfinite(score) else 1.0
        keyframe = bool(keyframes[i]) if column["keyframe"] is not None else source == "manual"
        label = labels[i].strip() if isinstance(labels[i], str) else ""
        label = label if label_problem(label) is None else ""
        rows.append(
            BoxRow(box[0], int(track), *box[1:], score, source, keyframe, outside=bool(outsides[i]), label=label)
        )
        indices.append(i)
    return LayerBoxes(rows, indices, problems)


def _boxes_of(data: Sequence[np.ndarray], shape_types: Sequence[str]) -> list:
    """:func:`box_of` (or :func:`not_a_box`) of every shape; the rectangles are read together."""
    out: list = [None] * len(data)
    rect = [i for i, kind in enumerate(shape_types) if kind == "rectangle"]
    for i in sorted(set(range(len(data))) - set(rect)):
        out[i] = not_a_box(data[i], shape_types[i])
    arrays = [np.asarray(data[i], dtype=np.float64) for i in rect]
    if not arrays or any(a.shape != (4, 3) for a in arrays):
        for i in rect:
            out[i] = box_of(data[i])
        return out
    vertices = np.stack(arrays)
    t, lo, hi = vertices[:, :, 0], vertices[:, :, 1:].min(axis=1), vertices[:, :, 1:].max(axis=1)
    on_frame = np.all(t == t[:, :1], axis=1) & (t[:, 0] == np.round(t[:, 0])) & (t[:, 0] >= 0)
    on_frame &= np.isfinite(vertices).all(axis=(1, 2))
    frames, (y0, x0), (h, w) = t[:, 0].tolist(), lo.T.tolist(), (hi - lo).T.tolist()
    for k, i in enumerate(rect):
        box = (
            int(frames[k]), round(x0[k], DECIMALS), round(y0[k], DECIMALS),
            round(w[k], DECIMALS), round(h[k], DECIMALS),
        ) if on_frame[k] else None
        out[i] = box if box is not None and box[3] > 0 and box[4] > 0 else box_of(data[i])
    return out


def unique_boxes(boxes: LayerBoxes) -> tuple[LayerBoxes, list[str]]:
    """Keep one box per (track, frame): the last in layer order (the newest). Returns the kept boxes and a
    message for each box set aside."""
    last = {(r.track_id, r.frame): k for k, r in enumerate(boxes.rows)}
    keep = sorted(last.values())
    dropped = [
        f"frame {r.frame}: track {r.track_id} has two boxes (the older one is left out)"
        for k, r in enumerate(boxes.rows)
        if last[(r.track_id, r.frame)] != k
    ]
    rows = [boxes.rows[k] for k in keep]
    return LayerBoxes(rows, [boxes.indices[k] for k in keep], boxes.problems), dropped
