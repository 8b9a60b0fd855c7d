"""The export part of the Propagate widget: Export CSV…, and which layers hold boxes in no CSV (for the
question on closing napari)."""

from __future__ import annotations

from magicgui.widgets import PushButton

from ..annotation.propagation import PropagationError
from .close_guard import CloseGuard
from .export import suggested_path


class ExportControls:
    """Mixed into :class:`~napari_siamtrack.ui.widget.PropagateWidget`, which provides ``viewer``,
    ``image``, ``native``, ``binding()``, ``_bindings`` and the messages."""

    def _build_export(self) -> list:
        """Make the export button and the close guard; return the controls, in dock order."""
        self.export_button = PushButton(text="Export CSV…")
        self.export_button.changed.connect(self._export_dialog)
        self.close_guard = CloseGuard(self.native, self.unexported_layers)
        return [self.export_button]

    def export(self, path) -> str:
        """Write every box of the chosen layer to ``path`` (see :mod:`napari_siamtrack.io.box_csv`)."""
        from .napari_contrib import write_boxes

        binding = self.binding()
        data, meta, _ = binding.layer.as_layer_data_tuple()
        (written,) = write_boxes(str(path), data, meta)
        binding.saved.saved(written, list(binding.table()))
        self.inform(f"exported {binding.layer.nshapes} boxes to {written}")
        return written

    def _export_dialog(self) -> None:
        from qtpy.QtWidgets import QFileDialog

        try:
            binding = self.binding()
        except PropagationError as exc:
            self.error(str(exc))
            return
        proposed = binding.saved.path or suggested_path(binding.layer, self.image.value)
        path, _ = QFileDialog.getSaveFileName(self.native, "Export boxes", proposed, "Box CSV (*.csv)")
        if path:
            try:
                self.export(path)
            except (OSError, ValueError) as exc:
                self.error(str(exc))

    def unexported_layers(self) -> list[str]:
        """Names of the boxes layers holding boxes that are in no exported (or opened) CSV."""
        return [
            b.layer.name
            for b in self._bindings.values()
            if b.layer in self.viewer.layers and b.saved.unexported(list(b.table()))
        ]
