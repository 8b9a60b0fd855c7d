"""Undo last propagation, in a real viewer with a test double tracker."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from doubles import StepTracker, numbered_frames
from test_widget import rows_of, run

from napari_siamtrack.io.box_csv import BoxRow
from napari_siamtrack.ui.layer_boxes import layer_kwargs, rectangle
from napari_siamtrack.ui.widget import PropagateWidget


@pytest.fixture
def setup(make_napari_viewer_proxy):
    """A viewer with a numbered video, one keyframe on frame 0, and the widget with a test double."""

    def make(n_frames=12, tracker=None):
        viewer = make_napari_viewer_proxy()
        viewer.add_image(numbered_frames(n_frames), name="video")
        kwargs = layer_kwargs([BoxRow(0, 1, 10.0, 5.0, 8.0, 6.0, 1.0, "manual", True)], name="boxes")
        viewer.add_shapes(kwargs.pop("data"), **kwargs)
        tracker = tracker or StepTracker()
        widget = PropagateWidget(viewer, tracker_factory=lambda: tracker)
        viewer.dims.set_current_step(0, 0)
        return viewer, widget, tracker

    return make


def state(layer):
    """Everything undo must put back: vertices, shape types, features, edge colours and widths."""
    return (
        [np.array(d) for d in layer.data],
        list(layer.shape_type),
        layer.features.copy(),
        np.array(layer.edge_color),
        np.array(layer.edge_width),
    )


def assert_same(a, b):
    assert len(a[0]) == len(b[0])
    for x, y in zip(a[0], b[0]):
        np.testing.assert_array_equal(x, y)
    assert a[1] == b[1]
    pd.testing.assert_frame_equal(a[2], b[2])
    np.testing.assert_array_equal(a[3], b[3])
    np.testing.assert_array_equal(a[4], b[4])


def move(layer, index, dy, dx):
    """What napari does when a person drags a box: new vertices, then a CHANGED data event."""
    moved = layer.data[index] + np.array([0.0, dy, dx])
    with layer.events.data.blocker():
        layer.data = [moved if i == index else d for i, d in enumerate(layer.data)]
    layer.events.data(value=layer.data, action="changed", data_indices=(index,), vertex_indices=((),))


def test_undo_after_a_first_run_restores_the_layer_exactly(setup, qtbot):
    _, widget, _ = setup()
    layer = widget.boxes.value
    before = state(layer)
    assert not widget.undo_button.enabled
    run(widget, qtbot)
    assert layer.nshapes == 12 and widget.undo_button.enabled
    widget.undo_propagation()
    assert_same(state(layer), before)
    assert not widget.undo_button.enabled
    assert widget.status.value.startswith("Undone: 11 tracked boxes taken out")


def test_undo_of_a_repropagation_puts_the_replaced_boxes_back_in_place(setup, qtbot):
    viewer, widget, tracker = setup()
    layer = widget.boxes.value
    run(widget, qtbot)
    (index,) = widget.binding().indices_on(5)
    move(layer, index, 2.0, 3.0)
    tracker.dx = 2.0  # the second run writes other boxes over frames 6…11
    before = state(layer)
    viewer.dims.set_current_step(0, 5)
    run(widget, qtbot)
    assert rows_of(widget)[(1, 8)].x == rows_of(widget)[(1, 5)].x + 6
    widget.undo_propagation()
    assert_same(state(layer), before)


def test_boxes_a_person_changed_after_the_run_are_kept(setup, qtbot):
    _, widget, _ = setup()
    layer = widget.boxes.value
    run(widget, qtbot)
    (index,) = widget.binding().indices_on(7)
    move(layer, index, 1.0, 1.0)
    layer.add_rectangles(rectangle(BoxRow(3, 2, 30.0, 20.0, 10.0, 8.0, 1.0, "manual", True)))
    moved = rows_of(widget)[(1, 7)]
    widget.undo_propagation()
    rows = rows_of(widget)
    assert sorted(rows) == [(1, 0), (1, 7), (2, 3)]
    assert rows[(1, 7)] == moved and rows[(1, 7)].keyframe


def test_runs_are_undone_newest_first(setup, qtbot):
    _, widget, tracker = setup()
    layer = widget.boxes.value
    initial = state(layer)
    widget.until.value = "frame"
    widget.until_frame.value = 4
    run(widget, qtbot)
    after_first = state(layer)
    widget.until.value = "end"
    widget.start_from.value = "all"
    tracker.dx = 3.0
    run(widget, qtbot)
    widget.undo_propagation()
    assert_same(state(layer), after_first)
    widget.undo_propagation()
    assert_same(state(layer), initial)


def test_undo_of_a_cancelled_run_and_while_running(setup, qtbot, monkeypatch):
    infos = []
    monkeypatch.setattr("napari_siamtrack.ui.widget.show_info", infos.append)
    _, widget, _ = setup(n_frames=200, tracker=StepTracker(delay=0.01))
    layer = widget.boxes.value
    before = state(layer)
    worker = widget.propagate()
    qtbot.waitUntil(lambda: widget.progress.value >= 10, timeout=10_000)
    assert not widget.undo_button.enabled
    widget.undo_propagation()
    assert infos == ["a propagation is running: Cancel it first"]
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        widget.cancel()
    qtbot.waitUntil(lambda: widget.worker is None, timeout=10_000)
    assert layer.nshapes > 10
    widget.undo_propagation()
    assert_same(state(layer), before)
    widget.undo_propagation()
    assert infos[-1] == "no propagation to undo on this layer"
