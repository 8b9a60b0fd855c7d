"""The track controls and the keyboard shortcuts in a shown napari window, with real mouse clicks on the
buttons and the canvas and real key presses: absent from here, set track id, merge, split, delete tracked
boxes from here, interpolate gaps, and every shortcut (bound while the widget is docked, unbound when it
closes)."""

from __future__ import annotations

import numpy as np
import pytest
from doubles import StepTracker
from gui import click, draw_rectangle, press, settle
from qtpy.QtCore import Qt
from test_widget import rows_of, run
from test_window import assert_unchanged, click_button, snapshot

from napari_siamtrack.io.box_csv import BoxRow, read_csv
from napari_siamtrack.ui.layer_boxes import COLOURS
from napari_siamtrack.ui.shortcuts import KEYS
from napari_siamtrack.ui.widget import PropagateWidget

SHIFT = Qt.KeyboardModifier.ShiftModifier


def key(frame, track=1, x=10.0):
    return BoxRow(frame, track, x, 5.0, 8.0, 6.0, 1.0, "manual", True)


@pytest.fixture
def tracked(docked, qtbot):
    """``docked`` with one keyframe on frame 0, tracked to frame ``until`` (uncertain boxes, x + 1 a frame)."""

    def make(until=11):
        viewer, widget, layer = docked([key(0)])
        if until < 11:
            widget.until.value, widget.until_frame.value = "frame", until
        run(widget, qtbot, timeout=60_000)
        viewer.layers.selection.active = layer
        settle()
        return viewer, widget, layer

    return make


def index_of(layer, track, frame):
    f = layer.features
    (i,) = np.flatnonzero((f["track_id"].to_numpy() == track) & (f["frame"].to_numpy() == frame))
    return int(i)


def select_on_canvas(viewer, layer, y, x):
    """Click a box with napari's select tool, as a person does."""
    layer.mode = "select"
    click(viewer, layer, (y, x))


# --- absent from here ------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["button", "key"])
def test_absent_from_here_makes_an_outside_keyframe_and_clears_the_span(tracked, qtbot, tmp_path, how):
    viewer, widget, layer = tracked()
    viewer.dims.set_current_step(0, 4)
    select_on_canvas(viewer, layer, 8.0, 18.0)  # track 1's box on frame 4 is at x 14..22
    assert len(layer.selected_data) == 1
    if how == "button":
        click_button(qtbot, widget.absent_button)
    else:
        press(viewer, Qt.Key.Key_O)
    rows = rows_of(widget)
    absent = rows[(1, 4)]
    assert absent.outside and absent.keyframe and absent.source == "manual" and absent.x == 14.0
    assert sorted(f for _, f in rows) == [0, 1, 2, 3, 4]  # tracked boxes 5..11 removed
    i = index_of(layer, 1, 4)
    grey = [int(COLOURS["absent"][k : k + 2], 16) / 255 for k in (1, 3, 5)]
    assert np.allclose(layer.edge_color[i][:3], grey)
    assert "absent" in str(layer.text.values[i])
    assert widget.timeline.timeline.lanes[0].absent == ((4, 11),)  # drawn hatched on the timeline
    exported = {(r.track_id, r.frame): r for r in read_csv(widget.export(tmp_path / "boxes.csv"))}
    assert exported[(1, 4)] == absent  # the CSV keeps it an outside keyframe
    # propagating from every keyframe never tracks into the span
    widget.start_from.value, widget.full.value = "all", True
    viewer.dims.set_current_step(0, 0)
    click_button(qtbot, widget.propagate_button)
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)
    assert sorted(f for _, f in rows_of(widget)) == [0, 1, 2, 3, 4]
    # again on the outside keyframe: visible again
    viewer.dims.set_current_step(0, 4)
    press(viewer, Qt.Key.Key_O)
    assert not rows_of(widget)[(1, 4)].outside


