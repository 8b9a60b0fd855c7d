"""The recovery store and ``siamtrack recover``, without napari."""

from __future__ import annotations

import os
import time

import pytest

from napari_siamtrack.cli import main
from napari_siamtrack.io.box_csv import BoxRow, write_csv
from napari_siamtrack.io.recovery import KEEP, RecoveryError, RecoveryStore, VideoStamp, recovery_root

ROWS = [
    BoxRow(0, 1, 10.0, 5.0, 8.0, 6.0, 1.0, "manual", True),
    BoxRow(1, 1, 11.125, 5.5, 8.25, 6.0, 0.75, "tracked", False),
]


@pytest.fixture
def video(tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"not decoded here")
    return path


def test_root_comes_from_the_environment(recovery_dir):
    assert recovery_root() == recovery_dir
    assert RecoveryStore().root == recovery_dir


def test_sessions_never_share_a_file_and_the_newest_is_recovered(video):
    store = RecoveryStore()
    stamp = VideoStamp.of(video)
    first, second = store.new_entry(stamp, "boxes"), store.new_entry(stamp, "boxes")
    assert first != second and first.parent == second.parent
    store.save(first, ROWS)
    time.sleep(0.01)
    store.save(second, ROWS[:1])
    assert [(e.path, e.layer, e.boxes) for e in store.entries(stamp)] == [
        (second, "boxes", 1),
        (first, "boxes", 2),
    ]
    entry, rows = store.latest(video)
    assert entry.path == second and rows == ROWS[:1]
    assert "layer 'boxes', 1 boxes, saved 20" in entry.describe()


def test_layer_names_of_any_text_survive_the_file_name(video):
    store = RecoveryStore()
    name = "cells / día 3: \"tracked\" ~ 50% *"
    store.save(store.new_entry(VideoStamp.of(video), name), ROWS)
    entry, _ = store.latest(video, layer=name)
    assert entry.layer == name


def test_an_edited_video_is_not_offered_the_old_boxes(video):
    store = RecoveryStore()
    store.save(store.new_entry(VideoStamp.of(video), "boxes"), ROWS)
    video.write_bytes(b"re-encoded, another size")
    assert store.entries(VideoStamp.of(video)) == []
    with pytest.raises(RecoveryError, match="boxes saved before the file last changed are in"):
        store.latest(video)


def test_empty_saves_are_not_recovered(video):
    store = RecoveryStore()
    store.save(store.new_entry(VideoStamp.of(video), "boxes"), [])
    with pytest.raises(RecoveryError, match="no saved boxes for"):
        store.latest(video)


def test_only_old_files_beyond_the_newest_are_pruned(video):
    store = RecoveryStore()
    stamp = VideoStamp.of(video)
    paths = [store.new_entry(stamp, f"layer {i}") for i in range(KEEP + 3)]
    old = time.time() - 40 * 86400
    for i, path in enumerate(paths):
        store.save(path, ROWS)
        os.utime(path, (old + i, old + i))  # all older than the cut-off, path 0 the oldest
    os.utime(paths[-1], None)  # one recent
    store.new_entry(stamp, "next")
    left = {e.path for e in store.entries(stamp)}
    assert left == set(paths[3:])


def test_recover_writes_the_latest_boxes_byte_for_byte(video, tmp_path, capsys):
    store = RecoveryStore()
    entry = store.new_entry(VideoStamp.of(video), "boxes")
    store.save(entry, ROWS)
    out = tmp_path / "rescued.boxes.csv"
    assert main(["recover", str(video), "--out", str(out)]) == 0
    assert out.read_bytes() == entry.read_bytes() == write_csv(tmp_path / "export.csv", ROWS).read_bytes()
    assert "wrote 2 boxes" in capsys.readouterr().out


def test_recover_without_saved_boxes_says_so_in_one_line(video, tmp_path, capsys):
    code = main(["recover", str(video), "--out", str(tmp_path / "x.csv")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "no saved boxes for" in err
    assert not (tmp_path / "x.csv").exists()
    assert main(["recover", str(tmp_path / "missing.mp4"), "--out", str(tmp_path / "x.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
