"""The Propagate widget in a real napari viewer, driven through its own methods, with a test double tracker."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest
from doubles import StepTracker, numbered_frames

from napari_siamtrack.io.box_csv import BoxRow, read_csv
from napari_siamtrack.ui.layer_boxes import layer_kwargs, rectangle
from napari_siamtrack.ui.widget import PropagateWidget

#: The keyframe a test starts from unless it gives its own boxes.
FIRST_BOX = BoxRow(0, 1, 10.0, 5.0, 8.0, 6.0, 1.0, "manual", True)


def rows_of(widget):
    return {(r.track_id, r.frame): r for r in widget.binding().table()}


@pytest.fixture
def setup(make_napari_viewer_proxy):
    def make(n_frames=12, boxes=(FIRST_BOX,), tracker=None):
        viewer = make_napari_viewer_proxy()
        viewer.add_image(numbered_frames(n_frames), name="video")
        kwargs = layer_kwargs(list(boxes), name="boxes")
        viewer.add_shapes(kwargs.pop("data"), **kwargs)
        tracker = tracker or StepTracker()
        widget = PropagateWidget(viewer, tracker_factory=lambda: tracker)
        viewer.dims.set_current_step(0, 0)
        return viewer, widget, tracker

    return make


def run(widget, qtbot, timeout=10_000):
    """Propagate and wait until the widget has taken in the last boxes (a quick run may finish before a
    signal could be waited on, so wait for the widget's own state)."""
    worker = widget.propagate()
    assert worker is not None
    qtbot.waitUntil(lambda: widget.worker is None, timeout=timeout)
    return worker


def test_propagate_fills_every_frame(setup, qtbot):
    _viewer, widget, _tracker = setup()
    assert widget.image.value.name == "video" and widget.boxes.value.name == "boxes"
    assert widget.until_frame.max == 11
    run(widget, qtbot)
    rows = rows_of(widget)
    assert sorted(f for _, f in rows) == list(range(12))
    assert rows[(1, 0)].source == "manual" and rows[(1, 0)].keyframe
    assert [rows[(1, f)].x for f in range(1, 12)] == [10.0 + f for f in range(1, 12)]
    assert all(rows[(1, f)].source == "tracked" and rows[(1, f)].score == 0.9 for f in range(1, 12))
    assert widget.status.value.startswith("Done: 11/11 frames")
    assert widget.propagate_button.enabled and not widget.cancel_button.enabled


def test_moving_a_box_makes_it_a_keyframe_and_repropagation_keeps_it(setup, qtbot):
    viewer, widget, _ = setup()
    run(widget, qtbot)
    layer = widget.boxes.value
    (index,) = widget.binding().indices_on(5)
    # what napari does when a person drags a box: new vertices, then a CHANGED data event
    moved = layer.data[index] + np.array([0.0, 2.0, 3.0])
    with layer.events.data.blocker():
        layer.data = [moved if i == index else d for i, d in enumerate(layer.data)]
    layer.events.data(value=layer.data, action="changed", data_indices=(index,), vertex_indices=((),))
    keyframe = rows_of(widget)[(1, 5)]
    assert keyframe.source == "manual" and keyframe.keyframe and keyframe.score == 1.0

    viewer.dims.set_current_step(0, 0)
    run(widget, qtbot)  # from frame 0: stops before the keyframe on frame 5
    assert rows_of(widget)[(1, 5)] == keyframe
    viewer.dims.set_current_step(0, 5)
    run(widget, qtbot)  # from the keyframe: re-tracks 6…11 from the moved box
    rows = rows_of(widget)
    assert rows[(1, 5)] == keyframe
    assert [rows[(1, f)].x for f in (6, 7)] == [keyframe.x + 1, keyframe.x + 2]


def test_cancel_stops_and_keeps_the_boxes_made_so_far(setup, qtbot):
    _viewer, widget, tracker = setup(n_frames=200, tracker=StepTracker(delay=0.01))
    worker = widget.propagate()
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        qtbot.waitUntil(lambda: widget.progress.value >= 20, timeout=10_000)
        widget.cancel()
    kept = rows_of(widget)
    tracked = sorted(f for (_, f), r in kept.items() if r.source == "tracked")
    assert 20 <= len(tracked) < 199
    assert tracked == list(range(1, len(tracked) + 1))  # nothing lost, nothing skipped
    assert len(tracker.updates) == len(tracked)
    assert widget.status.value.startswith("Stopped")


class TimedStepTracker(StepTracker):
    """A :class:`StepTracker` that records when each update ran."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.spans: list[tuple[float, float]] = []

    def update(self, frame):
        start = time.perf_counter()
        out = super().update(frame)
        self.spans.append((start, time.perf_counter()))
        return out


def test_tracking_waits_while_the_viewer_merges(setup, qtbot):
    _viewer, widget, tracker = setup(n_frames=300, tracker=TimedStepTracker(delay=0.005))
    merge, merges = widget._merge_pending, []

    def slow_merge():  # a merge into a large layer
        start = time.perf_counter()
        time.sleep(0.05)
        merge()
        merges.append((start, time.perf_counter()))

    widget._merge_pending = slow_merge
    run(widget, qtbot)
    assert len(merges) >= 3 and len(tracker.spans) == 299
    assert not [(a, b) for a, b in tracker.spans for start, end in merges if a < end and start < b]
    assert sorted(f for _, f in rows_of(widget)) == list(range(300))


def test_merged_boxes_carry_the_confidence_and_caption_a_full_recompute_gives(setup, qtbot):
    # backward from frame 150 to the keyframe on frame 0: until the last batch the boxes read as a run
    # backward from 150, then as a run forward from 0, so the last merge changes every confidence
    boxes = (FIRST_BOX, replace(FIRST_BOX, frame=150))
    tracker = StepTracker(delay=0.005, score=lambda i: 0.5 + 0.04 * ((7 * i) % 10))
    viewer, widget, _ = setup(n_frames=200, boxes=boxes, tracker=tracker)
    viewer.dims.set_current_step(0, 150)
    widget.direction.value, widget.until.value = "backward", "next_keyframe"
    run(widget, qtbot)
    binding, merged = widget.binding(), widget.boxes.value.features
    assert len(merged) == 151
    full = binding._with_confidence(merged.drop(columns=["confidence", "caption"]), binding._shapes())
    np.testing.assert_allclose(merged["confidence"], full["confidence"])
    assert merged["caption"].tolist() == full["caption"].tolist()


def test_a_merge_on_the_shown_frame_shows_the_new_captions_and_keeps_captions_hidden_when_hidden(setup):
    viewer, widget, _ = setup(boxes=(FIRST_BOX, replace(FIRST_BOX, track_id=2, x=40.0)))
    layer, binding = widget.boxes.value, widget.binding()
    viewer.dims.set_current_step(0, 3)
    shown = viewer.window._qt_viewer.canvas.layer_to_visual[layer].node.text
    binding.merge([BoxRow(3, t, 10.0 * t, 5.0, 8.0, 6.0, 0.9, "tracked", False) for t in (1, 2)])
    captions = layer.features["caption"].to_numpy()[layer.features["frame"].to_numpy() == 3]
    assert layer.text.visible and sorted(shown.text) == sorted(captions) and all(captions)
    layer.text.visible = False
    binding.merge([BoxRow(4, 1, 10.0, 5.0, 8.0, 6.0, 0.9, "tracked", False)])
    assert not layer.text.visible and len(layer.features) == 5


def test_a_held_merge_off_the_shown_frame_leaves_naparis_view_until_the_frame_changes(setup):
    viewer, widget, _ = setup()
    layer, binding = widget.boxes.value, widget.binding()
    node = viewer.window._qt_viewer.canvas.layer_to_visual[layer].node.text
    slices = []
    layer.events.set_data.connect(lambda _: slices.append(1))
    binding.merge([BoxRow(f, 1, 10.0, 5.0, 8.0, 6.0, 0.9, "tracked", False) for f in (5, 6, 7)], hold_view=True)
    assert layer.nshapes == 4 and not slices and list(layer._view_indices) == [0]
    binding.merge([BoxRow(0, 2, 40.0, 5.0, 8.0, 6.0, 0.9, "tracked", False)], hold_view=True)  # on the shown frame
    assert slices and sorted(node.text) == sorted(layer.features["caption"][layer.features["frame"] == 0])
    viewer.dims.set_current_step(0, 6)
    assert [layer.features["frame"][i] for i in layer._view_indices] == [6]
    assert list(node.text) == [layer.features["caption"][layer._view_indices[0]]]


@pytest.mark.parametrize("score, kind_after", [(0.9, "tracked"), (0.6, "uncertain")])
def test_a_merge_off_the_shown_frame_that_changes_a_box_there_shows_the_change_at_once(setup, score, kind_after):
    from napari_siamtrack.ui.boxes_layer import _style_arrays, _unlike
    from napari_siamtrack.ui.layer_boxes import kinds

    # frames 5-9 are read backward from the keyframe on frame 10 until a box on frame 4 joins them to the
    # run from frame 0: their confidence then takes in frame 4's low score (their caption changes; with
    # a lower score of their own, so does their kind)
    tracked = [BoxRow(f, 1, 10.0, 5.0, 8.0, 6.0, score, "tracked", False) for f in (1, 2, 3, 5, 6, 7, 8, 9)]
    keyframe = BoxRow(10, 1, 10.0, 5.0, 8.0, 6.0, 1.0, "manual", True)
    viewer, widget, _ = setup(boxes=(FIRST_BOX, *tracked, keyframe))
    layer, binding = widget.boxes.value, widget.binding()
    viewer.dims.set_current_step(0, 7)
    node = viewer.window._qt_viewer.canvas.layer_to_visual[layer].node.text
    on_7 = layer.features["frame"] == 7
    before = list(layer.features["caption"][on_7])
    assert kinds(layer.features[on_7], binding.threshold).tolist() == ["tracked"]
    binding.merge([BoxRow(4, 1, 10.0, 5.0, 8.0, 6.0, 0.0, "tracked", False)], hold_view=True)
    on_7 = layer.features["frame"] == 7
    assert list(node.text) == list(layer.features["caption"][on_7]) != before
    assert kinds(layer.features[on_7], binding.threshold).tolist() == [kind_after]
    assert not _unlike(layer, *_style_arrays(kinds(layer.features, binding.threshold))).any()


def test_a_held_merge_that_replaces_boxes_keeps_the_selection_on_the_shown_frame(setup):
    tracked = [BoxRow(f, 1, 10.0, 5.0, 8.0, 6.0, 0.6, "tracked", False) for f in range(1, 6)]
    other = BoxRow(0, 2, 40.0, 5.0, 8.0, 6.0, 1.0, "manual", True)
    _viewer, widget, _ = setup(boxes=(FIRST_BOX, *tracked, other))
    layer, binding = widget.boxes.value, widget.binding()
    layer.selected_data = {6}
    binding.merge([BoxRow(f, 1, 12.0, 5.0, 8.0, 6.0, 0.9, "tracked", False) for f in (3, 4)], hold_view=True)
    assert binding._view_behind and layer.nshapes == 7
    (selected,) = layer.selected_data
    assert (layer.features["track_id"][selected], layer.features["frame"][selected]) == (2, 0)
    assert sorted(layer._view_indices.tolist()) == sorted([0, selected])
    assert {(r.frame, r.x) for r in binding.table() if r.track_id == 1} == {
        (0, 10.0), (1, 10.0), (2, 10.0), (3, 12.0), (4, 12.0), (5, 10.0)
    }


def test_a_run_leaves_naparis_view_of_the_layer_up_to_date(setup, qtbot):
    viewer, widget, _ = setup(n_frames=60, tracker=StepTracker(delay=0.01))
    layer = widget.boxes.value
    merges, held = [], []
    merge = widget.binding().merge

    def counted(rows, hold_view=False):
        before = widget.binding()._view_behind
        merges.append(merge(rows, hold_view=hold_view))
        held.append(widget.binding()._view_behind and not before)

    widget.binding().merge = counted
    run(widget, qtbot)
    assert len(merges) >= 2 and any(held)
    qtbot.waitUntil(lambda: not widget.binding()._view_behind, timeout=5_000)  # the next turn of the loop
    assert layer.extent.data[1][0] == 59
    viewer.dims.set_current_step(0, 59)
    assert [layer.features["frame"][i] for i in layer._view_indices] == [59]


def test_a_second_propagate_while_running_is_refused(setup, qtbot):
    _viewer, widget, _ = setup(n_frames=100, tracker=StepTracker(delay=0.01))
    worker = widget.propagate()
    assert not widget.propagate_button.enabled
    assert widget.propagate() is None
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        widget.cancel()


def test_during_a_run_collections_wait_for_the_tracker_then_skip_the_objects_from_before_it(setup, qtbot):
    import gc

    _viewer, widget, _ = setup(n_frames=200, tracker=StepTracker(delay=0.01))
    assert gc.get_freeze_count() == 0
    worker = widget.propagate()
    loading = gc.isenabled()  # off while the tracker loads, until the first batch comes in
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        qtbot.waitUntil(lambda: widget.progress.value >= 5, timeout=10_000)
        frozen, tracking = gc.get_freeze_count(), gc.isenabled()
        widget.cancel()
    assert not loading and tracking
    assert frozen > 10_000  # napari's objects, at least
    assert gc.get_freeze_count() > 10_000 and gc.isenabled()  # held until the viewer is idle


def test_after_a_run_the_held_objects_are_handed_back_once_there_is_no_input_for_a_while(setup, qtbot,
                                                                                        monkeypatch):
    import gc

    from qtpy.QtCore import QEvent, Qt
    from qtpy.QtGui import QKeyEvent
    from qtpy.QtWidgets import QApplication

    from napari_siamtrack.ui import widget as widget_module

    monkeypatch.setattr(widget_module, "HAND_BACK_IDLE_MS", 400)
    _viewer, widget, _ = setup()
    run(widget, qtbot)
    ended = time.monotonic()
    for _ in range(6):  # the person keeps working: a key every 0.2 s
        assert gc.get_freeze_count() > 0
        QApplication.sendEvent(widget.native, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Shift,
                                                        Qt.KeyboardModifier.NoModifier))
        qtbot.wait(200)
    qtbot.waitUntil(lambda: gc.get_freeze_count() == 0, timeout=2_000)
    assert time.monotonic() - ended >= 1.2 + 0.4


def test_closing_the_boxes_layer_stops_the_run(setup, qtbot):
    viewer, widget, _ = setup(n_frames=200, tracker=StepTracker(delay=0.01))
    worker = widget.propagate()
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        qtbot.waitUntil(lambda: widget.progress.value >= 5, timeout=10_000)
        viewer.layers.remove("boxes")
    assert widget.worker is None and widget.progress.value < 199


def test_drawn_box_becomes_a_new_tracks_keyframe(setup, qtbot):
    viewer, widget, _ = setup()
    layer = widget.boxes.value
    viewer.dims.set_current_step(0, 3)
    # what napari's rectangle tool does: add one shape with the layer's feature defaults
    layer.add_rectangles(np.array([[3, 20, 30], [3, 20, 40], [3, 28, 40], [3, 28, 30]], float))
    rows = rows_of(widget)
    assert rows[(2, 3)] == BoxRow(3, 2, 30.0, 20.0, 10.0, 8.0, 1.0, "manual", True)
    run(widget, qtbot)  # from frame 3: only track 2 has a keyframe there
    assert sorted(f for t, f in rows_of(widget) if t == 2) == list(range(3, 12))
    assert sorted(f for t, f in rows_of(widget) if t == 1) == [0]


def test_next_uncertain_jumps_from_run_to_run(setup, qtbot):
    dips = set(range(4, 9)) | set(range(14, 17))
    keys = [BoxRow(f, 1, 10.0, 5.0, 8.0, 6.0, 1.0, "manual", True) for f in (0, 12)]
    tracker = StepTracker(dx=0.0, score=lambda f: 0.02 if f in dips else 0.97)
    viewer, widget, _ = setup(n_frames=24, boxes=keys, tracker=tracker)
    widget.start_from.value = "all"
    run(widget, qtbot)
    binding = widget.binding()
    starts = sorted(first for runs in binding.review.uncertain_runs(0.5).values()
                    for first, _ in runs)
    assert 2 <= len(starts) < len(dips) and starts[0] == 4  # runs, not frames
    viewer.dims.set_current_step(0, 0)
    visited = [widget.go_to_uncertain() for _ in starts]
    assert visited == starts and viewer.dims.current_step[0] == starts[-1]
    assert widget.boxes.value.selected_data == binding.indices_on(starts[-1])
    assert widget.go_to_uncertain() == starts[0]  # wraps around
    assert widget.go_to_uncertain(-1) == starts[-1]
    widget.threshold.value = 0.0
    assert widget.go_to_uncertain() is None


def test_keyframe_toggle(setup, qtbot):
    _viewer, widget, _ = setup()
    run(widget, qtbot)
    layer = widget.boxes.value
    layer.selected_data = widget.binding().indices_on(4)
    widget.toggle_keyframe()
    assert rows_of(widget)[(1, 4)].keyframe
    widget.toggle_keyframe()
    released = rows_of(widget)[(1, 4)]
    assert not released.keyframe and released.source == "tracked"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("no_image", "open a video first"),
        ("still_image", "has no time axis"),
        ("no_keyframe_here", "frame 3 has no keyframe"),
        ("empty_boxes", "has no boxes"),
        ("outside", "lies outside the 64x48 image"),
    ],
)
def test_bad_input_is_refused_with_a_message(setup, monkeypatch, change, message):
    viewer, widget, _ = setup()
    errors = []
    monkeypatch.setattr("napari_siamtrack.ui.widget.show_error", errors.append)
    if change == "no_image":
        viewer.layers.remove("video")
    elif change == "still_image":
        viewer.add_image(np.zeros((40, 50)), name="still")
        widget.image.value = viewer.layers["still"]
    elif change == "no_keyframe_here":
        viewer.dims.set_current_step(0, 3)
    elif change == "empty_boxes":
        widget.boxes.value.data = []
    elif change == "outside":
        widget.boxes.value.data = [rectangle(BoxRow(0, 1, 100.0, 5.0, 8.0, 6.0, 1.0, "manual", True))]
    before = widget.boxes.value.nshapes if widget.boxes.value is not None else None
    assert widget.propagate() is None
    assert len(errors) == 1 and message in errors[0]
    assert (widget.boxes.value.nshapes if widget.boxes.value is not None else None) == before


def test_export_writes_every_box(setup, qtbot, tmp_path):
    _viewer, widget, _ = setup()
    run(widget, qtbot)
    path = widget.export(tmp_path / "out.boxes.csv")
    rows = read_csv(path)
    assert len(rows) == 12 and rows == sorted(widget.binding().table(), key=lambda r: (r.track_id, r.frame))


def paste(layer, source_index, frame):
    """What napari's Ctrl-V does: the copied shape and its features, on the current frame, announced
    by a features event only (no data event)."""
    vertices = np.array(layer.data[source_index], dtype=float)
    vertices[:, 0] = frame
    copied = layer.features.iloc[[source_index]]
    with layer.events.data.blocker(), layer.events.features.blocker():
        layer.add_rectangles(vertices)
        features = layer.features.copy()
        features.iloc[-1] = copied.iloc[0].to_numpy()
        layer.features = features
    layer.events.features()


def test_pasting_a_box_replaces_its_tracks_tracked_box(setup, qtbot):
    _viewer, widget, _ = setup()
    run(widget, qtbot)
    layer = widget.boxes.value
    (first,) = widget.binding().indices_on(0)
    paste(layer, first, 4)
    rows = rows_of(widget)
    assert layer.nshapes == 12  # the tracked box of track 1 on frame 4 made way
    assert rows[(1, 4)] == BoxRow(4, 1, 10.0, 5.0, 8.0, 6.0, 1.0, "manual", True)
    paste(layer, first, 4)  # track 1 has a keyframe there now: the second paste starts track 2
    rows = rows_of(widget)
    assert rows[(2, 4)].keyframe and rows[(1, 4)] == BoxRow(4, 1, 10.0, 5.0, 8.0, 6.0, 1.0, "manual", True)


def test_tracked_boxes_take_their_tracks_label(setup, qtbot):
    _viewer, widget, _ = setup(boxes=(BoxRow(0, 1, 10.0, 5.0, 8.0, 6.0, 1.0, "manual", True, label="mouse"),))
    run(widget, qtbot)
    assert {r.label for r in rows_of(widget).values()} == {"mouse"}
    # a track relabelled while boxes are still coming in: the newer boxes take the new label
    layer = widget.boxes.value
    features = layer.features.copy()
    features["label"] = "rat"
    layer.features = features
    widget.binding().merge([BoxRow(3, 1, 1.0, 1.0, 4.0, 4.0, 0.5, "tracked", False, label="mouse")])
    assert rows_of(widget)[(1, 3)].label == "rat"


def test_labels_from_the_list_go_to_new_tracks_and_to_the_selected_tracks(setup, qtbot):
    viewer, widget, _ = setup()
    layer = widget.boxes.value
    controls = widget.labels
    assert controls.label.value == "" and controls.label.choices == ("",)
    assert controls.label.native.currentText() == "(no label)"
    controls.new_name.value = "mouse"
    assert controls.add() == "mouse" and controls.label.value == "mouse" and controls.new_name.value == ""
    controls.new_name.value = "rat"
    controls.new_name.native.returnPressed.emit()  # Enter adds too
    assert controls.label.value == "rat"
    assert controls.label.choices == ("", "mouse", "rat")
    # a box drawn now starts a track labelled "rat"; the text on it shows the label
    viewer.dims.set_current_step(0, 3)
    layer.add_rectangles(np.array([[3, 20, 30], [3, 20, 40], [3, 28, 40], [3, 28, 30]], float))
    assert rows_of(widget)[(2, 3)].label == "rat"
    assert layer.text.values[-1] == "rat 2: 1.00"
    run(widget, qtbot)  # from frame 3: track 2's tracked boxes take its label
    assert {r.label for (t, _), r in rows_of(widget).items() if t == 2} == {"rat"}
    # relabel track 1 by selecting one of its boxes
    controls.label.value = "mouse"
    layer.selected_data = widget.binding().indices_on(0)
    assert controls.label_selected() == [1]
    assert {r.label for (t, _), r in rows_of(widget).items() if t == 1} == {"mouse"}
    assert widget.binding().labels() == ["mouse", "rat"]


def test_the_label_list_takes_in_a_layers_labels_and_refuses_bad_ones(setup, make_napari_viewer_proxy):
    _viewer, widget, _ = setup(boxes=(BoxRow(0, 1, 10.0, 5.0, 8.0, 6.0, 1.0, "manual", True, label="cell"),))
    controls = widget.labels
    assert controls.label.choices == ("", "cell")
    controls.new_name.value = "a\tb"
    assert controls.add() is None and controls.label.value == ""
    layer = widget.boxes.value
    layer.selected_data = set()
    assert controls.label_selected() == []
    # a second boxes layer: new tracks there take the current label too
    controls.label.value = "cell"
    other = widget.add_boxes_layer()
    assert widget.binding().layer.name == other.name and widget.binding().new_label == "cell"
    assert widget.binding().layer.feature_defaults["label"][0] == "cell"


def move(layer, index, dy, dx):
    """What napari does when a person drags a box: new vertices, then a CHANGED data event."""
    moved = layer.data[index] + np.array([0.0, dy, dx])
    with layer.events.data.blocker():
        layer.data = [moved if i == index else d for i, d in enumerate(layer.data)]
    layer.events.data(value=layer.data, action="changed", data_indices=(index,), vertex_indices=((),))


def test_every_keyframe_retracks_only_the_gaps_next_to_a_change(setup, qtbot, monkeypatch):
    keys = [BoxRow(f, 1, 10.0, 5.0, 8.0, 6.0, 1.0, "manual", True) for f in (0, 20)]
    _viewer, widget, tracker = setup(n_frames=30, boxes=keys)
    widget.start_from.value = "all"
    assert not widget.full.native.isHidden()
    run(widget, qtbot)
    assert sorted(tracker.updates) == sorted([*range(1, 20), *range(1, 20), *range(21, 30)])  # 1-19 twice
    tracker.updates.clear()
    (index,) = widget.binding().indices_on(25)
    move(widget.boxes.value, index, 1.0, 2.0)
    run(widget, qtbot)
    assert sorted(tracker.updates) == [21, 21, 22, 22, 23, 23, 24, 24, 26, 27, 28, 29]  # 1-19 left alone
    errors = []
    monkeypatch.setattr("napari_siamtrack.ui.widget.show_error", errors.append)
    assert widget.propagate() is None and "no keyframe was added, moved or removed" in errors[0]
    tracker.updates.clear()
    widget.full.value = True
    run(widget, qtbot)
    assert len(tracker.updates) == 2 * 19 + 2 * 4 + 4


def test_a_deleted_tracked_box_is_tracked_again(setup, qtbot):
    _viewer, widget, tracker = setup(n_frames=10)
    widget.start_from.value = "all"
    run(widget, qtbot)
    layer = widget.boxes.value
    layer.selected_data = widget.binding().indices_on(6)
    layer.remove_selected()
    tracker.updates.clear()
    run(widget, qtbot)
    assert sorted(tracker.updates) == list(range(1, 10)) and (1, 6) in rows_of(widget)
