"""Real mouse and keyboard events in a shown napari window: what a person does, through Qt, so that
napari's own drawing and editing code runs exactly as it does for them."""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import QPoint, Qt
from qtpy.QtTest import QTest
from qtpy.QtWidgets import QApplication

LEFT = Qt.MouseButton.LeftButton
NO_KEYS = Qt.KeyboardModifier.NoModifier


def canvas(viewer):
    return viewer.window._qt_viewer.canvas.native


def settle(rounds: int = 5) -> None:
    for _ in range(rounds):
        QApplication.processEvents()


def point(viewer, layer, y: float, x: float) -> QPoint:
    """The canvas pixel (logical) where ``layer``'s data coordinates (y, x) are shown."""
    world = layer.data_to_world([viewer.dims.current_step[0], y, x])
    camera = viewer.scene.camera if hasattr(viewer, "scene") else viewer.camera
    native = canvas(viewer)
    cy, cx = camera.center[-2:]
    px = (world[-1] - cx) * camera.zoom + native.width() / 2
    py = (world[-2] - cy) * camera.zoom + native.height() / 2
    return QPoint(round(px), round(py))


def drag(viewer, layer, start: tuple[float, float], end: tuple[float, float], steps: int = 6) -> None:
    """Press at ``start`` (y, x), move to ``end`` in steps, release."""
    native = canvas(viewer)
    QTest.mousePress(native, LEFT, NO_KEYS, point(viewer, layer, *start))
    for t in np.linspace(0, 1, steps)[1:]:
        QTest.mouseMove(native, point(viewer, layer, *(np.add(start, t * np.subtract(end, start)))))
        settle(1)
    QTest.mouseRelease(native, LEFT, NO_KEYS, point(viewer, layer, *end))
    settle()


def click(viewer, layer, at: tuple[float, float]) -> None:
    native = canvas(viewer)
    QTest.mouseMove(native, point(viewer, layer, *at))
    QTest.mouseClick(native, LEFT, NO_KEYS, point(viewer, layer, *at))
    settle()


def press(viewer, key, modifiers=NO_KEYS) -> None:
    """A key press on the canvas (where napari's key bindings listen)."""
    QTest.keyClick(canvas(viewer), key, modifiers)
    settle()


def draw_rectangle(viewer, layer, y0: float, x0: float, y1: float, x1: float) -> None:
    layer.mode = "add_rectangle"
    drag(viewer, layer, (y0, x0), (y1, x1))


def draw_polygon(viewer, layer, corners) -> None:
    """Click each corner, then press Enter (napari's way to finish a polygon)."""
    layer.mode = "add_polygon"
    for y, x in corners:
        click(viewer, layer, (y, x))
    press(viewer, Qt.Key.Key_Return)
