"""The track timeline: its model (lanes, keyframes, uncertain runs, frame <-> pixel) and its Qt view
under a real window (a click jumps to that frame and selects that track's box)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from doubles import StepTracker, numbered_frames
from gui import settle
from qtpy.QtCore import QPoint, Qt
from test_widget import run

from napari_siamtrack.annotation.review import BoxReview
from napari_siamtrack.annotation.track_table import TrackTable
from napari_siamtrack.io.box_csv import BoxRow
from napari_siamtrack.ui.layer_boxes import layer_kwargs
from napari_siamtrack.ui.timeline_model import LABEL_WIDTH, Lane, Timeline, build_timeline
from napari_siamtrack.ui.widget import PropagateWidget


def box(frame, track, score=0.9, keyframe=False):
    return BoxRow(frame, track, 1.0, 1.0, 4.0, 4.0, score, "manual" if keyframe else "tracked", keyframe)


def test_the_model_has_a_lane_per_track_with_keyframes_and_uncertain_runs():
    rows = [box(0, 1, keyframe=True), *(box(f, 1) for f in range(1, 10)), box(4, 2, keyframe=True)]
    boxes = BoxReview.of(TrackTable(rows))
    confidence = [1.0 if k else (0.2 if f in (3, 4, 7) else 0.9) for f, k in zip(boxes.frames, boxes.protected)]
    boxes = replace(boxes, confidence=np.array(confidence))
    timeline = build_timeline(boxes, threshold=0.5, n_frames=20)
    assert timeline.n_frames == 20 and [lane.track_id for lane in timeline.lanes] == [1, 2]
    one, two = timeline.lanes
    assert one.keyframes == (0,) and one.uncertain == ((3, 4), (7, 7)) and list(one.frames) == list(range(10))
    assert two.keyframes == (4,) and two.uncertain == ()
    for frame in (0, 7, 19):
        assert timeline.frame_at(timeline.x_of(frame, 836), 836) == frame
    assert timeline.frame_at(0, 836) == 0 and timeline.frame_at(10_000, 836) == 19
    assert timeline.x_of(0, 836) > LABEL_WIDTH
    assert (
        timeline.lane_at(10, 52) is one
        and timeline.lane_at(40, 52) is two
        and timeline.lane_at(60, 52) is None
    )
    assert (
        timeline.ticks(836) == list(range(0, 20, 2))
        and build_timeline(boxes, 0.5, 2000).ticks(836)[1] == 200
    )


def test_a_click_on_the_timeline_goes_to_that_frame_and_track(make_napari_viewer, qtbot):
    viewer = make_napari_viewer(show=True)
    viewer.window.resize(1100, 760)
    viewer.add_image(numbered_frames(40, height=60, width=80), name="video")
    keys = [
        BoxRow(0, 1, 10.0, 5.0, 8.0, 6.0, 1.0, "manual", True),
        BoxRow(0, 2, 40.0, 30.0, 8.0, 6.0, 1.0, "manual", True),
    ]
    kwargs = layer_kwargs(keys, name="boxes")
    layer = viewer.add_shapes(kwargs.pop("data"), **kwargs)
    widget = PropagateWidget(
        viewer, tracker_factory=lambda: StepTracker(score=lambda f: 0.02 if 20 <= f < 26 else 0.97)
    )
    viewer.window.add_dock_widget(widget, area="right")
    widget.close_guard.enabled = False
    viewer.dims.set_current_step(0, 0)
    run(widget, qtbot, timeout=60_000)
    settle()
    view = widget.timeline
    assert view.isVisible() and len(view.timeline.lanes) == 2
    lane = view.timeline.lanes[1]
    assert lane.track_id == 2 and lane.keyframes == (0,) and lane.uncertain and lane.uncertain[0][0] == 20
    x = round(view.timeline.x_of(23, view.width()))
    from napari_siamtrack.ui.timeline import RULER_HEIGHT

    y = int((view.height() - RULER_HEIGHT) * 0.75)  # the second lane
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x, y))
    settle()
    assert viewer.dims.current_step[0] == 23
    (selected,) = layer.selected_data
    assert layer.features.at[selected, "track_id"] == 2 and layer.features.at[selected, "frame"] == 23
    viewer.dims.set_current_step(0, 5)
    assert view._current == 5
    image = view.grab().toImage()
    assert image.width() == view.width()  # it paints
    assert np.isfinite(lane.confidence).all()


def test_the_confidence_line_costs_what_the_view_is_wide_and_keeps_a_one_frame_dip():
    frames = np.r_[np.arange(0, 5000), np.arange(5100, 10_000)]  # a gap: two runs
    confidence = np.full(len(frames), 0.9)
    confidence[1234] = 0.1
    timeline = Timeline(10_000, (Lane(1, frames, confidence, (0,), ()),))
    runs = timeline.line(timeline.lanes[0], 836)
    assert len(runs) == 2 and all(len(points) <= 2 * (836 - LABEL_WIDTH) for points in runs)
    assert runs[0][:, 1].min() == 0.1 and runs[1][:, 1].min() == 0.9
    assert runs[0][-1, 0] < timeline.x_of(5100, 836) <= runs[1][0, 0]
    short = Timeline(12, (Lane(1, np.array([0, 1, 2, 5]), np.array([1.0, 0.9, 0.8, 0.7]), (0,), ()),))
    (first, second) = short.line(short.lanes[0], 836)  # a point per frame (twice) when frames are wide
    assert first[::2, 1].tolist() == [1.0, 0.9, 0.8] and second[:, 1].tolist() == [0.7, 0.7]
    assert first[::2, 0].tolist() == [short.x_of(f, 836) for f in (0, 1, 2)]
