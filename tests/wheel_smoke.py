"""Run by ``test_installed_wheel.py`` with the Python of a fresh virtualenv that holds only the built
wheel: what a user who installed the plugin gets, with no source tree on ``sys.path``.

Argument: a folder to write the exported boxes CSV into. Prints one JSON line of findings."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

out = Path(sys.argv[1])
import napari_siamtrack

installed_at = str(Path(napari_siamtrack.__file__).resolve().parent)

validate = subprocess.run([sys.executable, "-m", "npe2", "validate", "napari-siamtrack"],
                          capture_output=True, text=True, check=False)

from npe2 import PluginManager

manager = PluginManager.instance()
manager.discover()
manifest = manager.get_manifest("napari-siamtrack")
imported = []
for command in manifest.contributions.commands:
    module, name = command.python_name.split(":")
    getattr(importlib.import_module(module), name)
    imported.append(command.python_name)

import napari
from qtpy.QtCore import QEventLoop, QTimer

viewer = napari.Viewer(show=False)
_, widget = viewer.window.add_plugin_dock_widget("napari-siamtrack", "Propagate boxes")
viewer.open_sample("napari-siamtrack", "sample")
viewer.dims.set_current_step(0, 0)  # the box of the sample is on frame 0
widget.until.value = "frame"
widget.until_frame.value = 10
worker = widget.propagate()
loop = QEventLoop()
worker.finished.connect(loop.quit)
QTimer.singleShot(180_000, loop.quit)
loop.exec_()
boxes = widget.boxes.value
viewer.layers.selection.active = boxes
saved = viewer.layers.save(str(out / "sample.boxes.csv"), selected=True, plugin="napari-siamtrack")
lines = Path(saved[0]).read_text().splitlines() if saved else []
print(json.dumps({
    "installed_at": installed_at,
    "validate": validate.returncode,
    "validate_output": (validate.stdout + validate.stderr)[-500:],
    "imported": imported,
    "widget": type(widget).__name__,
    "layers": [layer.name for layer in viewer.layers],
    "saved": saved,
    "header": lines[0] if lines else "",
    "rows": len(lines) - 1,
    "frames": sorted({int(line.split(",")[0]) for line in lines[1:]}),
}))
viewer.close()
