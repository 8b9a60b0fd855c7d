"""Regenerate docs/screenshot.png: the sample video in napari after a propagation with the shipped weights.

Run under a display (``xvfb-run -a python docs/make_screenshot.py``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import napari
from qtpy.QtWidgets import QApplication

from napari_siamtrack.ui.widget import PropagateWidget

OUT = Path(__file__).with_name("screenshot.png")


def main() -> int:
    viewer = napari.Viewer(title="napari-siamtrack")
    viewer.window.resize(1400, 820)
    viewer.open_sample("napari-siamtrack", "sample")
    widget = PropagateWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Propagate boxes", area="right")
    viewer.dims.set_current_step(0, 0)
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