def test_absent_from_here_without_a_box_to_act_on_says_so(docked, qtbot):
    _, widget, layer = docked([key(0), key(0, 2, x=40.0)])
    before = snapshot(layer)
    click_button(qtbot, widget.absent_button)
    assert "frame 0 has 2 boxes" in widget.status.value
    assert_unchanged(layer, before)


# --- the Tracks section ----------------------------------------------------------------------------


def test_set_track_id_moves_a_box_and_refuses_a_keyframe_clash(tracked, qtbot):
    viewer, widget, layer = tracked()
    viewer.dims.set_current_step(0, 5)
    draw_rectangle(viewer, layer, 30, 40, 40, 55)  # track 2, keyframe on frame 5
    select_on_canvas(viewer, layer, 35, 47)
    widget.track_id.value = 1
    click_button(qtbot, widget.set_id_button)
    rows = rows_of(widget)
    assert rows[(1, 5)].keyframe and abs(rows[(1, 5)].x - 40) <= 0.6 and 2 not in {t for t, _ in rows}
    # a box moved onto a frame where the track has a keyframe is refused, nothing changes
    viewer.dims.set_current_step(0, 0)
    draw_rectangle(viewer, layer, 30, 40, 40, 55)  # track 2 again
    select_on_canvas(viewer, layer, 35, 47)
    before = snapshot(layer)
    click_button(qtbot, widget.set_id_button)
    assert widget.status.value == "track 1 already has a keyframe on frame 0"
    assert_unchanged(layer, before)


def test_merge_the_selected_tracks_into_the_lowest_id(tracked, qtbot):
    viewer, widget, layer = tracked(until=4)
    viewer.dims.set_current_step(0, 6)
    draw_rectangle(viewer, layer, 30, 40, 40, 55)  # track 2 on frame 6, after track 1 was lost
    layer.selected_data = {index_of(layer, 1, 4), index_of(layer, 2, 6)}
    press(viewer, Qt.Key.Key_M)
    rows = rows_of(widget)
    assert {t for t, _ in rows} == {1} and rows[(1, 6)].keyframe and rows[(1, 0)].keyframe
    assert widget.status.value == "tracks 1, 2 merged into track 1"
    # two keyframes on one frame: refused
    viewer.dims.set_current_step(0, 0)
    draw_rectangle(viewer, layer, 30, 40, 40, 55)
    layer.selected_data = {index_of(layer, 1, 0), index_of(layer, 2, 0)}
    before = snapshot(layer)
    click_button(qtbot, widget.merge_button)
    assert "both have a keyframe on frame 0" in widget.status.value
    assert_unchanged(layer, before)


def test_split_here_and_delete_tracked_boxes_from_here(tracked, qtbot):
    viewer, widget, layer = tracked()
    viewer.dims.set_current_step(0, 6)
    click_button(qtbot, widget.split_button)  # the only track on this frame
    rows = rows_of(widget)
    assert sorted(f for t, f in rows if t == 2) == list(range(6, 12))
    assert sorted(f for t, f in rows if t == 1) == list(range(6))
    viewer.dims.set_current_step(0, 3)
    select_on_canvas(viewer, layer, 8.0, 17.0)
    click_button(qtbot, widget.delete_button)
    rows = rows_of(widget)
    assert sorted(f for t, f in rows if t == 1) == [0, 1, 2] and (1, 0) in rows
    assert widget.status.value == "track 1: 3 tracked boxes from frame 3 on deleted"


def test_interpolate_gaps_between_keyframes(docked, qtbot):
    outside = BoxRow(8, 1, 22.0, 5.0, 8.0, 6.0, 1.0, "manual", True, outside=True)
    _, widget, _ = docked([key(0), key(6, x=22.0), outside, key(11, x=30.0), key(0, 2, x=40.0)])
    widget.interpolate_scope.value = "all"
    click_button(qtbot, widget.interpolate_button)
    rows = rows_of(widget)
    assert [rows[(1, f)].x for f in range(1, 6)] == [12.0, 14.0, 16.0, 18.0, 20.0]
    assert all(not rows[(1, f)].keyframe and rows[(1, f)].score == 1.0 for f in range(1, 6))
    assert (1, 7) not in rows and (1, 9) not in rows and (1, 10) not in rows  # keyframe 6 to outside 8
    assert [f for t, f in rows if t == 2] == [0]  # the other track has no second keyframe
    # the interpolated gap counts as filled: every keyframe leaves it alone
    widget.start_from.value = "all"
    click_button(qtbot, widget.propagate_button)
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)
    assert rows_of(widget)[(1, 3)] == rows[(1, 3)] and (2, 5) in rows_of(widget)


