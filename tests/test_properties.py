"""Property-based tests (hypothesis): the boxes CSV round trip, the CSV reader on any text, and the rule
that no sequence of operations overwrites a person's keyframe (the track table and the napari layer)."""

from __future__ import annotations

import numpy as np
from doubles import StepTracker, numbered_frames
from hostile import HEADER, attempt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from napari_siamtrack.annotation.propagation import PropagationError, PropagationRequest, plan, propagate
from napari_siamtrack.annotation.review import BoxReview
from napari_siamtrack.annotation.track_table import TrackTable, is_protected
from napari_siamtrack.io.box_csv import MAX_FRAMES, MAX_PIXELS, SOURCES, BoxRow, read_csv, write_csv

N_FRAMES = 12

coordinates = st.floats(-MAX_PIXELS, MAX_PIXELS, allow_nan=False)
sizes = st.floats(0.0, MAX_PIXELS, exclude_min=True)
rows = st.builds(
    BoxRow,
    frame=st.integers(0, MAX_FRAMES - 1),
    track_id=st.integers(1, 2**31 - 1),
    x=coordinates,
    y=coordinates,
    w=sizes,
    h=sizes,
    score=st.floats(0.0, 1.0),
    source=st.sampled_from(SOURCES),
    keyframe=st.booleans(),
)
slow = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def same_review(kept: BoxReview, fresh: BoxReview) -> bool:
    """Whether two reviews hold the same boxes, confidences and kinds."""
    return all(np.array_equal(a, b) for a, b in zip(vars(kept).values(), vars(fresh).values()))


def small_rows(people: bool = False):
    """Boxes of three tracks on a video of :data:`N_FRAMES` frames: tracker rows, or (``people``) any."""
    return st.builds(
        BoxRow, frame=st.integers(0, N_FRAMES - 1), track_id=st.integers(1, 3), x=st.floats(0, 40),
        y=st.just(5.0), w=st.just(8.0), h=st.just(6.0), score=st.floats(0, 1),
        source=st.sampled_from(SOURCES) if people else st.just("tracked"),
        keyframe=st.booleans() if people else st.just(False),
    )


@slow
@given(st.lists(rows, unique_by=lambda r: (r.frame, r.track_id), max_size=40))
def test_csv_round_trip_is_exact(tmp_path, boxes):
    first = write_csv(tmp_path / "a.csv", boxes)
    back = read_csv(first)
    assert back == sorted(boxes, key=lambda r: (r.track_id, r.frame))
    assert write_csv(tmp_path / "b.csv", back).read_bytes() == first.read_bytes()


#: Pieces of CSV text, good and hostile, that the generated files are made of.
TOKENS = st.sampled_from(
    ["0", "1", "-1", "2.5", "1e308", "-1e308", "1e-320", "nan", "NaN", "inf", "-inf", "", " ", "true",
     "false", "TRUE", "0x10", "manual", "tracked", "auto", "frame", "track_id", '"', '""', "\ufeff", "\x00",
     "é", "9" * 400]
)
FIELDS = st.lists(st.one_of(TOKENS, st.text(max_size=8)), min_size=0, max_size=11)
LINES = st.lists(FIELDS.map(",".join), max_size=8)


@slow
@given(header=st.sampled_from([HEADER, HEADER.upper(), "\ufeff" + HEADER, "frame,track_id", ""]),
       lines=LINES, end=st.sampled_from(["\n", "\r\n", "\r"]))
def test_csv_reader_reads_or_refuses_any_text_in_one_line(tmp_path, header, lines, end):
    path = tmp_path / "fuzz.boxes.csv"
    path.write_text(end.join([header, *lines]), encoding="utf-8", newline="")
    if attempt("boxes CSV", path) is None:  # what it read, it can write back: valid rows
        write_csv(tmp_path / "back.csv", read_csv(path))


