"""Regenerate docs/screenshot.png: the sample video in napari after a propagation with the shipped weights,
with the Propagate widget on the right and the track timeline under the canvas. A second box, on the
astronaut's face, is drawn on frame 0 too: the cat passes over it, and the timeline shows where.

Run under a display (``xvfb-run -a python docs/make_screenshot.py``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import napari
import numpy as np
from qtpy.QtWidgets import QApplication

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
    widget.boxes.value.add_rectangles(face)  # as drawn: track 2, a keyframe on frame 0
    widget.propagate()
    while widget.worker is not None:  # let the worker thread run; sleeping releases the GIL
        QApplication.processEvents()
        time.sleep(0.02)
    viewer.dims.set_current_step(0, 41)
    viewer.layers.selection.active = widget.boxes.value
    for _ in range(20):
        QApplication.processEvents()
    viewer.screenshot(str(OUT), canvas_only=False)
    print(f"wrote {OUT}: {widget.status.value}")
    viewer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
