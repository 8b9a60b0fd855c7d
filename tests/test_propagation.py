"""Track table rules and propagation planning/running, with a frame-aware test double (no napari)."""

from __future__ import annotations

import numpy as np
import pytest
from doubles import LearningStepTracker, RunScoreTracker, StepTracker, numbered_frames

from napari_siamtrack.annotation.propagation import (
    DIRECTIONS,
    MAX_EXAMPLES,
    Progress,
    PropagationError,
    PropagationRequest,
    Segment,
    batched,
    plan,
    propagate,
    total_frames,
)
from napari_siamtrack.annotation.track_table import TrackTable, is_protected
from napari_siamtrack.io.box_csv import BoxRow


def key(frame, track=1, x=10.0, source="manual"):
    return BoxRow(frame, track, x, 5.0, 8.0, 6.0, 1.0, source, source == "manual")


def tracked(frame, track=1, x=10.0, score=0.9):
    return BoxRow(frame, track, x, 5.0, 8.0, 6.0, score, "tracked", False)


def spans(segments):
    return sorted((s.track_id, s.start, s.stop) for s in segments)


# --- track table -------------------------------------------------------------------------------


def test_protected_boxes_are_manual_or_keyframes():
    assert is_protected(key(0))
    assert is_protected(BoxRow(0, 1, 0, 0, 1, 1, 0.4, "tracked", True))  # an accepted tracked box
    assert is_protected(BoxRow(0, 1, 0, 0, 1, 1, 1.0, "manual", False))
    assert not is_protected(tracked(0))


def test_merge_never_replaces_a_protected_box():
    table = TrackTable([key(3), tracked(4)])
    taken = table.merge([tracked(3, x=99), tracked(4, x=99), tracked(5, x=99)])
    assert [r.frame for r in taken] == [4, 5]
    assert table.get(1, 3).x == 10 and table.get(1, 4).x == 99 and table.get(1, 5).x == 99
    assert table.merge([key(3, x=50)]) and table.get(1, 3).x == 50  # a person may correct their own box


def test_table_rejects_two_boxes_for_one_track_and_frame():
    with pytest.raises(ValueError, match="two boxes for track 1 on frame 2"):
        TrackTable([key(2), tracked(2)])


# --- planning ----------------------------------------------------------------------------------


def test_forward_to_the_end_restarts_at_each_keyframe():
    table = TrackTable([key(2), tracked(3), key(6), key(7)])
    segments = plan(table, PropagationRequest(frame=2), n_frames=12)
    assert spans(segments) == [(1, 2, 5), (1, 7, 11)]  # 6 -> 7 has nothing to fill


def test_forward_to_the_next_keyframe_and_to_frame_n():
    table = TrackTable([key(2), key(6)])
    assert spans(plan(table, PropagationRequest(2, until="next_keyframe"), 12)) == [(1, 2, 5)]
    assert spans(plan(table, PropagationRequest(2, until="frame", until_frame=4), 12)) == [(1, 2, 4)]
    assert spans(plan(table, PropagationRequest(2, until="frame", until_frame=9), 12)) == [
        (1, 2, 5),
        (1, 6, 9),
    ]


def test_backward_mirrors_forward():
    table = TrackTable([key(2), key(6), key(9)])
    assert spans(plan(table, PropagationRequest(9, direction="backward"), 12)) == [
        (1, 2, 0),
        (1, 6, 3),
        (1, 9, 7),
    ]
    assert spans(plan(table, PropagationRequest(9, "backward", "next_keyframe"), 12)) == [(1, 9, 7)]


def test_both_directions_from_a_frame_never_track_a_frame_twice():
    table = TrackTable([key(3), key(8)])
    segments = plan(table, PropagationRequest(8, direction="both"), 12)
    assert spans(segments) == [(1, 3, 0), (1, 8, 4), (1, 8, 11)]
    filled = [f for s in segments for f in range(s.start + s.step, s.stop + s.step, s.step)]
    assert sorted(filled) == [f for f in range(12) if f not in (3, 8)]


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_every_keyframe_fills_gaps_between_keyframes_from_both_ends(direction):
    table = TrackTable([key(3), key(8)])
    segments = plan(table, PropagationRequest(0, direction=direction, start_from="all"), 12)
    between = [(1, 3, 7), (1, 8, 4)]
    outer = {"forward": [(1, 8, 11)], "backward": [(1, 3, 0)], "both": [(1, 3, 0), (1, 8, 11)]}[direction]
    assert spans(segments) == sorted(between + outer)
    assert [s.fuses for s in segments if (s.start, s.stop) == (8, 4)] == [True]
    assert not any(s.fuses for s in segments if (s.start, s.stop) != (8, 4))


