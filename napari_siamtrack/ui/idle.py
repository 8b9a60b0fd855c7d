"""Calls a function once the person has left the application alone a while."""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtCore import QEvent, QObject, QTimer
from qtpy.QtWidgets import QApplication

#: Events that mean the person is doing something.
INPUT_EVENTS = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseButtonRelease, QEvent.Type.MouseButtonDblClick, QEvent.Type.MouseMove,
    QEvent.Type.Wheel, QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate,
})


class WhenIdle(QObject):
    """Calls ``action`` once, after ``idle_ms`` milliseconds without keyboard, mouse or touch input
    anywhere in the application. It belongs to the application, so it outlives the widget that made it,
    and deletes itself once it has called ``action``."""

    def __init__(self, idle_ms: int, action: Callable[[], None]) -> None:
        app = QApplication.instance()
        super().__init__(app)
        self._action = action
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(idle_ms)
        self._timer.timeout.connect(self.fire)
        app.installEventFilter(self)
        self._timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in INPUT_EVENTS:
            self._timer.start()
        return False

    def fire(self) -> None:
        """Call ``action`` now instead of when idle (at most once in all)."""
        if self._action is None:
            return
        action, self._action = self._action, None
        self._timer.stop()
        QApplication.instance().removeEventFilter(self)
        self.deleteLater()
        action()
