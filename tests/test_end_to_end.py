"""The real tracker with the shipped weights on a real sequence (skipped without weights or data)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from napari_siamtrack.weights import SHIPPED_WEIGHTS

DATA = Path(os.environ.get("SIAMTRACK_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def _otb_boxes(path: Path) -> np.ndarray:
    """OTB ground truth (1-based x, y, w, h; any delimiter) as 0-based boxes."""
    rows = [re.split(r"[,\s]+", line.strip()) for line in path.read_text().splitlines() if line.strip()]
    boxes = np.array(rows, dtype=float)
    boxes[:, :2] -= 1
    return boxes


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    x0, y0 = np.maximum(a[:, 0], b[:, 0]), np.maximum(a[:, 1], b[:, 1])
    x1 = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2])
    y1 = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    return inter / (a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter)


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
    ious = _iou(found, truth[1:])
    assert ious.mean() > 0.5, f"mean IoU {ious.mean():.3f}"