def test_a_gap_cut_by_until_frame_or_ending_outside_has_one_end():
    table = TrackTable([key(3), key(8), absent(10), key(12)])
    cut = plan(table, PropagationRequest(0, until="frame", until_frame=6, start_from="all"), 14)
    assert spans(cut) == [(1, 3, 6)] and not any(s.fuses for s in cut)
    both = plan(table, PropagationRequest(0, start_from="all"), 14)
    assert spans(both) == [(1, 3, 7), (1, 8, 4), (1, 8, 9), (1, 12, 13)]


def test_until_frame_bounds_its_own_side_when_going_both_ways():
    table = TrackTable([key(5)])
    segments = plan(table, PropagationRequest(5, "both", "frame", until_frame=2), 10)
    assert spans(segments) == [(1, 5, 2), (1, 5, 9)]


def test_all_keyframes_covers_every_track():
    table = TrackTable([key(0, track=1), key(4, track=2), key(7, track=2)])
    segments = plan(table, PropagationRequest(0, start_from="all"), 10)
    assert spans(segments) == [(1, 0, 9), (2, 4, 6), (2, 7, 5), (2, 7, 9)]
    backward = plan(table, PropagationRequest(9, direction="backward", start_from="all"), 10)
    assert spans(backward) == [(2, 4, 0), (2, 4, 6), (2, 7, 5)]


def test_only_tracks_with_a_keyframe_on_the_frame_start_from_it():
    table = TrackTable([key(0, track=1), key(4, track=2), tracked(4, track=1)])
    assert spans(plan(table, PropagationRequest(4), 10)) == [(2, 4, 9)]


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (PropagationRequest(1), "frame 1 has no keyframe"),
        (PropagationRequest(20), "outside the video"),
        (PropagationRequest(0, until="frame", until_frame=30), "frame 30 is outside"),
        (PropagationRequest(4, until="frame", until_frame=2), "not after the current frame"),
        (PropagationRequest(0, "backward", "frame", until_frame=2), "not before the current frame"),
    ],
)
def test_requests_that_cannot_run_say_why(request_, message):
    table = TrackTable([key(0), tracked(1), key(4)])
    with pytest.raises(PropagationError, match=message):
        plan(table, request_, 10)


def test_no_keyframes_at_all():
    with pytest.raises(PropagationError, match="no keyframes yet"):
        plan(TrackTable([tracked(1)]), PropagationRequest(0, start_from="all"), 10)


def test_bad_request_values_are_rejected():
    with pytest.raises(PropagationError, match="direction must be one of"):
        PropagationRequest(0, direction="sideways")
    with pytest.raises(PropagationError, match="needs until_frame"):
        PropagationRequest(0, until="frame")


def test_a_keyframe_off_the_image_is_refused_before_any_work():
    table = TrackTable([BoxRow(0, 3, 70.0, 5.0, 8.0, 6.0, 1.0, "manual", True)])
    with pytest.raises(PropagationError, match="track 3 on frame 0 lies outside the 64x48 image"):
        plan(table, PropagationRequest(0), 10, frame_size=(48, 64))


# --- running -----------------------------------------------------------------------------------


def run(segments, frames, tracker=None):
    tracker = tracker or StepTracker()
    steps = list(propagate(tracker, frames, segments))
    return tracker, steps, [row for step in steps for row in step.rows]


def test_box_on_frame_k_starts_on_k_and_first_prediction_lands_on_k_plus_1():
    tracker, steps, rows = run([Segment(1, 3, 6, (10.0, 5.0, 8.0, 6.0))], numbered_frames(10))
    assert tracker.inits[0][0] == 3 and tracker.updates == [4, 5, 6]
    assert [(r.frame, r.x) for r in rows] == [(4, 11.0), (5, 12.0), (6, 13.0)]
    assert all(r.source == "tracked" and not r.keyframe and r.score == 0.9 for r in rows)
    assert [(s.done, s.total) for s in steps] == [(1, 3), (2, 3), (3, 3)]


