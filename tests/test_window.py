"""The widget in a shown napari window, driven with real mouse and keyboard events: drawing after a
propagation, shapes that are not boxes, and the small things a new user trips over."""

from __future__ import annotations

import numpy as np
import pytest
from doubles import StepTracker, numbered_frames
from gui import drag, draw_polygon, draw_rectangle, settle
from test_widget import rows_of, run

from napari_siamtrack.io.box_csv import BoxRow
from napari_siamtrack.ui.layer_boxes import layer_kwargs
from napari_siamtrack.ui.widget import PropagateWidget


@pytest.fixture
def window(docked, qtbot):
    """A shown viewer with a 12-frame video, a boxes layer with a keyframe on frame 0, and the widget
    docked; ``until`` frames are tracked (frames after it stay empty)."""

    def make(until=11, tracker=None):
        viewer, widget, layer = docked([BoxRow(0, 1, 10.0, 5.0, 8.0, 6.0, 1.0, "manual", True)], tracker)
        if until < 11:
            widget.until.value, widget.until_frame.value = "frame", until
        run(widget, qtbot, timeout=60_000)
        viewer.layers.selection.active = layer
        settle()
        return viewer, widget, layer

    return make


def snapshot(layer):
    return [d.copy() for d in layer.data], list(layer.shape_type), layer.features.copy()


def assert_read_as_afresh(widget, layer):
    """What the widget keeps of the layer (boxes, colours) is what reading and styling it again gives."""
    from napari.utils.colormaps.standardize_color import transform_color

    from napari_siamtrack.ui.layer_boxes import read_boxes, style, unique_boxes

    fresh, repeated = unique_boxes(read_boxes(layer.data, layer.shape_type, layer.features))
    assert widget.binding().boxes() == (fresh, fresh.problems + repeated)
    colours, widths = style(layer.features, widget.binding().threshold)
    assert np.allclose(layer.edge_color, transform_color(colours)) and layer.edge_width == widths


def assert_unchanged(layer, before):
    data, types, features = before
    assert layer.nshapes == len(data) and list(layer.shape_type) == types
    assert all(np.array_equal(a, b) for a, b in zip(layer.data, data))
    assert layer.features.equals(features)


@pytest.mark.parametrize("frame", [5, 8, 10], ids=["tracked frame", "last tracked frame", "untracked frame"])
def test_a_rectangle_drawn_after_a_propagation_starts_a_new_track(window, frame):
    viewer, widget, layer = window(until=8)
    before = rows_of(widget)
    viewer.dims.set_current_step(0, frame)
    draw_rectangle(viewer, layer, 30, 40, 40, 55)
    rows = rows_of(widget)
    new = [r for key, r in rows.items() if key not in before]
    assert len(new) == 1 and new[0].track_id == 2 and new[0].frame == frame
    assert new[0].keyframe and new[0].source == "manual" and new[0].score == 1.0
    assert abs(new[0].x - 40) <= 0.6 and abs(new[0].w - 15) <= 0.6
    assert {key: r for key, r in rows.items() if key in before} == before  # nothing else changed
    assert layer.features.iloc[-1]["track_id"] == 2
    assert widget.binding().boxes()[1] == []  # no repeated or stray shape
    # a second rectangle starts yet another track
    assert_read_as_afresh(widget, layer)
    draw_rectangle(viewer, layer, 20, 20, 26, 28)
    assert sorted({t for t, _ in rows_of(widget)}) == [1, 2, 3]
    assert_read_as_afresh(widget, layer)


@pytest.mark.parametrize("mode", ["polygon", "ellipse", "line"])
def test_a_shape_that_is_not_a_box_is_refused_and_nothing_else_changes(window, mode):
    viewer, widget, layer = window()
    viewer.dims.set_current_step(0, 5)
    before = snapshot(layer)
    if mode == "polygon":
        draw_polygon(viewer, layer, [(20, 20), (20, 40), (35, 40), (35, 25)])
    else:
        layer.mode = f"add_{mode}"
        drag(viewer, layer, (20, 20), (35, 40))
    settle(10)
    assert_unchanged(layer, before)
    assert "frame 5" in widget.status.value and "rectangle" in widget.status.value
    assert widget.binding().boxes()[1] == []
    # the layer still works: a rectangle drawn next is a new track's keyframe
    layer.mode = "add_rectangle"
    drag(viewer, layer, (30, 40), (40, 55))
    assert rows_of(widget)[(2, 5)].keyframe


def click_button(qtbot, button) -> None:
    from qtpy.QtCore import Qt

    qtbot.mouseClick(button.native, Qt.MouseButton.LeftButton)
    settle()


