"""The real tracker with the shipped weights on a real sequence (skipped without the data folder)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from napari_siamtrack.io.sequences import load_sequence
from napari_siamtrack.metrics import iou
from napari_siamtrack.tracking.weights import SHIPPED_WEIGHTS

DATA = Path(os.environ.get("SIAMTRACK_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def test_the_weights_ship():
    assert SHIPPED_WEIGHTS.is_file()
    assert SHIPPED_WEIGHTS.with_name("MODEL_CARD.md").is_file()


@pytest.mark.skipif(not (DATA / "val" / "Crossing").is_dir(), reason="tracking data not available")
def test_shipped_weights_follow_a_real_pedestrian():
    from napari_siamtrack import Tracker

    seq = load_sequence(DATA / "val" / "Crossing")  # 120 frames, a pedestrian crossing a street
    tracker = Tracker(device="cpu")
    tracker.init(seq.read(0), seq.boxes[0])
    found = np.array([tracker.update(seq.read(i))[0] for i in range(1, len(seq))])
    ious = iou(found, seq.boxes[1:])
    # A box of the right size placed at random in the frame overlaps the target with IoU ~0.01.
    assert ious.mean() > 0.6, f"mean IoU {ious.mean():.3f}"
    assert (ious > 0.5).mean() > 0.8, f"IoU > 0.5 on {(ious > 0.5).mean():.0%} of frames"