def test_backward_runs_walk_frames_in_reverse():
    tracker, _, rows = run([Segment(1, 6, 2, (10.0, 5.0, 8.0, 6.0))], numbered_frames(10))
    assert tracker.inits[0][0] == 6 and tracker.updates == [5, 4, 3, 2]
    assert [(r.frame, r.x) for r in rows] == [(5, 11.0), (4, 12.0), (3, 13.0), (2, 14.0)]


class InOrderOnly:
    """A stack that can only be read in order, like a video decoder: records every read."""

    def __init__(self, frames):
        self.frames, self.shape, self.dtype, self.reads = frames, frames.shape, frames.dtype, []

    def __getitem__(self, index):
        raise AssertionError("propagation must read through iter_frames")

    def iter_frames(self, start, stop):
        self.reads.append((start, stop))
        for i in range(start, stop):
            yield i, self.frames[i]


def test_backward_reads_blocks_in_file_order(monkeypatch):
    from napari_siamtrack.annotation import propagation

    frames = InOrderOnly(numbered_frames(10))
    monkeypatch.setattr(propagation, "_BACKWARD_BLOCK_BYTES", 3 * 48 * 64 * 2)  # three frames a block
    tracker, _, _rows = run([Segment(1, 8, 1, (10.0, 5.0, 8.0, 6.0))], frames)
    assert frames.reads == [(6, 9), (3, 6), (1, 3)]
    assert tracker.updates == [7, 6, 5, 4, 3, 2, 1]


def test_targets_starting_together_share_a_run_and_stop_at_their_own_end():
    segments = [Segment(1, 0, 2, (10.0, 5.0, 8.0, 6.0)), Segment(2, 0, 5, (30.0, 5.0, 8.0, 6.0))]
    assert total_frames(segments) == 5
    tracker, _steps, rows = run(segments, numbered_frames(10))
    assert len(tracker.inits) == 1 and tracker.updates == [1, 2, 3, 4, 5]
    assert [(r.track_id, r.frame) for r in rows] == [(1, 1), (2, 1), (1, 2), (2, 2), (2, 3), (2, 4), (2, 5)]
    assert [r.x for r in rows if r.track_id == 2] == [31.0, 32.0, 33.0, 34.0, 35.0]


def test_planned_propagation_fills_gaps_and_leaves_keyframes_alone():
    table = TrackTable([key(0), key(5, x=40.0), tracked(7, x=0.0)])
    segments = plan(table, PropagationRequest(0, start_from="all"), 10)
    _, _, rows = run(segments, numbered_frames(10))
    taken = table.merge(rows)
    assert sorted({r.frame for r in taken}) == [1, 2, 3, 4, 6, 7, 8, 9]
    assert table.get(1, 5).x == 40.0 and table.get(1, 6).x == 41.0 and table.get(1, 7).x == 42.0


def test_tracked_boxes_carry_their_keyframes_label():
    mouse = BoxRow(0, 1, 10.0, 5.0, 8.0, 6.0, 1.0, "manual", True, label="mouse")
    table = TrackTable([mouse, key(0, track=2, x=30.0)])
    _, _, rows = run(plan(table, PropagationRequest(0, until="frame", until_frame=3), 10), numbered_frames(10))
    assert {(r.track_id, r.label) for r in rows} == {(1, "mouse"), (2, "")} and len(rows) == 6


def test_stopping_early_keeps_what_was_yielded():
    steps = propagate(StepTracker(), numbered_frames(10), [Segment(1, 0, 9, (10.0, 5.0, 8.0, 6.0))])
    first = [next(steps), next(steps)]
    steps.close()
    assert [s.rows[0].frame for s in first] == [1, 2]
    assert np.isfinite([s.rows[0].x for s in first]).all()


# --- what the tracker learns from, and absent spans ----------------------------------------------


def absent(frame, track=1, x=10.0):
    return BoxRow(frame, track, x, 5.0, 8.0, 6.0, 1.0, "manual", True, outside=True)