class Labelling(RuleBasedStateMachine):
    """A person draws and accepts boxes, the tracker's rows are merged in, propagations run, in any order:
    every keyframe stays exactly as the person last left it, and the tracker makes none."""

    def __init__(self) -> None:
        super().__init__()
        self.table = TrackTable()
        self.keyframes: dict[tuple[int, int], BoxRow] = {}
        self.frames = numbered_frames(N_FRAMES)

    @rule(track=st.integers(1, 3), frame=st.integers(0, N_FRAMES - 1), x=st.floats(0, 40))
    def draw(self, track, frame, x):
        row = BoxRow(frame, track, x, 5.0, 8.0, 6.0, 1.0, "manual", True)
        assert self.table.merge([row]) == [row]
        self.keyframes[(track, frame)] = row

    @rule(data=st.data())
    def accept_a_tracked_box(self, data):
        tracked = [r for r in self.table if not is_protected(r)]
        if tracked:
            row = data.draw(st.sampled_from(tracked))
            accepted = BoxRow(*[getattr(row, f) for f in ("frame", "track_id", "x", "y", "w", "h", "score")],
                              source="tracked", keyframe=True)
            assert self.table.merge([accepted]) == [accepted]
            self.keyframes[(row.track_id, row.frame)] = accepted

    @rule(batch=st.lists(small_rows(), max_size=10))
    def merge_tracker_rows(self, batch):
        self.table.merge(batch)

    @rule(frame=st.integers(0, N_FRAMES - 1), direction=st.sampled_from(["forward", "backward", "both"]),
          until=st.sampled_from(["end", "next_keyframe"]), start_from=st.sampled_from(["frame", "all"]),
          dx=st.floats(-3, 3))
    def propagate(self, frame, direction, until, start_from, dx):
        request = PropagationRequest(frame, direction, until, start_from=start_from)
        try:
            segments = plan(self.table, request, N_FRAMES)
        except PropagationError:
            return
        for progress in propagate(StepTracker(dx=dx), self.frames, segments):
            self.table.merge(progress.rows)

    @invariant()
    def keyframes_are_untouched(self):
        assert {(r.track_id, r.frame): r for r in self.table if is_protected(r)} == self.keyframes


Labelling.TestCase.settings = settings(max_examples=60, stateful_step_count=20, deadline=None)
test_no_sequence_of_operations_overwrites_a_keyframe = Labelling.TestCase


@settings(max_examples=30, deadline=None)
@given(
    initial=st.lists(small_rows(people=True), unique_by=lambda r: (r.track_id, r.frame), max_size=12),
    incoming=st.lists(small_rows(), max_size=12),
)
def test_the_napari_layer_never_lets_tracker_rows_replace_a_keyframe(initial, incoming):
    from napari.layers import Shapes

    from napari_siamtrack.ui.boxes_layer import BoxesLayer
    from napari_siamtrack.ui.layer_boxes import layer_kwargs

    kwargs = layer_kwargs(initial)
    layer = BoxesLayer(Shapes(kwargs.pop("data"), **kwargs))
    before = {(r.track_id, r.frame): r for r in layer.table()}
    layer.merge(incoming)
    after = {(r.track_id, r.frame): r for r in layer.table()}
    kept = {k: r for k, r in before.items() if is_protected(r)}
    assert {k: after[k] for k in kept} == kept
    newest = {(r.track_id, r.frame): r for r in incoming}
    for k, row in newest.items():
        if k not in kept:
            assert np.isclose(after[k].x, row.x, atol=1e-3) and after[k].source == "tracked"
    assert set(after) == set(before) | set(newest)


