"""Track edits without napari: absent from here, set track id, merge, split, delete tracked boxes from a
frame on, linear interpolation; and hypothesis runs random sequences of them, checking that no keyframe
is ever lost or its box changed."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from napari_siamtrack.annotation.absence import absent_spans, mark_absent
from napari_siamtrack.annotation.identity import (
    IdentityError,
    delete_tracked_from,
    merge_tracks,
    set_track_id,
    split_track,
)
from napari_siamtrack.annotation.interpolation import interpolate
from napari_siamtrack.annotation.propagation import PropagationRequest, plan
from napari_siamtrack.annotation.review import BoxReview
from napari_siamtrack.annotation.track_table import TrackTable, is_protected
from napari_siamtrack.io.box_csv import BoxRow, read_csv


def key(frame, track=1, x=10.0, label=""):
    return BoxRow(frame, track, x, 5.0, 8.0, 6.0, 1.0, "manual", True, label=label)


def tracked(frame, track=1, x=10.0, score=0.8):
    return BoxRow(frame, track, x, 5.0, 8.0, 6.0, score, "tracked", False)


def by_key(rows):
    return {(r.track_id, r.frame): r for r in rows}


def test_absent_from_here_keeps_the_box_and_removes_tracked_boxes_up_to_the_next_keyframe():
    table = TrackTable([key(0), *(tracked(f, x=10.0 + f) for f in range(1, 8)), key(8), tracked(9)])
    rows = by_key(mark_absent(table, 1, 4))
    assert rows[(1, 4)].outside and rows[(1, 4)].keyframe and rows[(1, 4)].source == "manual"
    assert rows[(1, 4)].x == 14.0  # the box that was there
    assert sorted(f for _, f in rows) == [0, 1, 2, 3, 4, 8, 9]
    # propagation neither starts from nor tracks into the span
    request = PropagationRequest(0, "both", "end", start_from="all", full=True)
    segments = plan(TrackTable(rows.values()), request, 12)
    assert segments and all(not (4 <= s.start < 8) and not (4 <= s.stop < 8) for s in segments)
    assert absent_spans(BoxReview.of(TrackTable(rows.values())), 1, 12) == [(4, 7)]
    # again on the outside keyframe: visible again, nothing else changes
    back = by_key(mark_absent(TrackTable(rows.values()), 1, 4))
    assert not back[(1, 4)].outside and back.keys() == rows.keys()


def test_absent_on_a_frame_without_a_box_takes_the_last_known_box():
    table = TrackTable([key(0, x=3.0), tracked(1, x=4.0), key(6, x=9.0)])
    rows = by_key(mark_absent(table, 1, 3))
    assert rows[(1, 3)].x == 4.0 and rows[(1, 3)].outside
    assert absent_spans(BoxReview.of(TrackTable(mark_absent(table, 1, 7))), 1, 12) == [(7, 11)]
    with pytest.raises(IdentityError, match="track 2 has no box"):
        mark_absent(table, 2, 3)


def test_set_track_id_moves_boxes_as_keyframes_and_refuses_a_keyframe_clash():
    table = TrackTable([key(0), tracked(1), tracked(2), key(0, 2, label="cat"), tracked(2, 2), key(3, 2)])
    rows = by_key(set_track_id(table, [(1, 2)], 2))
    assert rows[(2, 2)].keyframe and rows[(2, 2)].x == 10.0 and rows[(2, 2)].label == "cat"
    assert (1, 2) not in rows and len(rows) == len(table) - 1
    with pytest.raises(IdentityError, match="track 2 already has a keyframe on frame 0"):
        set_track_id(table, [(1, 0)], 2)
    with pytest.raises(IdentityError, match="1 to"):
        set_track_id(table, [(1, 0)], 0)
    assert by_key(set_track_id(table, [(1, 1)], 7))[(7, 1)].keyframe


def test_merge_keeps_keyframes_and_the_surer_tracked_box_and_refuses_two_keyframes_on_a_frame():
    table = TrackTable([key(0), tracked(1, score=0.2), tracked(2), key(1, 3), tracked(2, 3, score=0.9),
                        tracked(5, 3)])
    rows = by_key(merge_tracks(table, [3, 1]))
    assert {t for t, _ in rows} == {1}
    assert rows[(1, 1)].keyframe and rows[(1, 2)].score == 0.9 and (1, 5) in rows
    clash = TrackTable([key(0), key(0, 2)])
    with pytest.raises(IdentityError, match="tracks 1 and 2 both have a keyframe on frame 0"):
        merge_tracks(clash, [1, 2])
    with pytest.raises(IdentityError, match="two or more"):
        merge_tracks(table, [1])


def test_split_gives_the_boxes_from_here_on_a_new_id():
    table = TrackTable([key(0), tracked(1), key(2), tracked(3), key(0, 4)])
    rows = by_key(split_track(table, 1, 2))
    assert sorted(rows) == [(1, 0), (1, 1), (4, 0), (5, 2), (5, 3)]
    with pytest.raises(IdentityError, match="nothing comes before"):
        split_track(table, 1, 0)
    with pytest.raises(IdentityError, match="no box from frame 9"):
        split_track(table, 1, 9)


def test_delete_tracked_from_here_keeps_keyframes():
    table = TrackTable([key(0), tracked(1), tracked(2), key(3), tracked(4)])
    assert sorted(by_key(delete_tracked_from(table, 1, 2))) == [(1, 0), (1, 1), (1, 3)]
    with pytest.raises(IdentityError, match="no tracked box from frame 5"):
        delete_tracked_from(table, 1, 5)


def test_interpolation_fills_between_visible_keyframes_only():
    outside = BoxRow(6, 1, 30.0, 5.0, 8.0, 6.0, 1.0, "manual", True, outside=True)
    table = TrackTable([key(0, x=10.0, label="cat"), tracked(1, score=0.1), key(4, x=20.0), outside,
                        key(9, x=40.0), key(0, 2), key(3, 2, x=13.0)])
    rows, gaps = interpolate(table, [1])
    assert [(r.frame, r.x) for r in rows] == [(1, 12.5), (2, 15.0), (3, 17.5)]
    assert all(r.source == "tracked" and not r.keyframe and r.score == 1.0 for r in rows)
    assert rows[0].label == "cat" and len(gaps) == 1
    assert [r.frame for r in interpolate(table)[0] if r.track_id == 2] == [1, 2]


# --- no sequence of edits loses or changes a keyframe ---------------------------------------------

N_FRAMES, TRACKS = 10, (1, 2, 3)
boxes = st.builds(
    BoxRow, frame=st.integers(0, N_FRAMES - 1), track_id=st.sampled_from(TRACKS), x=st.floats(0, 40),
    y=st.just(5.0), w=st.just(8.0), h=st.just(6.0), score=st.floats(0, 1),
    source=st.sampled_from(["manual", "tracked"]), keyframe=st.booleans(), outside=st.booleans(),
)
edits = st.tuples(
    st.sampled_from(["absent", "set_id", "merge", "split", "delete", "interpolate"]),
    st.sampled_from(TRACKS + (4,)), st.sampled_from(TRACKS), st.integers(0, N_FRAMES - 1),
)


def apply(table, edit):
    name, a, b, frame = edit
    if name == "absent":
        return mark_absent(table, a, frame)
    if name == "set_id":
        return set_track_id(table, [(b, frame)], a)
    if name == "merge":
        return merge_tracks(table, [a, b])
    if name == "split":
        return split_track(table, b, frame)
    if name == "delete":
        return delete_tracked_from(table, b, frame)
    new, _ = interpolate(table)
    table.merge(new)
    return list(table)


@settings(deadline=None, max_examples=300)
@given(st.lists(boxes, unique_by=lambda r: (r.track_id, r.frame), max_size=25), st.lists(edits, max_size=12))
def test_no_sequence_of_edits_loses_or_changes_a_keyframe_box(start, sequence):
    table = TrackTable(start)
    keyframes = {(r.frame, r.x, r.y, r.w, r.h) for r in table if is_protected(r)}
    for edit in sequence:
        before = list(table)
        try:
            table = TrackTable(apply(table, edit))
        except IdentityError:
            assert list(TrackTable(before)) == before  # refused: nothing changed
            table = TrackTable(before)
        now = [(r.frame, r.x, r.y, r.w, r.h) for r in table if is_protected(r)]
        assert keyframes <= set(now)  # every keyframe box is still there, on its frame
        keyframes = set(now)


@settings(deadline=None, max_examples=25)
@given(
    st.lists(boxes.map(lambda r: replace(r, x=round(r.x, 3))), unique_by=lambda r: (r.track_id, r.frame),
             max_size=15),
    st.lists(edits, max_size=6),
)
def test_the_napari_layer_holds_exactly_the_rows_of_each_edit(start, sequence):
    from napari.layers import Shapes

    from napari_siamtrack.ui.boxes_layer import BoxesLayer
    from napari_siamtrack.ui.layer_boxes import layer_kwargs

    kwargs = layer_kwargs(start)
    layer = BoxesLayer(Shapes(kwargs.pop("data"), **kwargs))
    for edit in sequence:
        try:
            rows = apply(layer.table(), edit)
        except IdentityError:
            continue
        layer.replace_boxes(rows)
        assert list(layer.table()) == list(TrackTable(rows))
        assert layer.boxes()[1] == [] and layer.layer.nshapes == len(rows)


@settings(deadline=None, max_examples=25)
@given(
    st.lists(boxes.map(lambda r: replace(r, x=round(r.x, 3))), unique_by=lambda r: (r.track_id, r.frame),
             min_size=1, max_size=15),
    st.lists(edits, max_size=6),
)
def test_edited_tracks_survive_export_import_export_byte_for_byte(tmp_path_factory, start, sequence):
    """Merged, split, re-numbered and absent tracks: the layer's CSV, read back into a layer and written
    again, is the same file."""
    from napari.layers import Shapes

    from napari_siamtrack.ui.boxes_layer import BoxesLayer
    from napari_siamtrack.ui.layer_boxes import layer_kwargs
    from napari_siamtrack.ui.napari_contrib import get_boxes_reader, write_boxes

    kwargs = layer_kwargs(start)
    layer = BoxesLayer(Shapes(kwargs.pop("data"), **kwargs))
    for edit in sequence:
        try:
            layer.replace_boxes(apply(layer.table(), edit))
        except IdentityError:
            continue
    folder = tmp_path_factory.mktemp("round_trip")
    first, second = folder / "first.boxes.csv", folder / "second.boxes.csv"
    write_boxes(str(first), *layer.layer.as_layer_data_tuple()[:2])
    ((data, meta, _),) = get_boxes_reader(str(first))(str(first))
    write_boxes(str(second), *Shapes(data, **meta).as_layer_data_tuple()[:2])
    assert second.read_bytes() == first.read_bytes()
    assert list(TrackTable(read_csv(first))) == list(layer.table())