def test_segments_carry_the_visible_keyframes_behind_them_nearest_first():
    table = TrackTable([key(0), key(10, x=20.0), absent(14), key(20, x=30.0), key(5, track=2)])
    segments = {(s.track_id, s.start, s.step): s for s in plan(table, PropagationRequest(0, start_from="all"), 30)}
    assert segments[(1, 0, 1)].examples == ()  # the run a correction on frame 10 does not change
    assert segments[(1, 10, -1)].examples == ((20, (30.0, 5.0, 8.0, 6.0)),)  # 14 is absent
    assert segments[(1, 10, 1)].examples == ((0, (10.0, 5.0, 8.0, 6.0)),)
    assert segments[(1, 20, 1)].examples == ((10, (20.0, 5.0, 8.0, 6.0)), (0, (10.0, 5.0, 8.0, 6.0)))
    assert segments[(2, 5, 1)].examples == ()
    many = TrackTable([key(f) for f in range(0, 40, 2)])
    (last,) = [s for s in plan(many, PropagationRequest(0, start_from="all"), 40) if (s.start, s.step) == (38, 1)]
    assert [f for f, _ in last.examples] == list(range(36, 36 - 2 * MAX_EXAMPLES, -2))


def test_a_correction_leaves_the_forward_boxes_before_it_as_they_were():
    table = TrackTable([key(0), key(20, x=40.0)])
    first = [row for p in propagate(LearningStepTracker(), numbered_frames(30),
                                    plan(table, PropagationRequest(0, start_from="all"), 30)) for row in p.rows]
    table.merge(first)
    table.merge([key(12, x=99.0)])  # the first box that went wrong, corrected
    tracker = LearningStepTracker()
    again = plan(table, PropagationRequest(0, start_from="all"), 30)
    rows = [row for p in propagate(tracker, numbered_frames(30), again) for row in p.rows]
    forward = {r.frame: r for r in rows if r.frame < 12}
    assert forward and all(table.get(1, f) == row for f, row in forward.items())
    assert tracker.inits[0][0] == 0 and tracker.examples[0] == [[]]  # from frame 0: nothing behind it


def test_no_segment_starts_from_an_absent_keyframe():
    table = TrackTable([key(0), absent(5), key(12), absent(20)])
    segments = plan(table, PropagationRequest(0, start_from="all", direction="both"), 30)
    assert spans(segments) == [(1, 0, 4), (1, 12, 19)]
    assert spans(plan(table, PropagationRequest(5, direction="both"), 30)) == [(1, 12, 19)]
    assert plan(table, PropagationRequest(5, direction="both", until="next_keyframe"), 30) == []


def test_a_learning_tracker_sees_each_segments_examples_with_their_frames():
    table = TrackTable([key(0), key(6, x=40.0), key(2, track=2, x=30.0), key(6, track=2, x=36.0)])
    segments = plan(table, PropagationRequest(6), 10)
    tracker = LearningStepTracker()
    rows = [row for progress in propagate(tracker, numbered_frames(10), segments) for row in progress.rows]
    assert tracker.examples == [[[(0, (10.0, 5.0, 8.0, 6.0))], [(2, (30.0, 5.0, 8.0, 6.0))]]]
    assert {(r.track_id, r.frame) for r in rows} == {(t, f) for t in (1, 2) for f in range(7, 10)}


def test_a_tracker_that_does_not_learn_is_started_as_before():
    tracker, _, _ = run(plan(TrackTable([key(0), key(6)]), PropagationRequest(0), 10), numbered_frames(10))
    assert [start for start, _ in tracker.inits] == [0, 6]


# --- gaps filled from both ends -------------------------------------------------------------------


def both_ends(tracker, keys=None, n_frames=11, direction="forward"):
    """Plan from every keyframe (default: keyframes on 0 and 10) and run it; the table after merging,
    the steps, and the segments."""
    table = TrackTable(keys or [key(0), key(10)])
    segments = plan(table, PropagationRequest(0, direction=direction, start_from="all"), n_frames)
    steps = list(propagate(tracker, numbered_frames(n_frames), segments))
    table.merge(row for step in steps for row in step.rows)
    return table, steps, segments


def test_a_gap_between_keyframes_is_tracked_forward_then_backward():
    tracker = StepTracker(dx=0.0)
    table, _, _ = both_ends(tracker)
    assert [start for start, _ in tracker.inits] == [0, 10]
    assert tracker.updates == list(range(1, 10)) + list(range(9, 0, -1))
    assert table.get(1, 0) == key(0) and table.get(1, 10) == key(10)
    assert all(table.get(1, f).score == 0.9 and table.get(1, f).x == 10.0 for f in range(1, 10))


