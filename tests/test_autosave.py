"""Autosave in a real viewer: the boxes layer saved as it changes and on close, and offered back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from doubles import StepTracker, numbered_frames
from test_widget import rows_of, run

from napari_siamtrack.io.box_csv import BoxRow
from napari_siamtrack.io.recovery import RecoveryStore, VideoStamp
from napari_siamtrack.ui import autosave
from napari_siamtrack.ui.layer_boxes import rectangle
from napari_siamtrack.ui.widget import PropagateWidget

KEY = BoxRow(0, 1, 10.0, 5.0, 8.0, 6.0, 1.0, "manual", True)


@pytest.fixture
def video(tmp_path):
    path = tmp_path / "clip.tif"
    tifffile.imwrite(path, numbered_frames(12))
    return path


@pytest.fixture
def open_widget(make_napari_viewer_proxy, monkeypatch):
    """A viewer showing ``video`` (opened from its file) and the widget with a test double tracker."""
    monkeypatch.setattr(autosave, "SAVE_DELAY_MS", 50)

    def make(video, tracker=None):
        viewer = make_napari_viewer_proxy()
        viewer.open(str(video))
        widget = PropagateWidget(viewer, tracker_factory=lambda: tracker or StepTracker())
        viewer.dims.set_current_step(0, 0)
        return viewer, widget

    return make


def draw(widget, row=KEY):
    widget.boxes.value.add_rectangles(rectangle(row))


def saved_file(video):
    entries = RecoveryStore().entries(VideoStamp.of(video))
    return entries[0].path if entries else None


def saved_bytes(video) -> bytes | None:
    path = saved_file(video)
    return path.read_bytes() if path else None


def wait_saved(qtbot, widget, video, rows):
    """Wait until the widget says it saved ``rows`` boxes, and check the newest file holds them."""
    qtbot.waitUntil(lambda: widget.autosave.status.value.endswith(f", {rows} boxes"), timeout=10_000)
    assert saved_file(video).read_bytes().count(b"\n") == rows + 1


def test_changes_are_saved_and_match_an_export(open_widget, video, qtbot, tmp_path):
    _, widget = open_widget(video)
    widget.add_boxes_layer()
    assert widget.autosave.status.value == "on, for clip.tif"
    draw(widget)
    wait_saved(qtbot, widget, video, 1)
    run(widget, qtbot)
    wait_saved(qtbot, widget, video, 12)
    exported = widget.export(tmp_path / "export.boxes.csv")
    assert saved_file(video).read_bytes() == Path(exported).read_bytes()


def test_a_bound_layer_is_saved_from_the_boxes_the_widget_keeps(open_widget, video, qtbot, tmp_path, monkeypatch):
    _, widget = open_widget(video)
    layer = widget.add_boxes_layer()
    copies = []
    monkeypatch.setattr(autosave, "_read_copy", lambda *copy: copies.append(copy) or [])
    draw(widget)
    run(widget, qtbot)
    moved = [np.array(d) for d in layer.data]
    moved[5] = moved[5] + [0.0, 3.0, 2.0]  # a person drags the box of frame 5
    layer.data = moved
    exported = Path(widget.export(tmp_path / "export.boxes.csv")).read_bytes()
    assert b"true" in exported.splitlines()[6]  # the dragged box is a keyframe now
    qtbot.waitUntil(lambda: saved_bytes(video) == exported, timeout=10_000)
    assert copies == []  # no save read the layer's shapes again


def test_a_closed_layer_is_saved_at_once_and_can_be_restored(open_widget, video, qtbot, tmp_path):
    viewer, widget = open_widget(video)
    layer = widget.add_boxes_layer()
    draw(widget)
    run(widget, qtbot)
    before = rows_of(widget)
    viewer.layers.remove(layer)  # no wait: the save happens on close
    (entry,) = widget.autosave.entries()
    assert entry.boxes == 12 and not widget.autosave.restore_button.native.isHidden()
    restored = widget.autosave.restore(entry)
    assert widget.boxes.value is restored and restored.name == "boxes"
    assert rows_of(widget) == before
    assert widget.autosave.entries() == [] and widget.autosave.restore_button.native.isHidden()
    draw(widget, BoxRow(3, 2, 30.0, 20.0, 10.0, 8.0, 1.0, "manual", True))
    wait_saved(qtbot, widget, video, 13)
    assert len(RecoveryStore().entries(VideoStamp.of(video))) == 1  # the same file goes on


def test_during_a_run_boxes_are_saved_right_after_a_merge(open_widget, tmp_path, qtbot):
    video = tmp_path / "long.tif"
    tifffile.imwrite(video, numbered_frames(80))
    _, widget = open_widget(video, StepTracker(delay=0.02))
    widget.add_boxes_layer()
    draw(widget)
    wait_saved(qtbot, widget, video, 1)
    release, save = widget._release, widget.autosave._save
    merged, saves = [False], []

    def release_and_note(step, was_merged):
        merged[0] = was_merged
        release(step, was_merged)
        merged[0] = False

    def save_and_note(*args, **kwargs):
        saves.append("after a merge" if merged[0] else "at the end" if widget.worker is None else "between")
        save(*args, **kwargs)

    widget._release, widget.autosave._save = release_and_note, save_and_note
    run(widget, qtbot)
    wait_saved(qtbot, widget, video, 80)
    # the writer thread never works while a batch is merged: during the run, each save starts right
    # after a merge (when the worker is let go), not from the timer in between
    assert saves.count("after a merge") >= 2 and "between" not in saves


def test_opening_the_video_again_offers_the_saved_boxes(open_widget, video, qtbot):
    viewer, widget = open_widget(video)
    widget.add_boxes_layer()
    draw(widget)
    run(widget, qtbot)
    wait_saved(qtbot, widget, video, 12)
    saved = rows_of(widget)
    viewer.close()

    _, widget = open_widget(video)
    (entry,) = widget.autosave.entries()
    assert entry.boxes == 12 and "layer 'boxes', 12 boxes, saved " in widget.autosave.saved.current_choice
    widget.autosave.restore()
    assert rows_of(widget) == saved


def test_an_image_made_in_memory_is_not_saved(make_napari_viewer_proxy, recovery_dir):
    viewer = make_napari_viewer_proxy()
    viewer.add_image(numbered_frames(12), name="video")
    widget = PropagateWidget(viewer, tracker_factory=StepTracker)
    widget.add_boxes_layer()
    draw(widget)
    assert widget.autosave.status.value == "off: the video is not read from a file"
    widget.autosave.flush()
    assert not any(recovery_dir.iterdir())


def test_a_failing_disk_warns_once_and_keeps_the_boxes(open_widget, video, qtbot, tmp_path, monkeypatch):
    blocked = tmp_path / "a file, not a folder"
    blocked.write_text("")
    monkeypatch.setenv("NAPARI_SIAMTRACK_RECOVERY_DIR", str(blocked))
    warnings = []
    monkeypatch.setattr(autosave, "show_warning", warnings.append)
    _, widget = open_widget(video)
    widget.add_boxes_layer()
    draw(widget)
    qtbot.waitUntil(lambda: len(warnings) == 1, timeout=10_000)
    draw(widget, BoxRow(3, 2, 30.0, 20.0, 10.0, 8.0, 1.0, "manual", True))
    widget.autosave.flush()
    assert len(warnings) == 1 and warnings[0].startswith("autosave failed: ")
    assert "\n" not in warnings[0]
    assert widget.autosave.status.value == warnings[0]
    assert len(rows_of(widget)) == 2
    np.testing.assert_array_equal(widget.boxes.value.data[0], rectangle(KEY))
