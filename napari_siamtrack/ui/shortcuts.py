"""The widget's keyboard shortcuts, as napari viewer key bindings.

A Shapes layer's own keys (napari's shapes keymap: R, E, L, T, P, D, S, Z, I, X, F, B, A, 1-7,
Shift+L, Shift+P, Enter, Escape, Delete, Backspace) take precedence over the viewer's while the boxes
layer is selected, so the keys here are ones it leaves free; K (keyframe), O (outside) and M (merge)
are CVAT's keys for the same actions. They are bound while the widget is docked
and unbound when it closes; a key something else already holds is left to it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

from qtpy.QtCore import QEvent, QObject

#: Action name -> key (napari's key names).
KEYS = {
    "propagate": "G",
    "cancel": "Shift-G",
    "next_uncertain": ".",
    "previous_uncertain": ",",
    "keyframe": "K",
    "absent": "O",
    "merge": "M",
    "new_track": "N",
}


def shown(key: str) -> str:
    """A key as a person reads it: ``Shift+G``, ``.``."""
    return key.replace("-", "+")


class Shortcuts(QObject):
    """Binds ``actions`` (name -> callable, names from :data:`KEYS`) on ``viewer`` from :meth:`bind` on,
    while ``widget`` (a QWidget) is docked; ``bound`` holds the keys bound now."""

    def __init__(self, viewer, widget, actions: dict[str, Callable[[], object]]) -> None:
        super().__init__(widget)
        self._viewer = weakref.ref(viewer)  # Qt keeps this object as long as the widget: not the viewer
        self.actions = actions
        self.bound: dict[str, Callable] = {}
        widget.installEventFilter(self)

    def bind(self) -> list[str]:
        """Bind every free key; return the keys that something else holds."""
        taken, viewer = [], self._viewer()
        for name, action in self.actions.items():
            key = KEYS[name]
            if key in self.bound or viewer is None:
                continue
            handler = _handler(action)
            try:
                viewer.bind_key(key, handler)
            except ValueError:
                taken.append(key)
            else:
                self.bound[key] = handler
        return taken

    def unbind(self) -> None:
        """Unbind the keys bound here (those still bound to this widget's actions)."""
        viewer = self._viewer()
        for key, handler in self.bound.items():
            if viewer is not None and any(value is handler for value in viewer.keymap.values()):
                viewer.bind_key(key, None)
        self.bound.clear()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parent():
            kind = event.type()
            if kind == QEvent.Type.Close or (kind == QEvent.Type.ParentChange and watched.parent() is None):
                self.unbind()
            elif kind == QEvent.Type.Show and not self.bound:
                self.bind()
        return False


def _handler(action: Callable[[], object]) -> Callable:
    """A key binding calling ``action`` (napari passes the viewer)."""

    def on_key(viewer) -> None:
        action()

    return on_key