def test_after_one_correction_every_keyframe_tracks_only_the_gaps_next_to_it(make_napari_viewer, qtbot):
    viewer = make_napari_viewer(show=True)
    viewer.window.resize(1100, 760)
    viewer.add_image(numbered_frames(30, height=60, width=80), name="video")
    keys = [BoxRow(f, 1, 10.0, 5.0, 8.0, 6.0, 1.0, "manual", True) for f in (0, 20)]
    kwargs = layer_kwargs(keys, name="boxes")
    layer = viewer.add_shapes(kwargs.pop("data"), **kwargs)
    tracker = StepTracker(dx=0.0)
    widget = PropagateWidget(viewer, tracker_factory=lambda: tracker)
    viewer.window.add_dock_widget(widget, area="right")
    widget.close_guard.enabled = False
    widget.start_from.value = "all"
    click_button(qtbot, widget.propagate_button)
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)
    assert len(tracker.updates) == 2 * 19 + 9  # the gap 1-19 from both ends
    tracker.updates.clear()
    viewer.dims.set_current_step(0, 25)
    layer.mode = "select"
    drag(viewer, layer, (8.0, 14.0), (18.0, 30.0))  # the box's centre, dragged 10 down and 16 right
    moved = rows_of(widget)[(1, 25)]
    assert moved.keyframe and abs(moved.x - 26) <= 0.6 and abs(moved.y - 15) <= 0.6
    assert_read_as_afresh(widget, layer)
    click_button(qtbot, widget.propagate_button)
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)
    assert sorted(tracker.updates) == [21, 21, 22, 22, 23, 23, 24, 24, 26, 27, 28, 29]
    assert widget.status.value.startswith("Done: 12/12 frames")


def test_the_status_line_wraps_and_the_dock_keeps_its_width(window, qtbot):
    viewer, widget, _layer = window(tracker=StepTracker(delay=0.002))
    width = widget.native.width()
    widget.error(
        "frame 7 has no keyframe (keyframes are on frame 0, 12, 24, 36, 48, 60, 72, 84 …): go to "
        "a keyframe, draw a box here, or start from every keyframe"
    )
    settle()
    assert widget.native.width() == width and widget.status.native.wordWrap()
    viewer.dims.set_current_step(0, 0)
    click_button(qtbot, widget.propagate_button)
    widths = set()
    qtbot.waitUntil(lambda: widths.add(widget.native.width()) or widget.worker is None, timeout=60_000)
    assert widths == {width}


def test_propagate_leaves_the_keyboard_to_napari(window, qtbot):
    from gui import canvas
    from qtpy.QtCore import Qt
    from qtpy.QtTest import QTest
    from qtpy.QtWidgets import QApplication

    viewer, widget, layer = window()
    main = widget.native.window()
    main.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is main, timeout=10_000)
    canvas(viewer).setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is canvas(viewer), timeout=10_000)
    click_button(qtbot, widget.propagate_button)
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)
    settle()
    focused = QApplication.focusWidget()
    assert focused is not None and not widget.native.isAncestorOf(focused)  # not in "Review below"
    QTest.keyClick(focused, Qt.Key.Key_4)
    settle()
    assert layer.mode == "direct"  # the key reached napari


def test_the_vertex_tool_explains_itself(window):
    from gui import press
    from qtpy.QtCore import Qt

    viewer, widget, layer = window()
    press(viewer, Qt.Key.Key_4)  # napari's key for "select vertices"
    assert layer.mode == "direct"
    assert "select shapes" in widget.status.value


def test_a_video_opens_on_its_first_frame(make_napari_viewer, tmp_path):
    from napari_siamtrack.io.sample import make_sample, write_video

    path = tmp_path / "clip.mp4"
    write_video(path, make_sample(n_frames=20, height=120, width=160).frames)
    viewer = make_napari_viewer()
    viewer.open(str(path), plugin="napari-siamtrack")
    assert viewer.dims.current_step[0] > 0  # napari's choice: the middle
    widget = PropagateWidget(viewer)  # the widget opened afterwards
    assert viewer.dims.current_step[0] == 0
    viewer.dims.set_current_step(0, 5)
    viewer.open(str(path), plugin="napari-siamtrack")  # a video opened while the widget is docked
    assert viewer.dims.current_step[0] == 0 and widget.image.value is not None


def test_export_proposes_the_file_the_boxes_came_from(window, tmp_path, monkeypatch):
    from qtpy.QtWidgets import QFileDialog

    viewer, widget, _layer = window()
    proposed = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a: proposed.append(a[2]) or ("", ""))
    widget._export_dialog()
    assert proposed == ["boxes.csv"]  # not boxes.boxes.csv
    path = widget.export(tmp_path / "race.boxes.csv")
    (opened,) = viewer.open(path, plugin="napari-siamtrack")
    widget.boxes.value = opened
    widget._export_dialog()
    assert proposed[-1] == str(path)


def test_closing_with_unexported_boxes_asks_first(window, tmp_path, monkeypatch):
    from qtpy.QtWidgets import QMessageBox

    _viewer, widget, _layer = window()
    window_ = widget.native.window()
    asked = []
    monkeypatch.setattr(
        QMessageBox, "question", lambda *a: asked.append(a[2]) or QMessageBox.StandardButton.Cancel
    )
    window_.close()
    settle()
    assert window_.isVisible() and "'boxes'" in asked[0]
    widget.export(tmp_path / "boxes.csv")
    assert widget.unexported_layers() == []
    widget.close_guard.enabled = True
    assert widget.close_guard.allow_close() and len(asked) == 1
