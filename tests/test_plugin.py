"""The installed package as napari sees it: entry point, manifest, contributions."""

from __future__ import annotations

import shutil
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path


def test_napari_finds_the_manifest_entry_point():
    (entry,) = [e for e in entry_points(group="napari.manifest") if e.name == "napari-siamtrack"]
    assert entry.value == "napari_siamtrack:napari.yaml"


def test_npe2_validate_passes():
    npe2 = shutil.which("npe2", path=str(Path(sys.executable).parent))
    assert npe2, "npe2 is not installed next to this Python"
    result = subprocess.run([npe2, "validate", "napari-siamtrack"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid" in result.stdout


def test_sample_data_matches_the_ground_truth_generator():
    from napari_siamtrack.io.sample import make_sample
    from napari_siamtrack.ui.napari_contrib import make_sample_data

    (data, meta, kind), (boxes, box_meta, box_kind) = make_sample_data()
    sample = make_sample()
    assert kind == "image" and meta["rgb"]
    assert data.shape == (60, 240, 320, 3) and data.dtype.name == "uint8"
    assert (data == sample.frames).all()
    assert box_kind == "shapes" and len(boxes) == 1 and box_meta["features"]["keyframe"].tolist() == [True]
    (vertices,) = boxes
    x, y, w, h = sample.boxes[0]
    assert vertices.tolist() == [[0, y, x], [0, y, x + w], [0, y + h, x + w], [0, y + h, x]]


def test_sample_opens_in_a_viewer(make_napari_viewer_proxy):
    viewer = make_napari_viewer_proxy()
    viewer.open_sample("napari-siamtrack", "sample")
    video, boxes = viewer.layers
    assert video.data.shape == (60, 240, 320, 3)
    assert boxes.nshapes == 1 and boxes.ndim == 3
