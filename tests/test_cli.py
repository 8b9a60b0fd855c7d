"""The ``siamtrack`` command line, end to end on generated videos."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from napari_siamtrack.cli import main
from napari_siamtrack.io.box_csv import read_csv
from napari_siamtrack.io.sample import make_sample, write_video
from napari_siamtrack.tracking.model import SiamFCPlus
from napari_siamtrack.tracking.weights import save_weights


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory):
    """Untrained weights in the project's format (the CLI path is what is tested here)."""
    torch.manual_seed(0)
    return save_weights(SiamFCPlus(), tmp_path_factory.mktemp("w") / "untrained.safetensors")


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    path = tmp_path_factory.mktemp("v") / "clip.mp4"
    write_video(path, make_sample(n_frames=6, height=120, width=160).frames)
    return path


def test_track_writes_every_frame_of_every_target(video, weights_file, tmp_path):
    out = tmp_path / "boxes.csv"
    code = main(
        ["track", str(video), "--box", "40,30,30,25", "--box", "100,70,20,20", "--frame", "1",
         "--out", str(out), "--weights", str(weights_file), "--device", "cpu"]
    )
    assert code == 0
    rows = read_csv(out)
    assert [(r.track_id, r.frame) for r in rows] == [(t, f) for t in (1, 2) for f in range(1, 6)]
    first = {r.track_id: r for r in rows if r.frame == 1}
    assert (first[1].x, first[1].y, first[1].w, first[1].h) == (40.0, 30.0, 30.0, 25.0)
    assert first[1].source == "manual" and first[1].keyframe and first[1].score == 1.0
    tracked = [r for r in rows if r.frame > 1]
    assert all(r.source == "tracked" and not r.keyframe for r in tracked)
    assert all(0 <= r.x and r.x + r.w <= 160 and 0 <= r.y and r.y + r.h <= 120 for r in tracked)
    assert all(0.0 <= r.score <= 1.0 for r in tracked)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--box", "1,2,3"], "four numbers"),
        (["--box", "10,10,0,5"], "positive width"),
        (["--box", "500,500,10,10"], "outside"),
        (["--box", "10,10,10,10", "--frame", "9"], "outside 0"),
        (["--box", "10,10,10,10", "--frame", "5"], "last frame"),
        (["--box", "10,10,10,10", "--set", "speed=3"], "expected NAME=VALUE with NAME one of"),
        (["--box", "10,10,10,10", "--set", "target_model=much"], "'much' is not a valid float"),
        (["--box", "10,10,10,10", "--set", "target_model=-1"], "target_model=-1.0"),
        (["--box", "10,10,10,10", "--set", "template_from_search=maybe"], "'maybe' is not true or false"),
    ],
)
def test_track_rejects_bad_requests(video, weights_file, tmp_path, capsys, args, message):
    out = tmp_path / "boxes.csv"
    try:
        code = main(["track", str(video), "--out", str(out), "--weights", str(weights_file), *args])
    except SystemExit as exc:  # argparse rejects malformed values itself
        code = exc.code
    assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_set_changes_tracker_settings_on_top_of_the_stored_ones(video, weights_file, tmp_path):
    from napari_siamtrack.cli import _parser, _tracker

    args = _parser().parse_args(["track", str(video), "--box", "1,1,5,5", "--out", str(tmp_path / "b.csv"),
                                 "--weights", str(weights_file), "--set", "target_model=2.5",
                                 "--set", "redetect_after=4", "--set", "template_from_search=false",
                                 "--preset", "otb2015"])
    config = _tracker(args).config
    assert (config.target_model, config.redetect_after, config.scale_step) == (2.5, 4, 1.1897)
    assert config.template_from_search is False


