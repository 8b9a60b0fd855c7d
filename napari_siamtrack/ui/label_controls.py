"""The dock widget's class labels: a list to choose from (the labels added here and those of every boxes
layer chosen), the label tracks drawn from now on take, and relabelling the tracks of the selected
boxes."""

from __future__ import annotations

from collections.abc import Callable

from magicgui.widgets import ComboBox, Container, LineEdit, PushButton
from napari.utils.notifications import show_error, show_info

from ..io.box_csv import label_problem
from .boxes_layer import BoxesLayer

NO_LABEL = "(no label)"


class LabelControls:
    """The widgets (``widgets``, to put in the dock widget) and what they do to the boxes layer that
    ``binding()`` returns (it raises a ValueError, which is shown, when there is none)."""

    def __init__(self, binding: Callable[[], BoxesLayer]) -> None:
        self._binding = binding
        self._names: list[str] = []
        self.label = ComboBox(
            label="Label", choices=self._choices, tooltip="the class of tracks drawn from now on"
        )
        self.new_name = LineEdit(tooltip="type a class label, then Add (or press Enter)")
        self.add_button = PushButton(text="Add")
        self.apply_button = PushButton(text="Label the selected boxes' tracks")
        row = Container(
            widgets=[self.new_name, self.add_button], layout="horizontal", labels=False, label="New label"
        )
        row.margins = (0, 0, 0, 0)
        self.widgets = [self.label, row, self.apply_button]
        self.label.changed.connect(self._on_label)
        self.add_button.changed.connect(self.add)
        self.new_name.native.returnPressed.connect(self.add)
        self.apply_button.changed.connect(self.label_selected)

    def _choices(self, widget=None) -> list[tuple[str, str]]:
        try:
            found = self._binding().labels()
        except ValueError:
            found = []
        self._names += [name for name in found if name not in self._names]
        return [(NO_LABEL, "")] + [(name, name) for name in self._names]

    def bind(self, *_) -> None:
        """Take in the labels of the chosen boxes layer; its new tracks take the current label."""
        current = self.label.value
        self.label.reset_choices()
        if current in [value for _, value in self._choices()]:
            self.label.value = current
        self._on_label(self.label.value)

    def _on_label(self, label: str) -> None:
        try:
            self._binding().set_new_label(label or "")
        except ValueError:
            pass  # no boxes layer yet: the label applies when one is chosen

    def add(self, *_) -> str | None:
        """Add the typed label to the list and make it the current one."""
        name = self.new_name.value.strip()
        problem = label_problem(name) if name else "type a label first"
        if problem is not None:
            show_error(problem)
            return None
        if name not in self._names:
            self._names.append(name)
        self.label.reset_choices()
        self.label.value = name
        self.new_name.value = ""
        return name

    def label_selected(self) -> list[int]:
        """Give the tracks of the selected boxes the current label; return those tracks."""
        try:
            binding = self._binding()
        except ValueError as exc:
            show_error(str(exc))
            return []
        selected = binding.layer.selected_data
        if not selected:
            show_info("select one or more boxes first")
            return []
        tracks = binding.set_label(selected, self.label.value or "")
        shown = self.label.value or NO_LABEL
        show_info(f"track{'s' if len(tracks) > 1 else ''} {', '.join(map(str, tracks))}: {shown}")
        return tracks
