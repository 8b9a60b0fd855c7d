"""Every test saves recovery files (autosave) in a folder of its own, never in the user's data folder,
and ends with what waits for an idle viewer done; ``docked`` gives window tests a shown viewer with the
widget docked."""

from __future__ import annotations

import sys

import pytest


@pytest.fixture(autouse=True)
def idle_after_each_test():
    """What waits for the viewer to be idle (``ui/idle.py``) runs when a test ends, as it would after a
    person's pause: no test leaves objects held out of the garbage collector's view for the next one."""
    yield
    idle = sys.modules.get("napari_siamtrack.ui.idle")
    if idle is not None:
        from qtpy.QtWidgets import QApplication

        app = QApplication.instance()
        for waiting in app.findChildren(idle.WhenIdle) if app is not None else ():
            waiting.fire()


@pytest.fixture(autouse=True)
def recovery_dir(tmp_path_factory, monkeypatch):
    folder = tmp_path_factory.mktemp("recovery")
    monkeypatch.setenv("NAPARI_SIAMTRACK_RECOVERY_DIR", str(folder))
    return folder


@pytest.fixture
def docked(make_napari_viewer):
    """A shown viewer with a 12-frame video, a boxes layer of ``rows`` (nothing propagated), the widget."""
    from doubles import StepTracker, numbered_frames
    from gui import settle

    from napari_siamtrack.ui.layer_boxes import layer_kwargs
    from napari_siamtrack.ui.widget import PropagateWidget

    made = []

    def make(rows, tracker=None):
        viewer = make_napari_viewer(show=True)
        viewer.window.resize(1100, 760)
        viewer.add_image(numbered_frames(12, height=60, width=80), name="video")
        kwargs = layer_kwargs(rows, name="boxes")
        layer = viewer.add_shapes(kwargs.pop("data"), **kwargs)
        widget = PropagateWidget(viewer, tracker_factory=lambda: tracker or StepTracker(score=0.43))
        viewer.window.add_dock_widget(widget, area="right")
        made.append(widget)
        viewer.dims.set_current_step(0, 0)
        viewer.layers.selection.active = layer
        settle()
        return viewer, widget, layer

    yield make
    for widget in made:
        widget.close_guard.enabled = False
