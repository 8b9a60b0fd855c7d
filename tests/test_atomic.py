import os
import stat

import pytest

from napari_siamtrack.io.atomic import atomic_path


def test_a_new_file_gets_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "a.txt") as tmp:
            tmp.write_text("x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644


def test_a_replaced_file_keeps_its_permissions(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")
    path.chmod(0o600)
    with atomic_path(path) as tmp:
        tmp.write_text("new")
    assert path.read_text() == "new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_litter(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["a.txt"]


def test_a_folder_write_replaces_its_files_and_leaves_others_alone(tmp_path):
    from napari_siamtrack.io.atomic import atomic_folder

    target = tmp_path / "data"
    (target / "labels").mkdir(parents=True)
    (target / "labels" / "a.txt").write_text("old")
    (target / "mine.txt").write_text("keep")
    with atomic_folder(target) as tmp:
        (tmp / "labels").mkdir()
        (tmp / "labels" / "a.txt").write_text("new")
        (tmp / "b.txt").write_text("b")
        assert not (target / "b.txt").exists()  # nothing moves before the block ends
    assert (target / "labels" / "a.txt").read_text() == "new" and (target / "b.txt").read_text() == "b"
    assert (target / "mine.txt").read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_a_failed_folder_write_changes_nothing(tmp_path):
    from napari_siamtrack.io.atomic import atomic_folder

    target = tmp_path / "data"
    target.mkdir()
    (target / "a.txt").write_text("old")
    with pytest.raises(RuntimeError), atomic_folder(target) as tmp:
        (tmp / "a.txt").write_text("new")
        raise RuntimeError("disk full")
    assert (target / "a.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
