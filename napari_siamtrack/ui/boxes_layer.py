"""A napari Shapes layer of boxes, kept consistent with what a person does to it.

- A box a person draws, moves, resizes or pastes becomes a manual keyframe on the frame it lies on.
- A drawn box starts a new track; a pasted box keeps its track, replacing that track's tracked box on the
  frame (if the track already has a keyframe there, the pasted box starts a new track instead).
- A shape that is not a rectangle (polygon, ellipse, line, path) is refused: it is removed once napari
  has finished drawing it, with a message; nothing else changes.
- Tracker output is merged in batches and only ever replaces unprotected (tracked, non-keyframe) boxes;
  it takes the label its track has in the layer at that moment.

New shapes are told apart by their ``frame`` feature: napari gives a shape drawn or added the layer's
``feature_defaults``, whose ``frame`` is -1, so it never matches the plane the shape lies on. napari
resets the defaults to the last row whenever ``features`` is assigned, so every assignment here goes
through :meth:`BoxesLayer._set_features`, which puts them back.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import replace

import numpy as np
import pandas as pd
from napari.layers import Shapes
from napari.utils.colormaps.standardize_color import transform_color
from napari.utils.notifications import show_warning
from qtpy.QtCore import QTimer

from ..annotation.gaps import FilledGaps
from ..annotation.review import BoxReview, confidence_values
from ..annotation.track_table import TrackTable
from ..io.box_csv import BoxRow
from .export import SavedState
from .layer_boxes import (
    COLOURS,
    DEFAULT_THRESHOLD,
    EDGE_WIDTHS,
    FEATURES,
    NEW_BOX,
    TEXT,
    BoxColumns,
    LayerBoxes,
    captions,
    features_frame,
    kinds,
    not_a_box,
    protected,
    read_boxes,
    rectangle,
    styled,
    unique_boxes,
)


class BoxesLayer:
    """Watches ``layer`` for edits; :meth:`merge` puts tracker output in. Call :meth:`close` when done."""

    def __init__(
        self,
        layer: Shapes,
        threshold: float = DEFAULT_THRESHOLD,
        report: Callable[[str], None] = show_warning,
    ) -> None:
        """``report`` is told, in one line, about each shape refused; ``on_change`` (settable later) is
        called after every change of the boxes."""
        if layer.ndim != 3:
            raise ValueError(
                f"layer {layer.name!r} has {layer.ndim} dimensions; boxes need a (t, y, x) Shapes layer"
            )
        self.layer = layer
        self.threshold = threshold
        self.report = report
        self.new_label = ""  # the label a box drawn as a new track gets
        self.on_change: Callable[[], None] = lambda: None
        #: Every box's confidence, kept with each change (what the timeline and the review read).
        self.review = BoxReview.of(TrackTable())
        self._busy = False
        self._view_behind = False  # merges held napari's view of the layer (see :meth:`merge`)
        self._read: LayerBoxes | None = None  # the shapes as boxes, until the layer next changes
        self._read_from = pd.DataFrame()  # the features they were read with (what boxes are read from)
        if set(FEATURES) <= set(layer.features.columns):
            self._set_features(layer.features)
        else:
            self._adopt()
        table = self.table()
        #: Gaps tracked since their keyframes last changed; what the layer holds now counts as tracked.
        self.filled = FilledGaps(table)
        #: The rows as last exported, or as read from the CSV the layer was opened from.
        self.saved = SavedState(layer, list(table))
        layer.events.data.connect(self._on_data)
        layer.events.features.connect(self._on_features)

    def close(self) -> None:
        self.layer.events.data.disconnect(self._on_data)
        self.layer.events.features.disconnect(self._on_features)

    # --- reading ---------------------------------------------------------------------------------

    def boxes(self) -> tuple[LayerBoxes, list[str]]:
        """The boxes, one per (track, frame), and a message for each shape left out."""
        boxes, repeated = unique_boxes(self._shapes())
        return boxes, boxes.problems + repeated

    def kept_boxes(self) -> list[BoxRow] | None:
        """The boxes, one per (track, frame), when the shapes are read already; else None."""
        return None if self._read is None else unique_boxes(self._read)[0].rows

    def _shapes(self) -> LayerBoxes:
        """Every shape read as a box (or a problem), kept until the layer next changes."""
        if self._read is None:
            layer = self.layer
            self._read = read_boxes(layer.data, layer.shape_type, layer.features)
            self._read_from = layer.features[list(FEATURES)].copy()
        return self._read

    def table(self) -> TrackTable:
        return TrackTable(self.boxes()[0].rows)

    # --- writing ---------------------------------------------------------------------------------

    def merge(self, rows: list[BoxRow], hold_view: bool = False) -> int:
        """Put tracker rows in, replacing only unprotected boxes; return how many went in.

        ``hold_view``: when no row lands on a frame napari shows, napari's view of the layer is not
        brought up to date (it would slice every shape, redraw the canvas and place the captions in view
        again, for boxes nobody sees); :meth:`refresh_view` does it later, and napari does it when the
        shown frame changes."""
        if not rows:
            return 0
        layer = self.layer
        features = layer.features
        rows = list({(r.track_id, r.frame): r for r in rows}.values())
        # the shapes the rows land on, found on arrays: a merge reads no column of the layer box by box
        tracks = features["track_id"].to_numpy(np.int64)
        keys = _keys(tracks, features["frame"].to_numpy(np.int64))
        hits = np.flatnonzero(np.isin(keys, [_key(r) for r in rows]))
        where = dict(zip(keys[hits].tolist(), hits.tolist()))  # the last shape of each (track, frame)
        mine = set(hits[protected(features.iloc[hits])].tolist())
        labels = features["label"].to_numpy(object)
        label_of = {
            t: labels[at[-1]] for t in {r.track_id for r in rows} if len(at := np.flatnonzero(tracks == t))
        }
        rows = [replace(r, label=label_of.get(r.track_id, r.label)) for r in rows]
        taken = [r for r in rows if where.get(_key(r)) not in mine]
        stale = [where[_key(r)] for r in taken if _key(r) in where]
        if not taken:
            return 0
        # The boxes after the merge are the boxes now and the new ones (no need to read every shape
        # again), and the new shapes are added in their final colours: a merge costs little more than
        # its rows, however many boxes the layer holds.
        added = features_frame(taken, confidence={})
        shapes = [rectangle(r) for r in taken]
        new = read_boxes(shapes, ["rectangle"] * len(taken), added)
        after = _spliced(self._shapes(), stale, new, layer.nshapes - len(stale))
        features = pd.concat([features.drop(index=stale), added], ignore_index=True)
        style_of, shown, restyle = {}, {r.frame for r in taken}, True
        if after is not None:
            old = len(features) - len(taken)  # the boxes that were there
            captions = features["caption"].to_numpy(object).copy()
            confidence = features["confidence"].to_numpy(np.float64).copy()
            features = self._with_confidence(features, after, remade=np.arange(old, len(features)))
            # the frames whose boxes or captions change, and whether a box that was there changes kind
            recaptioned = features["caption"].to_numpy(object)[:old] != captions[:old]
            shown.update(features["frame"].to_numpy(np.int64)[:old][recaptioned].tolist())
            moved = np.flatnonzero(features["confidence"].to_numpy(np.float64)[:old] != confidence[:old])
            prior = features.iloc[moved].assign(confidence=confidence[moved])
            restyle = bool((kinds(prior, self.threshold) != kinds(features.iloc[moved], self.threshold)).any())
            colours, widths = styled(kinds(features.iloc[old:], self.threshold))
            style_of = {"edge_color": colours, "edge_width": widths}
        held = hold_view and _out_of_view(layer, shown)
        with _view_held(layer) if held else _captions_placed_once(layer):
            with self._quiet():
                if stale:
                    layer.remove(stale)
                layer.add_rectangles(shapes, **style_of)
            self._set_features(features, after, with_confidence=after is not None, restyle=restyle)
        self._view_behind |= held
        return len(taken)

    def refresh_view(self) -> None:
        """Bring napari's view of the layer (its extent, thumbnail and the shapes in view) up to date
        after merges that held it."""
        if self._view_behind:
            self._view_behind = False
            self.layer.refresh()

    def replace_boxes(self, rows: list[BoxRow]) -> None:
        """Make the layer's boxes ``rows`` (one per track and frame): boxes that differ are removed and
        the new ones added; shapes that are not boxes stay as they are."""
        boxes, _ = self.boxes()
        old = {(r.track_id, r.frame): (r, i) for r, i in zip(boxes.rows, boxes.indices)}
        new = {(r.track_id, r.frame): r for r in rows}
        stale = [i for key, (r, i) in old.items() if new.get(key) != r]
        added = [r for key, r in new.items() if key not in old or old[key][0] != r]
        if not stale and not added:
            return
        layer = self.layer
        with _captions_placed_once(layer):
            with self._quiet():
                layer.selected_data = set()
                if stale:
                    layer.remove(stale)
                kept = layer.features.iloc[: layer.nshapes].reset_index(drop=True)
                if added:
                    layer.add_rectangles([rectangle(r) for r in added])
            self._set_features(pd.concat([kept, features_frame(added, confidence={})], ignore_index=True))

    def set_shapes(self, data: list, shape_types: list[str], features: pd.DataFrame) -> None:
        """Replace every shape and its features (an undo of a propagation)."""
        with self._quiet():
            self.layer.data = (list(data), list(shape_types))
        self._set_features(features)

    def set_keyframe(self, indices, keyframe: bool) -> None:
        """Make the boxes at ``indices`` keyframes, or hand them back to the tracker (``keyframe=False``:
        the next propagation may replace them)."""
        indices = sorted(indices)
        if not indices:
            return
        features = self.layer.features.copy()
        features.loc[indices, "keyframe"] = keyframe
        if not keyframe:
            features.loc[indices, "source"] = "tracked"
        self._set_features(features)

    def set_label(self, indices, label: str) -> list[int]:
        """Give every box of the tracks of the boxes at ``indices`` the class ``label``; return the tracks."""
        features = self.layer.features.copy()
        tracks = sorted(set(features.loc[sorted(indices), "track_id"].tolist()))
        features.loc[features["track_id"].isin(tracks), "label"] = label
        self._set_features(features)
        return tracks

    def set_new_label(self, label: str) -> None:
        """The class of the tracks drawn from now on."""
        self.new_label = label
        with self._quiet():
            self.layer.feature_defaults = {**self.layer.feature_defaults.iloc[0].to_dict(), "label": label}

    def labels(self) -> list[str]:
        """The class labels the boxes have, sorted (without the empty one)."""
        return sorted({label for label in self.layer.features["label"] if label})

    def restyle(self, threshold: float | None = None) -> None:
        """Recolour the boxes napari does not draw as their kind asks (after an edit, a merge, or a
        change of the review ``threshold``): when they are the selected boxes and of one kind (a box a
        person dragged), those alone, else every box."""
        if threshold is not None:
            self.threshold = threshold
        layer = self.layer
        if not layer.nshapes:
            return
        now = kinds(layer.features, self.threshold)
        rgba, widths = _style_arrays(now)
        wrong = np.flatnonzero(_unlike(layer, rgba, widths))
        if not len(wrong):
            return
        with self._quiet():
            if set(wrong.tolist()) == set(layer.selected_data) and len(set(now[wrong].tolist())) == 1:
                # napari styles the selected shapes (and the ones drawn next) in O(selected) this way
                layer.current_edge_color = COLOURS[now[wrong[0]]]
                layer.current_edge_width = EDGE_WIDTHS[now[wrong[0]]]
                if not _unlike(layer, rgba, widths).any():
                    return
            colours, edge_widths = styled(now)
            layer.edge_color = colours
            layer.edge_width = edge_widths

    def indices_on(self, frame: int, below: float | None = None) -> set[int]:
        """Shapes on ``frame`` (tracked ones whose confidence is below ``below``, when given)."""
        f = self.layer.features
        on = f["frame"].to_numpy() == frame
        if below is not None:
            on &= ~protected(f) & (f["confidence"].to_numpy(float) < below)
        return set(np.flatnonzero(on).tolist())

    # --- edits by a person -----------------------------------------------------------------------

    def _on_data(self, event) -> None:
        if event.action not in ("added", "changed", "removed"):
            return  # napari announces a change before making it
        read, self._read = self._read, None
        if self._busy:
            return
        if event.action == "added":
            self._claim_new(read)
        elif event.action == "changed":
            layer = self.layer
            indices = sorted({i for i in event.data_indices if 0 <= i < layer.nshapes})
            features = _as_manual(layer.features.copy(), indices)
            read = _reread(read, layer, indices, features.iloc[indices]) if read is not None else None
            if read is None:
                self._set_features(features)
            else:  # only the boxes a person changed are read again, and the captions that change remade
                features = self._with_confidence(features.reset_index(drop=True), read, remade=indices)
                self._set_features(features, read, with_confidence=True)
        elif event.action == "removed":
            self._set_features(self.layer.features.copy())

    def _on_features(self, event=None) -> None:
        # napari announces features after adding shapes too; the boxes read stay when what they are read
        # from has not changed
        if self._busy or not self._read_from.equals(self.layer.features[list(FEATURES)]):
            self._read = None
        if not self._busy:  # a paste changes features without a data event
            self._claim_new()

    def _claim_new(self, read: LayerBoxes | None = None) -> None:
        """Turn new or pasted rectangles (their ``frame`` feature does not match their plane) into
        keyframes; refuse new shapes of any other type. ``read``: the boxes before shapes were added,
        when known (then only the added shapes are read)."""
        layer = self.layer
        features = layer.features.copy()
        data = layer.data
        planes = np.array([round(float(d[0, 0])) for d in data], dtype=np.int64)
        new = np.flatnonzero(features["frame"].to_numpy() != planes)
        types = layer.shape_type
        refused = [i for i in new if types[i] != "rectangle" and features.at[i, "track_id"] != 0]
        if refused:
            for i in refused:
                self.report(not_a_box(data[i], types[i]))
            features.loc[refused, "track_id"] = 0  # marked for removal
            QTimer.singleShot(0, self._remove_refused)  # napari is still inside its drawing code
        new = np.array([i for i in new if types[i] == "rectangle"], dtype=np.int64)
        if not len(new):
            if refused:
                self._set_features(features)
            return
        features.loc[new, "frame"] = planes[new]
        features = _as_manual(features, new)
        # the shapes that were there before with the (track, frame) of a new one, found on arrays
        tracks, frames = features["track_id"].to_numpy(np.int64), features["frame"].to_numpy(np.int64)
        keys, fresh = _keys(tracks, frames), np.zeros(len(features), bool)
        fresh[new] = True
        hits = np.flatnonzero(np.isin(keys, keys[new]) & ~fresh)
        old = dict(zip(keys[hits].tolist(), hits.tolist()))
        stale, next_id, mine = [], int(tracks.max()) + 1, set(hits[protected(features.iloc[hits])].tolist())
        for i in new.tolist():
            clash = old.get(_key_of(features.at[i, "track_id"], features.at[i, "frame"]))
            if clash is not None and clash not in mine:
                stale.append(clash)
            elif clash is not None:
                features.at[i, "track_id"], next_id = next_id, next_id + 1
            old[_key_of(features.at[i, "track_id"], features.at[i, "frame"])] = i
            mine.add(i)  # a new box is a person's
        n = len(features)
        appended = not refused and not stale and new.tolist() == list(range(n - len(new), n))
        if read is None or not appended or _shapes_in(read) != n - len(new):
            self._set_features(features)
        else:  # a person drew boxes: only they are read, and only the captions that change are remade
            added = read_boxes([data[i] for i in new], [types[i] for i in new], features.iloc[new])
            after = _spliced(read, [], added, n - len(new))
            self._set_features(self._with_confidence(features, after, remade=new), after, with_confidence=True)
        if stale:
            with self._quiet():
                layer.remove(stale)

    def _remove_refused(self) -> None:
        """Remove the shapes :meth:`_claim_new` refused (new, not rectangles, track 0)."""
        layer = self.layer
        features = layer.features
        planes = np.array([round(float(d[0, 0])) for d in layer.data], dtype=np.int64)
        refused = np.flatnonzero(
            (features["track_id"].to_numpy() == 0)
            & (features["frame"].to_numpy() != planes)
            & (np.asarray(layer.shape_type) != "rectangle")
        )
        if len(refused):
            with self._quiet():
                layer.remove(refused.tolist())
            self._set_features(layer.features.copy())

    # --- helpers ---------------------------------------------------------------------------------

    def _adopt(self) -> None:
        """Give a layer made elsewhere (napari's own Shapes layer) the box features, text and defaults.
        Shapes that are not boxes get track 0 and are left out when boxes are read."""
        layer = self.layer
        boxes = read_boxes(layer.data, layer.shape_type, layer.features)
        found = dict(zip(boxes.indices, boxes.rows))
        rows = [
            found.get(i) or BoxRow(max(round(float(d[0, 0])), 0), 0, 0.0, 0.0, 1.0, 1.0, 1.0, "manual", True)
            for i, d in enumerate(layer.data)
        ]
        self._set_features(features_frame(rows))
        with self._quiet():
            layer.text = dict(TEXT)  # after the features: it shows their caption
            layer.face_color = "transparent"

    def _set_features(
        self,
        features: pd.DataFrame,
        read: LayerBoxes | None = None,
        with_confidence: bool = False,
        restyle: bool = True,
    ) -> None:
        """The one way features are assigned, with every box's confidence recomputed (unless
        ``with_confidence``: ``features`` come from :meth:`_with_confidence` of ``read``). napari resets
        the defaults on assignment, so they are put back. ``read``: the shapes as boxes with these
        features, when known. ``restyle``: False when every box is already drawn as its kind asks."""
        layer = self.layer
        features = features.reset_index(drop=True)
        if read is None:
            read = read_boxes(layer.data, layer.shape_type, features)
        if not with_confidence:
            features = self._with_confidence(features, read)
        with self._quiet():
            layer.features = features
            ids = features["track_id"]
            layer.feature_defaults = {
                **NEW_BOX, "track_id": int(ids.max()) + 1 if len(ids) else 1, "label": self.new_label
            }
        self._read, self._read_from = read, layer.features[list(FEATURES)].copy()
        if restyle:
            self.restyle()
        self.on_change()

    def _with_confidence(
        self, features: pd.DataFrame, read: LayerBoxes, remade: np.ndarray | list[int] | None = None
    ) -> pd.DataFrame:
        """``features`` with every box's confidence and caption, computed from the boxes ``read``.
        ``remade``: the only rows that changed since their captions were made (new rows of a merge, the
        boxes a person moved), so only their captions and those whose confidence changed are made
        again; None: every caption."""
        n, columns = len(read.rows), read.columns
        tracks, frames, scores, mine = columns.tracks, columns.frames, columns.scores, columns.mine
        # one box per (track, frame), the last in layer order (as unique_boxes keeps), ordered by key
        keys, last = np.unique(_keys(tracks, frames)[::-1], return_index=True)
        last = n - 1 - last
        values = confidence_values(tracks[last], frames[last], scores[last], mine[last])
        self.review = BoxReview(tracks[last], frames[last], values, mine[last], columns.outside[last])
        # each shape takes the confidence of its (track, frame); shapes that are not boxes get 1
        keys, values = np.r_[keys, -1], np.r_[values, 1.0]  # -1: a key no shape has
        wanted = _keys(features["track_id"].to_numpy(np.int64), features["frame"].to_numpy(np.int64))
        at = np.minimum(np.searchsorted(keys[:-1], wanted), len(keys) - 1)
        confidence = np.where(keys[at] == wanted, values[at], 1.0)
        if remade is None or "caption" not in features:
            features["confidence"] = confidence
            features["caption"] = captions(features)
            return features
        redo = features["confidence"].to_numpy(np.float64) != confidence
        redo[np.asarray(remade, np.int64)] = True
        features["confidence"] = confidence
        caption = features["caption"].to_numpy(object).copy()
        caption[redo] = captions(features[redo])
        features["caption"] = caption
        return features

    def _quiet(self):
        return _Busy(self)


@contextmanager
def _captions_placed_once(layer: Shapes):
    """napari places the caption of every box in view again when shapes are added or removed and again
    when the features change, reading every shape of the layer for each box in view; with the captions
    hidden meanwhile, they are placed once, when they show again."""
    if not layer.text.visible:
        yield
        return
    layer.text.visible = False
    try:
        yield
    finally:
        layer.text.visible = True


def _out_of_view(layer: Shapes, frames: set[int]) -> bool:
    """Whether napari shows none of ``frames`` of ``layer``: a view of one plane (or a thick slice of a
    few) across the frame axis that holds none of them. False when that cannot be told."""
    try:
        if 0 in layer._slice_input.displayed:
            return False
        at = layer._data_slice
        low = math.floor(at.point[0] - at.margin_left[0] - 0.5)
        high = math.ceil(at.point[0] + at.margin_right[0] + 0.5)
    except (AttributeError, IndexError, TypeError, ValueError):
        return False
    return not any(low <= frame <= high for frame in frames)


@contextmanager
def _view_held(layer: Shapes):
    """napari's view of ``layer`` is not refreshed inside (napari's own refresh block, when it has one),
    and the canvas is not told of new captions (napari draws the captions in view again, and repaints,
    whenever the layer's text changes)."""
    block = getattr(layer, "_block_refresh", None)
    if block is None:
        yield
        return
    with block(), layer.text.events.blocker_all():
        yield


def _spliced(read: LayerBoxes, removed: list[int], added: LayerBoxes, offset: int) -> LayerBoxes | None:
    """The boxes of a layer after the shapes at ``removed`` (boxes) are taken out and those ``added``
    appended after the ``offset`` shapes left; None when a removed shape is not a box."""
    indices = np.asarray(read.indices, np.int64)
    gone = np.unique(np.asarray(removed, np.int64))
    if not np.isin(gone, indices).all():
        return None
    kept = np.flatnonzero(~np.isin(indices, gone))
    shifted = indices[kept] - np.searchsorted(gone, indices[kept])  # removed shapes before each one
    rows = read.rows if len(kept) == len(indices) else [read.rows[k] for k in kept.tolist()]
    return LayerBoxes(
        rows + added.rows,
        shifted.tolist() + [offset + i for i in added.indices],
        read.problems + added.problems,
        known_columns=read.columns.taken(kept).then(added.columns),
    )


def _reread(read: LayerBoxes, layer: Shapes, indices: list[int], features: pd.DataFrame) -> LayerBoxes | None:
    """The boxes ``read`` with the shapes at ``indices`` (boxes still) read again with ``features`` (their
    rows); None when one of them is not a box, before or now, or the layer has another number of shapes."""
    at = {i: k for k, i in enumerate(read.indices)}
    if not indices or _shapes_in(read) != layer.nshapes or any(i not in at for i in indices):
        return None
    data, types = layer.data, layer.shape_type
    fresh = read_boxes([data[i] for i in indices], [types[i] for i in indices], features)
    if fresh.problems:
        return None
    rows = list(read.rows)
    for i, row in zip(indices, fresh.rows):
        rows[at[i]] = row
    positions = [at[i] for i in indices]
    columns = {name: column.copy() for name, column in vars(read.columns).items()}
    for name, column in vars(fresh.columns).items():
        columns[name][positions] = column
    return LayerBoxes(rows, read.indices, read.problems, known_columns=BoxColumns(**columns))


def _shapes_in(read: LayerBoxes) -> int:
    """How many shapes the layer had when ``read`` was read: a box or a problem each."""
    return len(read.indices) + len(read.problems)


def _style_arrays(box_kinds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edge colour (RGBA, as napari keeps it) and width of each kind in ``box_kinds``."""
    names, at = np.unique(np.asarray(box_kinds, dtype=str), return_inverse=True)
    rgba = transform_color([COLOURS[k] for k in names])
    return rgba[at], np.array([EDGE_WIDTHS[k] for k in names], dtype=np.float64)[at]


def _unlike(layer: Shapes, rgba: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """Per shape, whether napari draws it with another edge colour or width than given."""
    shown = np.asarray(layer.edge_color, dtype=np.float64)
    return ~np.isclose(shown, rgba, atol=1e-6).all(axis=1) | (np.asarray(layer.edge_width, np.float64) != widths)


def _keys(tracks: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """One integer per (track, frame) pair, ordered as the pairs are."""
    return tracks.astype(np.int64) * (1 << 32) + frames.astype(np.int64)


def _key(row: BoxRow) -> int:
    """:func:`_keys` of one row."""
    return _key_of(row.track_id, row.frame)


def _key_of(track: int, frame: int) -> int:
    """:func:`_keys` of one (track, frame) pair."""
    return int(track) * (1 << 32) + int(frame)


def _as_manual(features: pd.DataFrame, indices) -> pd.DataFrame:
    """Mark the boxes at ``indices`` as a person's keyframes."""
    features.loc[indices, "source"] = "manual"
    features.loc[indices, "keyframe"] = True
    features.loc[indices, "score"] = 1.0
    return features


class _Busy:
    """While inside, the layer's own events are ours, not a person's edits."""

    def __init__(self, owner: BoxesLayer) -> None:
        self.owner = owner

    def __enter__(self) -> None:
        self.previous, self.owner._busy = self.owner._busy, True

    def __exit__(self, *exc_info) -> None:
        self.owner._busy = self.previous
