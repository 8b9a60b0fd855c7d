"""Review: confidence of tracked boxes, runs of uncertain frames, and the jump from run to run."""

from __future__ import annotations

from napari_siamtrack.annotation.review import confidences, next_run_start, runs, uncertain_runs
from napari_siamtrack.annotation.track_table import TrackTable
from napari_siamtrack.io.box_csv import BoxRow


def key(frame, track=1):
    return BoxRow(frame, track, 10.0, 5.0, 8.0, 6.0, 1.0, "manual", True)


def tracked(frame, track=1, score=0.9, x=10.0):
    return BoxRow(frame, track, x, 5.0, 8.0, 6.0, score, "tracked", False)


def test_runs_group_consecutive_frames():
    assert runs([7, 3, 4, 5, 9, 10, 4]) == [(3, 5), (7, 7), (9, 10)]
    assert runs([]) == []


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
    assert uncertain_runs(table, 0.0, conf) == {}
