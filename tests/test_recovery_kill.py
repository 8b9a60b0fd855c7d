"""napari killed with SIGKILL in the middle of a propagation loses at most the last few seconds: every
box that existed 5 s before the kill comes back from ``siamtrack recover``, byte for byte as exported."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from napari_siamtrack.io.box_csv import read_csv, write_csv
from napari_siamtrack.io.sample import make_sample, write_video

CHILD = Path(__file__).with_name("recovery_child.py")
#: The kill comes this many seconds after the layer first held :data:`BOXES` boxes, so that the boxes
#: of 5 s before it are more than the one drawn; the propagation may take START_TIMEOUT s to get there
#: (napari, torch and the weights load first).
AFTER, BOXES, START_TIMEOUT = 6.0, 20, 300.0


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_boxes_survive_sigkill_mid_propagation(tmp_path):
    sample = make_sample(n_frames=400)
    video = tmp_path / "sample.mp4"
    write_video(video, sample.frames)
    exports = tmp_path / "exports"
    exports.mkdir()
    box = ",".join(f"{v:g}" for v in sample.boxes[0])
    env = {**os.environ, "NAPARI_CONFIG": str(tmp_path / "napari-settings.yaml")}
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(video), box, str(exports)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
    )
    try:
        enough, launched, done, total = None, time.time(), 0, 1
        for line in child.stdout:  # "frames done/total boxes n" every 0.5 s, among napari's messages
            if not line.startswith("frames "):
                continue
            _, progress, _, boxes = line.split()
            done, total = map(int, progress.split("/"))
            if enough is None and int(boxes) >= BOXES:
                enough = time.time()
            if (enough or launched + START_TIMEOUT) + AFTER <= time.time():
                break
        assert enough is not None and done < total, f"not killed mid-propagation ({done}/{total} frames)"
        child.send_signal(signal.SIGKILL)
        killed = time.time()
        child.wait(timeout=30)
    finally:
        child.kill()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL

    recovered = tmp_path / "recovered.boxes.csv"
    recover = subprocess.run(
        [sys.executable, "-m", "napari_siamtrack.cli", "recover", str(video), "--out", str(recovered)],
        capture_output=True, text=True, env=env, check=False,
    )
    assert recover.returncode == 0, recover.stderr
    earlier = max((p for p in exports.iterdir() if float(p.name[:-10]) <= killed - 5.0),
                  key=lambda p: float(p.name[:-10]))
    earlier_lines = earlier.read_bytes().splitlines()
    recovered_lines = set(recovered.read_bytes().splitlines())
    assert len(earlier_lines) > BOXES
    assert [line for line in earlier_lines if line not in recovered_lines] == []
    rows = read_csv(recovered)
    assert write_csv(tmp_path / "again.csv", rows).read_bytes() == recovered.read_bytes()
    assert len(rows) >= len(earlier_lines) - 1