def test_track_rejects_single_frame_and_missing_inputs(weights_file, tmp_path, capsys):
    import imageio.v3 as iio

    folder = tmp_path / "one"
    folder.mkdir()
    iio.imwrite(folder / "f0.png", np.zeros((40, 40, 3), np.uint8))
    common = ["--box", "5,5,10,10", "--out", str(tmp_path / "b.csv"), "--weights", str(weights_file)]
    assert main(["track", str(folder), *common]) == 2
    assert "at least 2" in capsys.readouterr().err
    assert main(["track", str(tmp_path / "nope.mp4"), *common]) == 2
    assert "nope.mp4" in capsys.readouterr().err


def test_track_reports_missing_weights(video, tmp_path, capsys):
    missing = tmp_path / "missing.safetensors"
    code = main(["track", str(video), "--box", "5,5,10,10", "--out", str(tmp_path / "b.csv"),
                 "--weights", str(missing)])
    assert code == 2
    assert "not found" in capsys.readouterr().err


def test_console_script_is_installed():
    result = subprocess.run(
        [sys.executable, "-m", "napari_siamtrack.cli", "track", "--help"],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0
    assert "--box" in result.stdout


def test_export_and_import_every_format(video, tmp_path, capsys):
    from napari_siamtrack.io.box_csv import BoxRow, write_csv

    rows = [
        BoxRow(f, 1, 10.0 + f, 20.5, 30.0, 25.25, 0.7, "tracked", False, label="cat") for f in range(6)
    ]
    rows[0] = BoxRow(0, 1, 10.0, 20.5, 30.0, 25.25, 1.0, "manual", True, label="cat")
    boxes = write_csv(tmp_path / "boxes.csv", rows)
    outs = {"mot": "mot", "cvat": "c.xml", "coco": "c.json", "yolo": "y"}
    outs = {name: tmp_path / out for name, out in outs.items()}
    for name, out in outs.items():
        extra = ["--frames"] if name == "yolo" else ["--all-keyframes"] if name == "cvat" else []
        args = ["export", str(boxes), "--format", name, "--out", str(out), "--video", str(video), *extra]
        assert main(args) == 0
        captured = capsys.readouterr()
        assert captured.out == f"wrote 6 boxes to {out}\n"
        assert name == "coco" or "leaves out" in captured.err
    assert len(list((tmp_path / "y" / "images").iterdir())) == 6
    for name in ("mot", "cvat", "coco"):
        back = tmp_path / f"{name}.csv"
        assert main(["import", str(outs[name]), "--format", name, "--out", str(back)]) == 0
        got = read_csv(back)
        boxes_of = lambda rows: [(r.frame, r.x, r.y, r.w, r.h, r.label) for r in rows]
        assert boxes_of(got) == boxes_of(rows)
        assert [r.keyframe for r in got] == ([True] * 6 if name != "coco" else [True] + [False] * 5)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "yolo", "--out", "y"], "YOLO needs the video's frame size and length"),
        (["--format", "mot", "--out", "m", "--frames"], "--frames is for the yolo and coco formats"),
        (["--format", "coco", "--out", "c.json", "--frames"], "--frames needs --video"),
        (["--format", "mot", "--out", "m", "--all-keyframes"], "--all-keyframes is for the cvat format"),
        (["--format", "mot", "--out", "m", "--classes", "dog"], "labels 'cat' are not in the class list"),
    ],
)
def test_export_refuses_bad_requests(tmp_path, capsys, monkeypatch, args, message):
    from napari_siamtrack.io.box_csv import BoxRow, write_csv

    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "b.csv", [BoxRow(0, 1, 1.0, 1.0, 5.0, 5.0, 1.0, "manual", True, label="cat")])
    assert main(["export", "b.csv", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.csv"]


def test_import_reports_a_hostile_file_in_one_line(tmp_path, capsys):
    (tmp_path / "bad.xml").write_text("<annotations>\n<track id='x' label='a'/>\n</annotations>")
    out = str(tmp_path / "b.csv")
    assert main(["import", str(tmp_path / "bad.xml"), "--format", "cvat", "--out", out]) == 2
    err = capsys.readouterr().err
    assert "bad.xml, line 2: id must be an integer" in err and err.count("\n") == 1
    assert not (tmp_path / "b.csv").exists()
