"""Hostile input (tests/hostile.py): every named case read or refused with one clear line, random damage
never crashing a reader, and nothing in the viewer lost when such a file is opened or used."""

from __future__ import annotations

import numpy as np
import pytest
from doubles import StepTracker
from hostile import CASES, READERS, Crash, attempt, good_file, mutants
from test_widget import rows_of

from napari_siamtrack.cli import main
from napari_siamtrack.io.box_csv import BoxRow, read_csv
from napari_siamtrack.io.sources import open_frames
from napari_siamtrack.io.video_array import VideoArray
from napari_siamtrack.ui.layer_boxes import layer_kwargs
from napari_siamtrack.ui.widget import PropagateWidget

ROWS = [BoxRow(0, 1, 10.0, 5.0, 8.0, 6.0, 1.0, "manual", True)]
ROWS += [BoxRow(f, 1, 10.0 + f, 5.0, 8.0, 6.0, 0.8, "tracked", False) for f in range(1, 6)]


def by_name(reader, name):
    (case,) = [c for c in CASES if c.reader == reader and c.name == name]
    return case


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.reader}: {c.name}")
def test_named_case_is_read_or_refused_in_one_line(case, tmp_path):
    path = case.make(tmp_path)
    message = attempt(case.reader, path)
    if case.readable:
        assert message is None
    else:
        assert message is not None and path.name in message


@pytest.mark.parametrize("reader", READERS)
def test_damaged_copies_are_read_or_refused_never_crash(reader, tmp_path):
    good = good_file(reader, tmp_path)
    path = tmp_path / f"damaged{good.suffix}"
    for data in mutants(good.read_bytes(), 25, seed=7):
        path.write_bytes(data)
        attempt(reader, path, exact=False)  # raises Crash


@pytest.mark.parametrize(
    ("reader", "indices"),
    # the copies benchmarks/fuzz.py (seed 0) found crashing: pages claiming 95 GiB, a series of shape (),
    # a page of another shape; and damaged videos, which a decoder conceals differently after a seek
    [("TIFF stack", [24, 82, 387, 395]), ("video", [70, 156, 410])],
)
def test_damaged_copies_that_once_crashed(reader, indices, tmp_path):
    good = good_file(reader, tmp_path)
    copies = list(mutants(good.read_bytes(), max(indices) + 1, seed=0))
    for index in indices:
        path = tmp_path / f"damaged-{index}{good.suffix}"
        path.write_bytes(copies[index])
        attempt(reader, path, exact=False)


def test_a_crash_is_told_apart_from_a_clear_error(tmp_path, monkeypatch):
    path = tmp_path / "x.boxes.csv"
    path.write_text("frame\n")
    assert attempt("boxes CSV", path).endswith(
        "header lacks column(s) track_id, x, y, w, h, score, source, keyframe"
    )
    monkeypatch.setattr("napari_siamtrack.io.box_csv.read_csv", lambda p: 1 / 0)
    with pytest.raises(Crash, match="ZeroDivisionError"):
        attempt("boxes CSV", path)


def test_rotated_videos_are_turned_as_players_show_them(tmp_path):
    mark = {}  # where the bright top-left mark of the stored frames ends up
    turned = [("rotated 90 (phone)", (64, 48)), ("rotated 270", (64, 48)), ("rotated 180", (48, 64))]
    for name, shape in turned:
        with open_frames(by_name("video", name).make(tmp_path)) as source:
            frame = source[0]
            assert source.frame_shape == (*shape, 3) and frame.shape == (*shape, 3)
            corners = {"top left": frame[:4, :4], "top right": frame[:4, -4:],
                       "bottom left": frame[-4:, :4], "bottom right": frame[-4:, -4:]}
            mark[name] = max(corners, key=lambda k: corners[k].mean())
    assert mark == {
        "rotated 90 (phone)": "top right", "rotated 270": "bottom left", "rotated 180": "bottom right"
    }


def test_variable_frame_rate_frames_come_in_order_by_index(tmp_path):
    with open_frames(by_name("video", "variable frame rate").make(tmp_path)) as source:
        assert len(source) == 16
        positions = [int(np.argmax(source[i][20, :, 0] > 100)) for i in (15, 3, 9, 0, 14)]
    assert positions == [30, 6, 18, 0, 28]  # the square moves 2 px a frame


def test_a_damaged_video_shows_its_missing_frames_black_with_one_warning(tmp_path):
    path = by_name("video", "last bytes missing, index at the front").make(tmp_path)
    video = VideoArray(open_frames(path))
    assert video[0].max() == 255
    with pytest.warns(UserWarning, match="cannot decode frame .* shown black") as caught:
        late = [video[i] for i in range(len(video) - 3, len(video))]
    assert len(caught) == 1 and all(frame.max() == 0 for frame in late)


