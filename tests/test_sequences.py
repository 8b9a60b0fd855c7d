"""Reading tracking sequences in the OTB, GOT-10k and VOT layouts."""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np
import pytest

from napari_siamtrack.io.sequences import SequenceError, find_sequences, load_sequence, read_groundtruth


def _frames(folder, n: int, grey: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    shape = (12, 16) if grey else (12, 16, 3)
    for i in range(n):
        iio.imwrite(folder / f"{i + 1:04d}.png", np.full(shape, 10 * i, np.uint8))


def _otb(folder, n: int, lines: list[str], newline: str = "\n"):
    _frames(folder / "img", n)
    (folder / "groundtruth_rect.txt").write_bytes(newline.join(lines).encode() + newline.encode())
    return folder


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("sep", [",", "\t", " "])
def test_otb_boxes_become_zero_based(tmp_path, sep, newline):
    lines = [sep.join(["11", "21", "5", "6"]), sep.join(["12.5", "22", "5", "6"])]
    seq = load_sequence(_otb(tmp_path / "Car", 2, lines, newline))
    assert seq.name == "Car"
    assert [p.name for p in seq.frames] == ["0001.png", "0002.png"]
    np.testing.assert_array_equal(seq.boxes, [[10, 20, 5, 6], [11.5, 21, 5, 6]])
    np.testing.assert_array_equal(seq.frame_numbers, [0, 1])


def test_frames_past_the_last_line_have_no_box(tmp_path):
    seq = load_sequence(_otb(tmp_path / "s", 4, ["1,1,5,5", "2,2,5,5"]))
    assert len(seq) == 4
    np.testing.assert_array_equal(seq.boxes[:2], [[0, 0, 5, 5], [1, 1, 5, 5]])
    assert np.isnan(seq.boxes[2:]).all()
    np.testing.assert_array_equal(seq.valid, [True, True, False, False])


def test_zero_size_and_nan_boxes_are_invalid(tmp_path):
    lines = ["1,1,0,5", "1,1,5,0", "NaN,NaN,NaN,NaN", "1,1,5,5"]
    seq = load_sequence(_otb(tmp_path / "s", 4, lines))
    np.testing.assert_array_equal(seq.valid, [False, False, False, True])
    assert np.isnan(seq.boxes[:3]).all()


def test_got10k_layout_is_zero_based(tmp_path):
    folder = tmp_path / "GOT-10k_Train_000001"
    _frames(folder, 3)
    (folder / "groundtruth.txt").write_text("10,20,5,6\n11,21,5,6\n12,22,5,6\n")
    seq = load_sequence(folder)
    assert len(seq) == 3
    np.testing.assert_array_equal(seq.boxes[0], [10, 20, 5, 6])


@pytest.mark.parametrize("frame_dir", ["color", "img", "."])
def test_vot_polygon_becomes_its_bounding_box(tmp_path, frame_dir):
    folder = tmp_path / "ball"
    _frames(folder / frame_dir, 2)
    # A rotated rectangle and an axis-aligned one, as 8-value polygons.
    (folder / "groundtruth.txt").write_text("5,1,9,5,5,9,1,5\n2,3,12,3,12,7,2,7\n")
    seq = load_sequence(folder)
    np.testing.assert_array_equal(seq.boxes, [[1, 1, 8, 8], [2, 3, 10, 4]])


def test_frames_txt_gives_the_original_frame_numbers(tmp_path):
    folder = _otb(tmp_path / "s", 3, ["1,1,5,5"] * 3)
    (folder / "frames.txt").write_text("0\n5\n10\n")
    np.testing.assert_array_equal(load_sequence(folder).frame_numbers, [0, 5, 10])


def test_frames_txt_must_match_the_frames(tmp_path):
    folder = _otb(tmp_path / "s", 3, ["1,1,5,5"] * 3)
    (folder / "frames.txt").write_text("0\n5\n")
    with pytest.raises(SequenceError, match="2 lines for 3 frames"):
        load_sequence(folder)


def test_folder_without_groundtruth_is_an_error(tmp_path):
    _frames(tmp_path / "s" / "img", 2)
    with pytest.raises(SequenceError, match="no groundtruth_rect.txt or groundtruth.txt"):
        load_sequence(tmp_path / "s")


def test_more_boxes_than_frames_is_an_error(tmp_path):
    with pytest.raises(SequenceError, match="3 boxes but .* only 2 frames"):
        load_sequence(_otb(tmp_path / "s", 2, ["1,1,5,5"] * 3))


def test_folder_without_frames_is_an_error(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "groundtruth.txt").write_text("1,1,5,5\n")
    with pytest.raises(SequenceError, match="no image frames"):
        load_sequence(folder)


@pytest.mark.parametrize(
    "line, message",
    [("1,2,x,4", "line 2: not numbers"), ("1,2,3,4,5", "line 2: expected 4 values")],
)
def test_bad_line_is_an_error_naming_it(tmp_path, line, message):
    path = tmp_path / "groundtruth.txt"
    path.write_text(f"1,2,3,4\n{line}\n")
    with pytest.raises(SequenceError, match=message):
        read_groundtruth(path, one_based=False)


def test_find_sequences_in_a_root_of_several_and_in_one_sequence(tmp_path):
    for name in ("b", "a"):
        _otb(tmp_path / "root" / name, 2, ["1,1,5,5"] * 2)
    (tmp_path / "root" / "notes").mkdir()  # no ground truth: not a sequence
    assert [s.name for s in find_sequences(tmp_path / "root")] == ["a", "b"]
    assert [s.name for s in find_sequences(tmp_path / "root" / "b")] == ["b"]


def test_find_sequences_reports_an_empty_root(tmp_path):
    with pytest.raises(SequenceError, match="no sequences"):
        find_sequences(tmp_path)
    with pytest.raises(SequenceError, match="not a folder"):
        find_sequences(tmp_path / "missing")


def test_greyscale_frames_are_read_as_three_channels(tmp_path):
    folder = tmp_path / "s"
    _frames(folder / "img", 2, grey=True)
    (folder / "groundtruth_rect.txt").write_text("1,1,5,5\n1,1,5,5\n")
    frame = load_sequence(folder).read(1)
    assert frame.shape == (12, 16, 3) and frame.dtype == np.uint8
    assert (frame == 10).all()