@settings(max_examples=30, deadline=None)
@given(
    initial=st.lists(small_rows(people=True), unique_by=lambda r: (r.track_id, r.frame), max_size=12),
    batches=st.lists(st.lists(small_rows(), max_size=8), max_size=3),
)
def test_a_merge_leaves_the_layer_as_reading_it_afresh_gives(initial, batches):
    """A merge updates the boxes, confidences and colours it keeps from the rows it puts in; they are
    what reading and styling every shape again gives."""
    from napari.layers import Shapes
    from napari.utils.colormaps.standardize_color import transform_color

    from napari_siamtrack.ui.boxes_layer import BoxesLayer
    from napari_siamtrack.ui.layer_boxes import layer_kwargs, read_boxes, style, unique_boxes

    kwargs = layer_kwargs(initial)
    binding = BoxesLayer(Shapes(kwargs.pop("data"), **kwargs))
    for batch in batches:
        binding.merge(batch)
        layer = binding.layer
        fresh, repeated = unique_boxes(read_boxes(layer.data, layer.shape_type, layer.features))
        assert binding.boxes() == (fresh, fresh.problems + repeated)
        afresh = Shapes(layer.data, ndim=3, shape_type=layer.shape_type, features=layer.features.copy())
        afresh = BoxesLayer(afresh)
        assert same_review(binding.review, BoxReview.of(afresh.table()))
        assert layer.features["confidence"].tolist() == afresh.layer.features["confidence"].tolist()
        if layer.nshapes:
            colours, widths = style(layer.features, binding.threshold)
            assert np.array_equal(layer.edge_color, transform_color(colours)) and layer.edge_width == widths


#: A person's edits in a layer: drag the box at an index (selected, as napari's drag leaves it, or not),
#: or draw a box on a frame.
edits = st.one_of(
    st.tuples(st.just("drag"), st.integers(0, 30), st.booleans()),
    st.tuples(st.just("draw"), st.integers(0, N_FRAMES - 1), st.just(False)),
)


@settings(max_examples=30, deadline=None)
@given(
    initial=st.lists(small_rows(people=True), unique_by=lambda r: (r.track_id, r.frame), min_size=1, max_size=12),
    steps=st.lists(edits, min_size=1, max_size=4),
)
def test_a_persons_edits_leave_the_layer_as_reading_it_afresh_gives(initial, steps):
    """Dragged and drawn boxes are read again alone and only the styles that change are set; the boxes,
    confidences, captions and colours are what reading and styling every shape again gives."""
    from napari.layers import Shapes
    from napari.utils.colormaps.standardize_color import transform_color

    from napari_siamtrack.ui.boxes_layer import BoxesLayer
    from napari_siamtrack.ui.layer_boxes import layer_kwargs, read_boxes, rectangle, style, unique_boxes

    kwargs = layer_kwargs(initial)
    binding = BoxesLayer(Shapes(kwargs.pop("data"), **kwargs))
    layer = binding.layer
    for kind, where, selected in steps:
        if kind == "drag":
            index = where % layer.nshapes
            layer.selected_data = {index} if selected else set()
            layer._data_view.shift(index, np.array([1.0, 2.0]))  # what napari's drag does, then its event
            layer.events.data(value=layer.data, action="changed", data_indices=(index,), vertex_indices=((),))
            layer.selected_data = set()
        else:
            layer.add_rectangles(rectangle(BoxRow(where, 1, 3.0, 4.0, 9.0, 7.0, 1.0, "manual", True)))
        fresh, repeated = unique_boxes(read_boxes(layer.data, layer.shape_type, layer.features))
        assert binding.boxes() == (fresh, fresh.problems + repeated)
        afresh = BoxesLayer(Shapes(layer.data, ndim=3, shape_type=layer.shape_type, features=layer.features.copy()))
        assert same_review(binding.review, BoxReview.of(afresh.table()))
        for column in ("confidence", "caption", "keyframe", "source", "track_id", "frame"):
            assert layer.features[column].tolist() == afresh.layer.features[column].tolist()
        colours, widths = style(layer.features, binding.threshold)
        assert np.allclose(layer.edge_color, transform_color(colours)) and layer.edge_width == widths
