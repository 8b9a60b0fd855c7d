"""What users install: the wheel (and sdist) built from this tree, installed into a fresh virtualenv,
non-editable, with no source tree on ``sys.path``. There the plugin validates, every contribution
imports, the widget docks in a real viewer, the sample opens and a short propagation with the shipped
weights exports a boxes CSV.

The fresh virtualenv borrows the wheel's dependencies (napari, torch, …) from the test environment
through a ``.pth`` line, so nothing is downloaded; the package itself comes only from the wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(*args, **kwargs):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, check=False, **kwargs)


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """The wheel and sdist, built from a copy of the tracked files (so nothing else sneaks in)."""
    tmp = tmp_path_factory.mktemp("dist")
    tracked = _run("git", "ls-files", "-z", cwd=ROOT).stdout.split("\0")
    source = tmp / "source"
    for name in filter(None, tracked):
        path = ROOT / name
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            target.symlink_to(os.readlink(path))
        elif path.is_file():
            shutil.copy2(path, target)
    result = _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", tmp / "out", source)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (wheel,) = (tmp / "out").glob("*.whl")
    (sdist,) = (tmp / "out").glob("*.tar.gz")
    return wheel, sdist


def test_twine_check_passes(dist):
    result = _run(sys.executable, "-m", "twine", "check", "--strict", *dist)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_wheel_holds_every_module_of_the_source_tree_and_the_data(dist):
    wheel, _ = dist
    names = set(zipfile.ZipFile(wheel).namelist())
    package = ROOT / "napari_siamtrack"
    modules = {p.relative_to(ROOT).as_posix() for p in package.rglob("*.py")}
    assert modules - names == set()
    data = {"napari_siamtrack/napari.yaml", "napari_siamtrack/weights/siamfc_ciresnet22.safetensors",
            "napari_siamtrack/weights/MODEL_CARD.md"}
    assert data - names == set()
    assert any(n.endswith("/licenses/LICENSE") for n in names)
    assert not any(n.startswith("tests/") for n in names)


def test_the_readme_renders_on_the_index(dist):
    """PyPI shows the README without the repository around it: images need absolute addresses."""
    _, _sdist = dist
    readme = (ROOT / "README.md").read_text()
    for line in readme.splitlines():
        if line.startswith("!["):
            assert "](https://" in line, line


@pytest.fixture(scope="module")
def fresh_python(dist, tmp_path_factory):
    """A new virtualenv with only the wheel installed in it (dependencies borrowed, see the module)."""
    wheel, _ = dist
    env = tmp_path_factory.mktemp("venv") / "fresh"
    result = _run(sys.executable, "-m", "venv", "--without-pip", env)
    assert result.returncode == 0, result.stderr
    python = env / "bin" / "python"
    result = _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", wheel)
    assert result.returncode == 0, result.stdout + result.stderr
    fresh_site = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip()
    Path(fresh_site, "borrowed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def test_the_installed_wheel_docks_the_widget_and_exports_boxes(fresh_python, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = _run(fresh_python, "-I", ROOT / "tests" / "wheel_smoke.py", tmp_path, cwd=tmp_path, env=env,
                  timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(found["installed_at"]).is_relative_to(fresh_python.parent.parent), found["installed_at"]
    assert found["validate"] == 0, found["validate_output"]
    from npe2 import PluginManifest

    commands = PluginManifest.from_file(ROOT / "napari.yaml").contributions.commands
    assert found["imported"] == [c.python_name for c in commands]
    assert found["widget"] == "PropagateWidget"
    from napari_siamtrack.io.box_csv import COLUMNS

    assert found["header"] == ",".join(COLUMNS)
    assert found["frames"] == list(range(11)), found


def test_the_installed_command_line_tracks(fresh_python, tmp_path):
    siamtrack = fresh_python.parent / "siamtrack"
    result = _run(siamtrack, "demo", "--out", tmp_path / "demo", cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert (tmp_path / "demo" / "boxes.csv").is_file()
