"""Asks before the napari window closes while a boxes layer holds boxes that are in no CSV."""

from __future__ import annotations

import weakref
from collections.abc import Callable

from qtpy.QtCore import QEvent, QObject
from qtpy.QtWidgets import QMessageBox, QWidget


class CloseGuard(QObject):
    """Watches the top-level window that ``widget`` is docked in (found when the widget is first shown).
    ``unexported()`` names the layers with boxes not exported; when it names any, closing the window asks
    first. ``enabled = False`` turns the question off.

    Qt keeps this object alive as long as ``widget``, so it holds the window and ``unexported`` weakly:
    it must not keep the viewer alive."""

    def __init__(self, widget: QWidget, unexported: Callable[[], list[str]]) -> None:
        super().__init__(widget)
        self.enabled = True
        self._unexported = weakref.WeakMethod(unexported)
        self._window: weakref.ref | None = None
        widget.installEventFilter(self)

    def window(self) -> QWidget | None:
        return self._window() if self._window is not None else None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Show and watched is self.parent():
            window = watched.window()
            if window is not watched and window is not self.window():
                if self.window() is not None:
                    self.window().removeEventFilter(self)
                self._window = weakref.ref(window)
                window.installEventFilter(self)
        elif event.type() == QEvent.Type.Close and watched is self.window() and not self.allow_close():
            event.ignore()
            return True
        return False

    def allow_close(self) -> bool:
        """Whether the window may close: nothing unexported, or the person says so."""
        window, unexported = self.window(), self._unexported()
        if not self.enabled or window is None or not window.isVisible() or unexported is None:
            return True
        names = unexported()
        if not names:
            return True
        listed = ", ".join(repr(n) for n in names)
        answer = QMessageBox.question(
            window,
            "Boxes not exported",
            f"The boxes in {listed} have changes that are in no exported CSV. Close anyway?\n\n"
            "Boxes over a video opened from a file are autosaved: opening that video again offers them "
            "back, and 'siamtrack recover VIDEO --out FILE' writes them out.",
            QMessageBox.StandardButton.Close | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Close
