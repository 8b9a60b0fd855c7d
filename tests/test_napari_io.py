"""Boxes as layer data, the box CSV reader and writer, and the lazy video reader, as napari uses them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from napari_siamtrack.io.box_csv import BoxRow, read_csv, write_csv
from napari_siamtrack.io.sample import make_sample, write_video
from napari_siamtrack.io.sources import open_frames
from napari_siamtrack.io.video_array import VideoArray
from napari_siamtrack.ui.layer_boxes import (
    TRANSLATE,
    box_of,
    layer_kwargs,
    not_a_box,
    read_boxes,
    rectangle,
    unique_boxes,
)
from napari_siamtrack.ui.napari_contrib import get_boxes_reader, get_video_reader, write_boxes

ROWS = [
    BoxRow(0, 1, 10.0, 5.0, 8.0, 6.0, 1.0, "manual", True, label="mouse"),
    BoxRow(1, 1, 11.125, 5.5, 8.25, 6.0, 0.75, "tracked", False, label="mouse"),
    BoxRow(2, 1, 0.1, 0.2, 0.3, 0.7, 0.125, "tracked", True, outside=True, label="mouse"),
    BoxRow(1, 2, 40.0, 30.0, 12.0, 9.0, 1.0, "manual", False),
]


def test_rows_round_trip_through_layer_data():
    kwargs = layer_kwargs(ROWS)
    assert kwargs["translate"] == TRANSLATE and kwargs["ndim"] == 3
    boxes = read_boxes(kwargs["data"], ["rectangle"] * len(ROWS), kwargs["features"])
    assert boxes.rows == ROWS and boxes.indices == [0, 1, 2, 3] and not boxes.problems


def test_shapes_that_are_not_boxes_are_named():
    data = [
        rectangle(ROWS[0]),
        np.array([[1, 0, 0], [1, 5, 5], [1, 0, 5]], float),
        np.array([[0.5, 0, 0], [0.5, 0, 4], [0.5, 4, 4], [0.5, 4, 0]]),
        np.array([[0, 0], [0, 4], [4, 4], [4, 0]], float),
        np.array([[3, 2, 2], [3, 2, 2], [3, 2, 2], [3, 2, 2]], float),
    ]
    types = ["rectangle", "polygon", "rectangle", "rectangle", "rectangle"]
    boxes = read_boxes(data, types, layer_kwargs(ROWS[:1] * 5)["features"])
    assert boxes.indices == [0]
    assert boxes.problems == [
        "frame 1: a polygon is not a box; draw boxes with the rectangle tool (R)",
        "a shape on plane t=0.5 is not on a frame",
        "a shape with 2 coordinates per vertex is not a box; boxes need (t, y, x)",
        "frame 3: a box without area",
    ]


def test_a_layer_without_features_reads_as_manual_keyframes_with_new_tracks():
    import pandas as pd

    boxes = read_boxes([rectangle(ROWS[0]), rectangle(ROWS[3])], ["rectangle"] * 2, pd.DataFrame())
    assert [(r.track_id, r.source, r.keyframe, r.score, r.outside, r.label) for r in boxes.rows] == [
        (1, "manual", True, 1.0, False, ""),
        (2, "manual", True, 1.0, False, ""),
    ]


def test_repeated_track_and_frame_keeps_the_newest():
    rows = [ROWS[0], BoxRow(0, 1, 20.0, 5.0, 8.0, 6.0, 1.0, "manual", True)]
    kwargs = layer_kwargs(rows)
    boxes, dropped = unique_boxes(read_boxes(kwargs["data"], ["rectangle"] * 2, kwargs["features"]))
    assert boxes.rows == rows[1:] and dropped == ["frame 0: track 1 has two boxes (the older one is left out)"]


def test_export_then_import_round_trips_exactly(make_napari_viewer_proxy, tmp_path):
    viewer = make_napari_viewer_proxy()
    kwargs = layer_kwargs(ROWS, name="boxes")
    layer = viewer.add_shapes(kwargs.pop("data"), **kwargs)
    path = tmp_path / "boxes.boxes.csv"
    assert viewer.layers.save(str(path), selected=False, plugin="napari-siamtrack") == [str(path)]
    assert read_csv(path) == sorted(ROWS, key=lambda r: (r.track_id, r.frame))
    (back,) = viewer.open(str(path), plugin="napari-siamtrack")
    assert back.name.startswith("boxes") and back.ndim == 3 and list(back.translate) == list(TRANSLATE)
    for a, b in zip(back.data, [rectangle(r) for r in read_csv(path)]):
        np.testing.assert_allclose(a, b, atol=1e-4)  # napari keeps vertices in float32
    again = tmp_path / "again.csv"
    write_boxes(str(again), *back.as_layer_data_tuple()[:2])
    assert again.read_bytes() == path.read_bytes()
    assert layer.nshapes == back.nshapes


def test_writer_refuses_a_layer_with_non_boxes_and_writes_nothing(tmp_path):
    kwargs = layer_kwargs(ROWS[:1])
    polygon = np.array([[1, 0, 0], [1, 5, 5], [1, 0, 5]], float)
    meta = {
        "name": "mixed",
        "shape_type": ["rectangle", "polygon"],
        "features": layer_kwargs(ROWS[:2])["features"],
    }
    with pytest.raises(ValueError, match="cannot export layer 'mixed': frame 1: a polygon is not a box"):
        write_boxes(str(tmp_path / "x.csv"), [kwargs["data"][0], polygon], meta)
    assert not (tmp_path / "x.csv").exists()


def test_boxes_reader_leaves_other_csv_files_alone(tmp_path):
    ours, other = tmp_path / "ours.csv", tmp_path / "other.csv"
    write_csv(ours, ROWS)
    other.write_text("index,shape-type,vertex-index,axis-0,axis-1\n0,rectangle,0,1,2\n")
    assert get_boxes_reader(str(ours)) is not None
    assert get_boxes_reader(str(other)) is None
    assert get_boxes_reader(str(tmp_path / "missing.csv")) is None
    assert get_boxes_reader(str(tmp_path / "clip.mp4")) is None


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    path = tmp_path_factory.mktemp("video") / "clip.mp4"
    write_video(path, make_sample(n_frames=20, height=120, width=160).frames)
    return path


def test_video_array_indexes_like_numpy(video):
    array = VideoArray(open_frames(video))
    with open_frames(video) as source:
        full = np.stack([source[i] for i in range(len(source))])
    assert array.shape == full.shape == (20, 120, 160, 3) and array.dtype == full.dtype and array.ndim == 4
    for key in [
        3,
        -1,
        (5, slice(10, 20), 4),
        slice(2, 6),
        (slice(None, None, 7), 0, 0),
        [1, 4],
        np.array([[0, 2]]),
    ]:
        np.testing.assert_array_equal(array[key], full[key])
    assert [i for i, _ in array.iter_frames(17)] == [17, 18, 19]
    with pytest.raises(IndexError):
        array[..., 0]


def test_video_opens_lazily_in_napari(make_napari_viewer_proxy, video, monkeypatch):
    from napari_siamtrack.io import sources

    reads = []
    original = sources.VideoSource._read
    monkeypatch.setattr(sources.VideoSource, "_read", lambda self, i: reads.append(i) or original(self, i))
    assert get_video_reader(str(video)) is not None and get_video_reader(str(video) + ".txt") is None
    viewer = make_napari_viewer_proxy()
    (layer,) = viewer.open(str(video), plugin="napari-siamtrack")
    assert isinstance(layer.data, VideoArray) and layer.rgb and layer.data.shape == (20, 120, 160, 3)
    assert len(set(reads)) <= 3, f"opening decoded frames {sorted(set(reads))}"
    viewer.dims.set_current_step(0, 12)
    assert 12 in reads


vertex = st.one_of(
    st.floats(-1e7, 1e7),
    st.sampled_from([0.0, 0.0005, 0.0015, 2.5, -0.5, 1e-9, float("nan"), float("inf")]),
)


@given(st.lists(st.tuples(st.lists(vertex, min_size=12, max_size=12), st.booleans()), max_size=8))
@settings(deadline=None)
def test_reading_rectangles_together_gives_what_reading_each_gives(shapes):
    """:func:`read_boxes` reads rectangles in one array; each box or message is that of :func:`box_of`."""
    data = [np.array(v, dtype=np.float64).reshape(4, 3) for v, _ in shapes]
    for (_, on_plane), d in zip(shapes, data):
        if on_plane:  # most real shapes lie on one frame
            d[:, 0] = abs(round(d[0, 0] if np.isfinite(d[0, 0]) else 0.0))
    types = ["rectangle" if on_plane or k % 3 else "ellipse" for k, (_, on_plane) in enumerate(shapes)]
    boxes = read_boxes(data, types, pd.DataFrame({"track_id": np.arange(1, len(data) + 1)}))
    one_by_one = [box_of(d) if kind == "rectangle" else not_a_box(d, kind) for d, kind in zip(data, types)]
    assert [r for r in one_by_one if isinstance(r, str)] == boxes.problems
    read = [(r.frame, r.x, r.y, r.w, r.h) for r in boxes.rows]
    assert read == [r for r in one_by_one if not isinstance(r, str)]
