from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest

from napari_siamtrack.io import box_csv
from napari_siamtrack.io.box_csv import COLUMNS, BoxCsvError, BoxRow, read_csv, write_csv

HEADER = ",".join(COLUMNS)


def box(frame: int = 0, track_id: int = 1, **changes: object) -> BoxRow:
    fields = {"x": 1.5, "y": 2.0, "w": 10.0, "h": 20.0, "score": 1.0, "source": "manual", "keyframe": True}
    fields.update(changes)
    return BoxRow(frame=frame, track_id=track_id, **fields)


def write_text(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_round_trip_is_exact_for_awkward_floats(tmp_path: Path) -> None:
    awkward = [0.1 + 0.2, 1e-7, 12345.678901234, 1 / 3, 5e-324, 9999999.999999998, -0.5, 2.0**-30, 1234567.89]
    rng = np.random.default_rng(0)
    rows = [
        box(frame=i, x=v, y=-v, w=abs(v) or 1.0, h=float(rng.uniform(0.1, 500)), score=float(rng.uniform()))
        for i, v in enumerate(awkward)
    ]
    rows.append(box(frame=len(rows), score=0.0, source="tracked", keyframe=False))
    path = write_csv(tmp_path / "boxes.csv", rows)
    assert path == tmp_path / "boxes.csv"
    assert read_csv(path) == rows


def test_rows_are_sorted_by_track_then_frame(tmp_path: Path) -> None:
    rows = [box(5, 2), box(3, 1), box(0, 2), box(10, 1), box(2, 3)]
    back = read_csv(write_csv(tmp_path / "b.csv", rows))
    assert [(r.track_id, r.frame) for r in back] == [(1, 3), (1, 10), (2, 0), (2, 5), (3, 2)]


def test_written_text_format(tmp_path: Path) -> None:
    row = box(3, 2, x=0.1 + 0.2, w=np.float32(4.0), source="tracked", keyframe=False)
    path = write_csv(tmp_path / "b.csv", [row])
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines == [HEADER, "3,2,0.30000000000000004,2.0,4.0,20.0,1.0,tracked,false,false,"]


def test_numpy_scalars_are_written_as_plain_numbers(tmp_path: Path) -> None:
    row = box(np.int64(4), np.int32(7), x=np.float32(0.1), y=np.float64(2.5), keyframe=np.bool_(True))
    (back,) = read_csv(write_csv(tmp_path / "b.csv", [row]))
    assert (back.frame, back.track_id, back.y, back.keyframe) == (4, 7, 2.5, True)
    assert back.x == float(np.float32(0.1))
    assert type(back.frame) is int and type(back.x) is float


def test_reader_accepts_boolean_spellings_extra_columns_and_any_column_order(tmp_path: Path) -> None:
    path = write_text(
        tmp_path / "b.csv",
        "note,keyframe,source,score,h,w,y,x,track_id,frame",
        "a,TRUE,manual,1,20,10,2,1.5,1,0",
        "b,0,tracked,0.5,20,10,2,1.5,1,1",
        "",
        "c,1,tracked,0.5,20,10,2,1.5,1,2",
        "d,False,tracked,0.5,20,10,2,1.5,1,3",
    )
    assert [r.keyframe for r in read_csv(path)] == [True, False, True, False]


def test_reader_accepts_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    path.write_bytes(("\ufeff" + HEADER + "\n0,1,1.5,2.0,10,20,1,manual,true,false,\n").encode("utf-8"))
    assert read_csv(path) == [box()]


def test_header_only_file_has_no_rows(tmp_path: Path) -> None:
    assert read_csv(write_text(tmp_path / "b.csv", HEADER)) == []
    assert read_csv(write_csv(tmp_path / "c.csv", [])) == []


def test_atomic_write_keeps_original_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_csv(tmp_path / "b.csv", [box()])
    original = path.read_bytes()
    calls = []

    def fail_on_second_row(row: BoxRow) -> list[str]:
        calls.append(row)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return [str(v) for v in vars(row).values()]

    monkeypatch.setattr(box_csv, "_format_row", fail_on_second_row)
    with pytest.raises(RuntimeError, match="disk full"):
        write_csv(path, [box(0), box(1), box(2)])
    assert len(calls) == 2
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == ["b.csv"]


def test_atomic_write_cleans_up_when_rename_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_csv(tmp_path / "b.csv", [box()])
    original = path.read_bytes()

    def broken_replace(src: object, dst: object) -> None:
        raise OSError("rename failed")

    monkeypatch.setattr(box_csv.os, "replace", broken_replace)
    with pytest.raises(OSError, match="rename failed"):
        write_csv(path, [box(7)])
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == ["b.csv"]


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (box(frame=-1), "frame must be >= 0"),
        (box(track_id=0), "track_id must be >= 1"),
        (box(frame=1.0), "frame must be an integer"),
        (box(w=0.0), "w and h must be > 0"),
        (box(h=-1.0), "w and h must be > 0"),
        (box(x=math.nan), "x must be a finite number"),
        (box(score=1.5), r"score must be in \[0, 1\]"),
        (box(source="auto"), "source must be one of manual, tracked"),
    ],
)
def test_write_rejects_invalid_rows(tmp_path: Path, row: BoxRow, problem: str) -> None:
    with pytest.raises(BoxCsvError, match=problem):
        write_csv(tmp_path / "b.csv", [row])
    assert os.listdir(tmp_path) == []