def test_each_frame_keeps_the_forward_box_whatever_the_scores():
    # The backward run scores 0.9, the forward one 0.3; boxes move 0.1 px a frame, so the runs agree.
    tracker = RunScoreTracker(lambda index, start: 0.3 if start == 0 else 0.9, dx=0.1)
    table, _, _ = both_ends(tracker)
    for f in range(1, 10):
        assert (table.get(1, f).x, table.get(1, f).score) == (pytest.approx(10 + 0.1 * f), 0.3), f


def test_where_the_runs_disagree_the_score_drops_so_review_finds_it():
    from napari_siamtrack.metrics import iou

    table, _, _ = both_ends(StepTracker(dx=1.0))  # 8 px wide boxes drift apart 2 px a frame
    for f in range(1, 10):
        row, overlap = table.get(1, f), float(iou((10 + f, 5, 8, 6), (20 - f, 5, 8, 6)))
        assert row.x == 10 + f
        assert row.score == pytest.approx(0.9 if overlap >= 0.5 else 0.9 * overlap), f
    assert [f for f in range(1, 10) if table.get(1, f).score < 0.5] == [1, 2, 3, 7, 8, 9]


def test_counts_and_filled_gaps_include_both_passes():
    keys = (key(0), key(10), key(10, track=2, x=30.0))
    _, steps, segments = both_ends(StepTracker(dx=0.0), keys, n_frames=11, direction="both")
    assert total_frames(segments) == 9 + 10  # forward 1-9; backward 9-0 (track 2 reaches frame 0)
    assert [(s.done, s.total) for s in steps] == [(i, 19) for i in range(1, 20)]
    recorded = {k[0]: s.done for s in steps for k in s.filled}  # track -> the step that filled its gap
    assert recorded == {1: 18, 2: 19}  # track 1's gap: when the backward pass reaches frame 1, not at 9
    track2 = [row for s in steps for row in s.rows if row.track_id == 2]
    assert [r.frame for r in track2] == list(range(9, -1, -1)) and {r.score for r in track2} == {0.9}


def test_cancelling_during_the_backward_pass_keeps_every_box():
    full, _, _ = both_ends(StepTracker(dx=1.0))
    segments = plan(TrackTable([key(0), key(10)]), PropagationRequest(0, start_from="all"), 11)
    steps = propagate(StepTracker(dx=1.0), numbered_frames(11), segments)
    taken = [next(steps) for _ in range(12)]  # the forward pass, then frames 9, 8, 7 backward
    steps.close()
    table = TrackTable([key(0), key(10)])
    table.merge(row for step in taken for row in step.rows)
    assert [table.get(1, f) for f in (7, 8, 9)] == [full.get(1, f) for f in (7, 8, 9)]
    assert all(table.get(1, f).x == 10 + f and table.get(1, f).score == 0.9 for f in range(1, 7))
    assert table.get(1, 0) == key(0) and table.get(1, 10) == key(10)
    assert not any(step.filled for step in taken)  # only half done: the next run tracks it again


def test_batched_sends_the_first_frame_at_once_then_what_a_time_slice_tracked_and_the_rest_at_the_end():
    now = [0.0]
    frames = [Progress((BoxRow(f, 1, f, 0, 1, 1, 0.5, "tracked", False),), f, 9, ((1, 0, 9),) if f == 9 else ())
              for f in range(1, 10)]

    def ticking():
        for item in frames:
            now[0] += 0.1
            yield item

    out = list(batched(ticking(), 0.25, clock=lambda: now[0]))
    assert [p.done for p in out] == [1, 4, 7, 9]
    assert [r.frame for p in out for r in p.rows] == list(range(1, 10))
    assert out[-1].filled == ((1, 0, 9),) and all(p.total == 9 for p in out)


def test_batched_sends_what_was_tracked_before_a_failure_then_raises_it():
    def failing():
        yield Progress((BoxRow(1, 1, 0, 0, 1, 1, 0.5, "tracked", False),), 1, 5)
        yield Progress((BoxRow(2, 1, 0, 0, 1, 1, 0.5, "tracked", False),), 2, 5)
        raise ValueError("cannot decode frame 3")

    out = batched(failing(), 10.0, clock=lambda: 0.0)
    assert [p.done for p in (next(out), next(out))] == [1, 2]
    with pytest.raises(ValueError, match="frame 3"):
        next(out)
