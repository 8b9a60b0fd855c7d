"""Review: confidence of tracked boxes, runs of uncertain frames, and the jump from run to run."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from napari_siamtrack.annotation.review import (
    BoxReview,
    confidences,
    next_run_start,
    probability,
    runs,
)
from napari_siamtrack.annotation.track_table import TrackTable
from napari_siamtrack.io.box_csv import BoxRow


def key(frame, track=1):
    return BoxRow(frame, track, 10.0, 5.0, 8.0, 6.0, 1.0, "manual", True)


def tracked(frame, track=1, score=0.9, x=10.0):
    return BoxRow(frame, track, x, 5.0, 8.0, 6.0, score, "tracked", False)


def test_runs_group_consecutive_frames():
    assert runs([7, 3, 4, 5, 9, 10, 4]) == [(3, 5), (7, 7), (9, 10)]
    assert runs([]) == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 3), st.integers(0, 40), st.floats(0.0, 1.0), st.booleans()), max_size=60))
def test_uncertain_runs_are_the_runs_of_each_tracks_boxes_below_the_threshold(boxes):
    rows = {(t, f): BoxRow(f, t, 1.0, 1.0, 4.0, 4.0, s, "manual" if k else "tracked", k) for t, f, s, k in boxes}
    review = BoxReview.of(TrackTable(rows.values()))
    confidence = review.by_key()
    for threshold in (0.3, 0.5, 0.9):
        expected = {}
        for (track, frame), value in sorted(confidence.items()):
            if value < threshold:
                expected.setdefault(track, []).append(frame)
        assert review.uncertain_runs(threshold) == {t: runs(f) for t, f in expected.items()}
    assert review.track_ids() == sorted({t for t, _ in rows})


def test_next_run_start_steps_over_whole_runs_and_wraps():
    run_lists = {1: [(3, 8), (20, 22)], 2: [(5, 6)]}
    assert next_run_start(run_lists, 0) == 3
    assert next_run_start(run_lists, 3) == 5
    assert next_run_start(run_lists, 5) == 20
    assert next_run_start(run_lists, 21) == 3
    assert next_run_start(run_lists, 21, step=-1) == 20
    assert next_run_start(run_lists, 4, step=-1) == 3
    assert next_run_start(run_lists, 2, step=-1) == 20
    assert next_run_start({}, 4) is None


def test_keyframes_are_certain_and_confidence_is_a_probability():
    table = TrackTable(
        [key(0), *(tracked(f) for f in range(1, 30)), BoxRow(30, 1, 0, 0, 1, 1, 0.05, "tracked", True)]
    )
    conf = confidences(table)
    assert conf[(1, 0)] == 1.0 and conf[(1, 30)] == 1.0
    assert all(0.0 <= c <= 1.0 for c in conf.values()) and len(conf) == 31
    assert BoxReview.of(table).uncertain_runs(0.0) == {}


def reading_of(table: TrackTable, row: BoxRow) -> tuple[float, float]:
    """(score, lowest score since the run's start) of a tracked box, found by walking frame by frame: a
    run starts after the keyframe before it, or, when no box comes just before its stretch but one comes
    just after, it runs backward from there."""
    first = last = row.frame
    while (r := table.get(row.track_id, first - 1)) is not None and not r.keyframe:
        first -= 1
    while (r := table.get(row.track_id, last + 1)) is not None and not r.keyframe:
        last += 1
    backward = table.get(row.track_id, first - 1) is None and table.get(row.track_id, last + 1) is not None
    span = range(row.frame, last + 1) if backward else range(first, row.frame + 1)
    return row.score, min(table.get(row.track_id, f).score for f in span)


boxes = st.lists(
    st.tuples(st.integers(1, 3), st.integers(0, 40), st.floats(0, 1), st.booleans()),
    max_size=80, unique_by=lambda b: b[:2],
)


@settings(max_examples=200, deadline=None)
@given(boxes)
def test_each_tracked_box_reads_its_run_from_the_keyframe_it_was_tracked_from(found):
    table = TrackTable(
        BoxRow(f, t, 0.0, 0.0, 1.0, 1.0, s, "manual" if k else "tracked", k) for t, f, s, k in found
    )
    conf = confidences(table)
    assert set(conf) == {(r.track_id, r.frame) for r in table}
    for row in table:
        expected = 1.0 if row.keyframe else probability(np.array([reading_of(table, row)]))[0]
        assert np.isclose(conf[(row.track_id, row.frame)], expected)