def test_write_rejects_duplicate_boxes(tmp_path: Path) -> None:
    with pytest.raises(BoxCsvError, match="duplicate box for frame 3, track_id 2"):
        write_csv(tmp_path / "b.csv", [box(3, 2), box(4, 2), box(3, 2, x=9.0)])


GOOD = "0,1,1.5,2.0,10,20,1,manual,true,false,"


@pytest.mark.parametrize(
    ("lines", "line", "problem"),
    [
        ([HEADER.replace(",keyframe", ""), "0,1,1,2,3,4,1,manual,false,"], 1, "header lacks column.s. keyframe"),
        (["frame,x,y,w,h,score,source,keyframe,x"], 1, "header lacks column.s. track_id"),
        ([HEADER + ",x"], 1, "header repeats column.s. x"),
        ([HEADER, GOOD, "one,1,1.5,2.0,10,20,1,manual,true,false,"], 3, "frame must be an integer, got 'one'"),
        ([HEADER, "1.0,1,1.5,2.0,10,20,1,manual,true,false,"], 2, "frame must be an integer, got '1.0'"),
        ([HEADER, "0,1,abc,2.0,10,20,1,manual,true,false,"], 2, "x must be a number, got 'abc'"),
        ([HEADER, "0,1,1.5,,10,20,1,manual,true,false,"], 2, "y must be a number, got ''"),
        ([HEADER, "0,1,1.5,2.0,10,20,nan,manual,true,false,"], 2, "score must be a finite number"),
        ([HEADER, GOOD, "", "-1,1,1.5,2.0,10,20,1,manual,true,false,"], 4, "frame must be >= 0, got -1"),
        ([HEADER, "0,0,1.5,2.0,10,20,1,manual,true,false,"], 2, "track_id must be >= 1, got 0"),
        ([HEADER, "0,1,1.5,2.0,0,20,1,manual,true,false,"], 2, "w and h must be > 0"),
        ([HEADER, "0,1,1.5,2.0,10,-2,1,manual,true,false,"], 2, "w and h must be > 0"),
        ([HEADER, "0,1,1.5,2.0,10,20,1.01,tracked,true,false,"], 2, r"score must be in \[0, 1\]"),
        ([HEADER, "0,1,1.5,2.0,10,20,1,auto,true,false,"], 2, "source must be one of manual, tracked, got 'auto'"),
        ([HEADER, "0,1,1.5,2.0,10,20,1,manual,yes,false,"], 2, "keyframe must be true/false/1/0, got 'yes'"),
        ([HEADER, "0,1,1.5,2.0,10,20,1,manual,true"], 2, "expected 11 fields, got 9"),
        ([HEADER, GOOD + ",extra"], 2, "expected 11 fields, got 12"),
        ([HEADER, "0,1,1.5,2.0,10,20,1,manual,true,no,"], 2, "outside must be true/false/1/0, got 'no'"),
        ([HEADER, GOOD + '"car\tdog"'], 2, "label must be printable text on one line"),
        ([HEADER, GOOD, "1,1,0,0,5,5,1,manual,true,false,", GOOD], 4, r"duplicate box .* 1 \(first on line 2\)"),
    ],
)
def test_reader_errors_name_file_line_and_problem(
    tmp_path: Path, lines: list[str], line: int, problem: str
) -> None:
    path = write_text(tmp_path / "bad.csv", *lines)
    with pytest.raises(BoxCsvError, match=f"bad.csv, line {line}: {problem}") as info:
        read_csv(path)
    assert str(path) in str(info.value)


def test_reader_rejects_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(BoxCsvError, match="empty.csv, line 1: missing header line"):
        read_csv(path)


def test_label_and_outside_round_trip(tmp_path: Path) -> None:
    rows = [
        box(0, label="mouse"),
        box(1, label='red car, "left"', outside=True),
        box(2, 2, label="Zelle α", source="tracked", keyframe=False, score=0.5),
        box(3, 3),
    ]
    path = write_csv(tmp_path / "b.csv", rows)
    assert read_csv(path) == rows
    line = path.read_text(encoding="utf-8").splitlines()[2]
    assert line == '1,1,1.5,2.0,10.0,20.0,1.0,manual,true,true,"red car, ""left"""'


def test_files_without_outside_and_label_columns_still_read(tmp_path: Path) -> None:
    old = ",".join(COLUMNS[:9])
    path = write_text(tmp_path / "old.csv", old, "0,1,1.5,2.0,10,20,1,manual,true")
    (row,) = read_csv(path)
    assert row == box() and row.outside is False and row.label == ""
    labelled = write_text(tmp_path / "l.csv", old + ",label", "0,1,1.5,2.0,10,20,1,manual,true, cat ")
    assert read_csv(labelled) == [box(label="cat")]


@pytest.mark.parametrize(
    ("label", "problem"),
    [
        ("a\nb", "printable text on one line"),
        (" cat", "must not start or end with a space"),
        (3, "must be text"),
    ],
)
def test_write_rejects_bad_labels(tmp_path: Path, label: object, problem: str) -> None:
    with pytest.raises(BoxCsvError, match=problem):
        write_csv(tmp_path / "b.csv", [box(label=label)])
