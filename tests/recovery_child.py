"""Run by ``test_recovery_kill.py`` in a process of its own, to be killed: napari opens the video, a box
is drawn on frame 0 through the Propagate widget, and the shipped tracker propagates it to the end.
Meanwhile every 0.5 s the boxes layer is exported to ``EXPORTS/<time.time()>.boxes.csv``, and a line
``frames <done>/<total> boxes <in the layer>`` is printed.

Arguments: VIDEO X,Y,W,H EXPORTS"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import napari
import numpy as np
from qtpy.QtCore import QTimer

video, box, exports = sys.argv[1], [float(v) for v in sys.argv[2].split(",")], Path(sys.argv[3])
viewer = napari.Viewer(show=False)
viewer.open(video, plugin="napari-siamtrack")
_, widget = viewer.window.add_plugin_dock_widget("napari-siamtrack", "Propagate boxes")
viewer.dims.set_current_step(0, 0)
layer = widget.add_boxes_layer()
x, y, w, h = box
layer.add_rectangles(np.array([[0, y, x], [0, y, x + w], [0, y + h, x + w], [0, y + h, x]], float))
widget.propagate()


def export() -> None:
    widget.export(exports / f"{time.time():.3f}.boxes.csv")
    print(f"frames {widget.progress.value}/{widget.progress.max} boxes {layer.nshapes}", flush=True)


timer = QTimer()
timer.timeout.connect(export)
timer.start(500)
napari.run()