# --- shortcuts -------------------------------------------------------------------------------------


def test_every_shortcut_is_in_its_buttons_tooltip(docked):
    _, widget, _ = docked([key(0)])
    for button, name in [
        (widget.propagate_button, "propagate"), (widget.cancel_button, "cancel"),
        (widget.next_uncertain, "next_uncertain"), (widget.previous_uncertain, "previous_uncertain"),
        (widget.keyframe_button, "keyframe"), (widget.absent_button, "absent"),
        (widget.merge_button, "merge"), (widget.new_track_button, "new_track"),
    ]:  # fmt: skip
        assert button.tooltip.endswith(f"Shortcut: {KEYS[name].replace('-', '+')}")


def test_propagate_cancel_and_uncertain_jumps_from_the_keyboard(docked, qtbot):
    viewer, widget, layer = docked([key(0)], tracker=StepTracker(score=0.43, delay=0.15))
    press(viewer, Qt.Key.Key_G)
    assert widget.worker is not None
    qtbot.waitUntil(lambda: len(rows_of(widget)) > 1, timeout=30_000)
    press(viewer, Qt.Key.Key_G, SHIFT)
    qtbot.waitUntil(lambda: widget.worker is None, timeout=30_000)
    assert widget.status.value.startswith("Stopped")
    frames = sorted(f for _, f in rows_of(widget))
    assert 1 < len(frames) < 12
    viewer.dims.set_current_step(0, 0)
    press(viewer, Qt.Key.Key_Period)
    assert viewer.dims.current_step[0] == 1 and layer.selected_data
    viewer.dims.set_current_step(0, 11)
    press(viewer, Qt.Key.Key_Comma)
    assert viewer.dims.current_step[0] == 1


def test_keyframe_and_new_track_from_the_keyboard(docked, qtbot):
    viewer, widget, layer = docked([key(0), BoxRow(1, 1, 11.0, 5.0, 8.0, 6.0, 0.4, "tracked", False)])
    viewer.dims.set_current_step(0, 1)
    select_on_canvas(viewer, layer, 8.0, 15.0)
    press(viewer, Qt.Key.Key_K)
    assert rows_of(widget)[(1, 1)].keyframe
    press(viewer, Qt.Key.Key_K)
    assert not rows_of(widget)[(1, 1)].keyframe
    layer.mode = "pan_zoom"
    viewer.layers.selection.active = viewer.layers["video"]
    press(viewer, Qt.Key.Key_N)
    assert viewer.layers.selection.active is layer and layer.mode == "add_rectangle"
    draw_rectangle(viewer, layer, 30, 40, 40, 55)
    assert (2, 1) in rows_of(widget)
    layer.mode = "select"
    click_button(qtbot, widget.new_track_button)
    assert layer.mode == "add_rectangle"


def test_the_shortcuts_are_unbound_when_the_widget_closes(docked, qtbot):
    viewer, widget, _ = docked([key(0)])
    assert all(k in {str(b) for b in viewer.keymap} for k in ("G", "Shift+G", "K", "O", "M", "N", ".", ","))
    viewer.window.remove_dock_widget(widget.native)
    settle()
    assert not viewer.keymap
    press(viewer, Qt.Key.Key_G)
    assert widget.worker is None
    # keys held by something else are left to it, and the widget says so
    viewer.bind_key("K", lambda viewer: None)
    other = PropagateWidget(viewer, tracker_factory=StepTracker)
    assert "K" not in other.shortcuts.bound and "keys K are taken" in other.status.value
    other.close_guard.enabled = False
