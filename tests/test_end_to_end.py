"""The real tracker with the shipped weights on a real sequence (skipped without weights or data)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from napari_siamtrack.metrics import iou
from napari_siamtrack.weights import SHIPPED_WEIGHTS

DATA = Path(os.environ.get("SIAMTRACK_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def _otb_boxes(path: Path) -> np.ndarray:
    """OTB ground truth (1-based x, y, w, h; any delimiter) as 0-based boxes."""
    rows = [re.split(r"[,\s]+", line.strip()) for line in path.read_text().splitlines() if line.strip()]
    boxes = np.array(rows, dtype=float)
    boxes[:, :2] -= 1
    return boxes


@pytest.mark.skipif(not SHIPPED_WEIGHTS.is_file(), reason="no shipped weights yet")
@pytest.mark.skipif(not (DATA / "val" / "Crossing").is_dir(), reason="tracking data not available")
def test_shipped_weights_follow_a_real_target():
    from napari_siamtrack import Tracker

    seq = DATA / "val" / "Crossing"
    frames = sorted((seq / "img").glob("*.jpg"))[:60]
    truth = _otb_boxes(seq / "groundtruth_rect.txt")[: len(frames)]
    tracker = Tracker(device="cpu")
    tracker.init(iio.imread(frames[0]), truth[0])
    found = np.array([tracker.update(iio.imread(f))[0] for f in frames[1:]])
    ious = iou(found, truth[1:])
    assert ious.mean() > 0.5, f"mean IoU {ious.mean():.3f}"
