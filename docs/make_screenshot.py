"""Regenerate docs/screenshot.png: the sample video in napari after a propagation with the shipped weights,
with the Propagate widget on the right and the track timeline under the canvas. The cat has keyframes on
frames 0 and 50, so the gap between them is filled from both ends; a second box, on the astronaut's face,
is drawn on frame 0 too, and marked absent from the frame where the cat comes nearest to it.

Run under a display (``xvfb-run -a python docs/make_screenshot.py``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import napari
import numpy as np
from qtpy.QtWidgets import QApplication

from napari_siamtrack.io.sample import make_sample
from napari_siamtrack.ui.widget import PropagateWidget

OUT = Path(__file__).with_name("screenshot.png")


def main() -> int:
    viewer = napari.Viewer(title="napari-siamtrack")
    viewer.window.resize(1400, 900)
    viewer.open_sample("napari-siamtrack", "sample")
    widget = PropagateWidget(viewer)  # docks the track timeline under the canvas
    viewer.window.add_dock_widget(widget, name="Propagate boxes", area="right")
    widget.close_guard.enabled = False
    viewer.dims.set_current_step(0, 0)
    face = np.array([[0, 30, 115], [0, 30, 185], [0, 100, 185], [0, 100, 115]], dtype=float)
    layer = widget.boxes.value
    layer.add_rectangles(face)  # as drawn: track 2, a keyframe on frame 0
    sample = make_sample()
    x, y, w, h = sample.boxes[50]
    viewer.dims.set_current_step(0, 50)
    layer.add_rectangles(np.array([[50, y, x], [50, y, x + w], [50, y + h, x + w], [50, y + h, x]], float))
    layer.selected_data = {layer.nshapes - 1}  # drawn as a new track: make it a keyframe of the cat's
    widget.track_id.value = 1
    widget.set_track_id()
    widget.start_from.value = "all"
    widget.propagate()
    while widget.worker is not None:  # let the worker thread run; sleeping releases the GIL
        QApplication.processEvents()
        time.sleep(0.02)
    centres = sample.boxes[:, :2] + sample.boxes[:, 2:] / 2
    covered = min(range(1, 50), key=lambda f: np.hypot(*(centres[f] - (150.0, 65.0))))  # nearest the face
    viewer.dims.set_current_step(0, covered)
    layer.selected_data = set()
    on_face = [i for i in widget.binding().indices_on(covered) if layer.features["track_id"][i] == 2]
    layer.selected_data = set(on_face)
    widget.mark_absent()
    layer.selected_data = set()
    viewer.dims.set_current_step(0, 30)
    viewer.layers.selection.active = widget.boxes.value
    for _ in range(20):
        QApplication.processEvents()
    viewer.screenshot(str(OUT), canvas_only=False)
    print(f"wrote {OUT}: {widget.status.value}")
    viewer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