@pytest.fixture
def viewer_with_boxes(make_napari_viewer_proxy):
    viewer = make_napari_viewer_proxy()
    viewer.add_image(np.zeros((6, 48, 64), np.uint8), name="video")
    kwargs = layer_kwargs(ROWS, name="boxes")
    viewer.add_shapes(kwargs.pop("data"), **kwargs)
    return viewer


def assert_boxes_kept(viewer):
    layer = viewer.layers["boxes"]
    assert layer.nshapes == len(ROWS)
    for vertices, expected in zip(layer.data, layer_kwargs(ROWS)["data"]):
        np.testing.assert_allclose(vertices, expected)
    assert layer.features.equals(layer_kwargs(ROWS)["features"])


#: Damaged past its first frame: napari shows it, the frames it cannot decode black (tested above).
OPENS_DAMAGED = {"last bytes missing, index at the front"}


def test_opening_hostile_files_in_napari_loses_nothing(viewer_with_boxes, tmp_path):
    viewer = viewer_with_boxes
    for case in [c for c in CASES if c.reader in ("boxes CSV", "video")]:
        folder = tmp_path / str(CASES.index(case))
        folder.mkdir()
        path = case.make(folder)
        opens = case.readable or case.name in OPENS_DAMAGED
        try:
            added = viewer.open(str(path), plugin="napari-siamtrack")
        except ValueError as exc:  # napari's ReaderPluginError, with ours inside
            original = exc.original_error if hasattr(exc, "original_error") else exc
            assert not opens, f"{case.name}: {original}"
            assert isinstance(original, ValueError) and "\n" not in str(original), case.name
        else:
            assert opens and len(added) == 1, case.name
            viewer.layers.remove(added[0])
        assert [layer.name for layer in viewer.layers] == ["video", "boxes"], case.name
        assert_boxes_kept(viewer)


BAD_WEIGHTS = ["safetensors truncated in the data", "wrong shape", "torch file running code"]


@pytest.mark.parametrize("name", BAD_WEIGHTS)
def test_bad_weights_stop_the_propagation_in_one_line_and_keep_the_boxes(
    viewer_with_boxes, qtbot, tmp_path, monkeypatch, name
):
    from napari_siamtrack.tracking.tracker import Tracker

    errors = []
    monkeypatch.setattr("napari_siamtrack.ui.widget.show_error", errors.append)
    path = by_name("weights", name).make(tmp_path)
    widget = PropagateWidget(viewer_with_boxes, tracker_factory=lambda: Tracker(weights=path, device="cpu"))
    viewer_with_boxes.dims.set_current_step(0, 0)
    widget.propagate()
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)
    assert len(errors) == 1 and errors[0].startswith("propagation failed: ") and "\n" not in errors[0]
    assert str(path) in errors[0]
    assert_boxes_kept(viewer_with_boxes)


def test_propagating_over_a_damaged_video_stops_at_the_damage_and_keeps_what_it_tracked(
    make_napari_viewer_proxy, qtbot, tmp_path, monkeypatch
):
    errors = []
    monkeypatch.setattr("napari_siamtrack.ui.widget.show_error", errors.append)
    path = by_name("video", "last bytes missing, index at the front").make(tmp_path)
    viewer = make_napari_viewer_proxy()
    viewer.open(str(path), plugin="napari-siamtrack")
    widget = PropagateWidget(viewer, tracker_factory=lambda: StepTracker())
    widget.add_boxes_layer().add_rectangles(layer_kwargs(ROWS[:1])["data"])
    viewer.dims.set_current_step(0, 0)
    widget.propagate()
    qtbot.waitUntil(lambda: widget.worker is None, timeout=30_000)
    assert len(errors) == 1 and "cannot decode frame 9" in errors[0] and "\n" not in errors[0]
    assert sorted(f for _, f in rows_of(widget)) == list(range(9))


def test_tracking_a_damaged_video_on_the_command_line_writes_what_it_tracked(tmp_path, capsys):
    import torch

    from napari_siamtrack.tracking.model import SiamFCPlus
    from napari_siamtrack.tracking.weights import save_weights

    torch.manual_seed(0)
    weights = save_weights(SiamFCPlus(), tmp_path / "untrained.safetensors")
    path = by_name("video", "last bytes missing, index at the front").make(tmp_path)
    out = tmp_path / "boxes.csv"
    code = main(["track", str(path), "--box", "10,10,12,12", "--out", str(out), "--weights", str(weights),
                 "--device", "cpu"])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2 and err.startswith("siamtrack track: error: ") and "cannot decode frame 9" in err
    assert [r.frame for r in read_csv(out)] == list(range(9))

