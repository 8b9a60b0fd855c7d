"""The Propagate dock widget: choose a video and a boxes layer, propagate, review, export.

Propagation runs in a napari ``thread_worker`` that yields one tracked frame at a time; the boxes are
merged into the layer in batches (at most every :data:`MERGE_INTERVAL` seconds, less often when merging
into a large layer takes long). Cancel stops at the next frame and keeps every box tracked so far; "Undo
last propagation" takes a run back. A target the tracker loses is not stopped on: its boxes keep coming
with low scores, drawn in the "uncertain" colour, and "Next uncertain" jumps to them. The boxes layer is
saved as it changes (:mod:`.autosave`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from magicgui.widgets import ComboBox, Container, FloatSpinBox, Label, ProgressBar, PushButton, SpinBox
from napari.layers import Image, Shapes
from napari.qt.threading import create_worker
from napari.utils.notifications import show_error, show_info, show_warning

from ..annotation.propagation import PropagationError, PropagationRequest, plan, propagate, total_frames
from ..io.box_csv import BoxRow
from .autosave import AutoSave
from .boxes_layer import BoxesLayer
from .layer_boxes import DEFAULT_THRESHOLD, layer_kwargs, protected
from .run_undo import RunUndo

#: Seconds between two merges of tracker output into the layer while a propagation runs.
MERGE_INTERVAL = 0.3
#: The next merge waits at least this many times as long as the last one took, so that merges into a
#: layer of many thousand boxes (napari's cost grows with the layer) leave the viewer responsive.
MERGE_BACKOFF = 4.0


def shipped_tracker():
    """The SiamFC+ tracker with the shipped weights (torch is imported here, not at napari start-up)."""
    from ..tracking.tracker import Tracker

    return Tracker()


class PropagateWidget(Container):
    """Dock widget; ``tracker_factory`` makes the tracker (in the worker thread) for each propagation."""

    def __init__(self, napari_viewer, tracker_factory: Callable | None = None) -> None:
        super().__init__(labels=True)
        self.viewer = napari_viewer
        self.tracker_factory = tracker_factory or shipped_tracker
        self.worker = None
        self._bindings: dict[int, BoxesLayer] = {}
        self._pending: list = []
        self._last_merge = self._merge_cost = 0.0
        self._started = 0.0
        self._run_layer: Shapes | None = None
        self._run_image: Image | None = None
        self._done = self._total = 0
        self.runs = RunUndo()
        self.autosave = AutoSave(self._add_layer)

        self.image = ComboBox(label="Video", choices=self._choices(Image), nullable=True)
        self.boxes = ComboBox(label="Boxes", choices=self._choices(Shapes), nullable=True)
        self.new_layer = PushButton(text="New boxes layer")
        self.direction = ComboBox(
            label="Direction",
            choices=[("forward", "forward"), ("backward", "backward"), ("both ways", "both")],
        )
        self.until = ComboBox(
            label="Until",
            choices=[("end of video", "end"), ("next keyframe", "next_keyframe"), ("frame N", "frame")],
        )
        self.until_frame = SpinBox(label="N", min=0, max=10**9, visible=False)
        self.start_from = ComboBox(
            label="Start from", choices=[("keyframes on this frame", "frame"), ("every keyframe", "all")]
        )
        self.propagate_button = PushButton(text="Propagate")
        self.cancel_button = PushButton(text="Cancel", enabled=False)
        self.undo_button = PushButton(text="Undo last propagation", enabled=False)
        self.progress = ProgressBar(label="Progress", min=0, max=1, value=0)
        self.status = Label(label="", value="Draw a box, then Propagate.")
        self.threshold = FloatSpinBox(
            label="Review below", min=0.0, max=1.0, step=0.05, value=DEFAULT_THRESHOLD
        )
        self.previous_uncertain = PushButton(text="◀ Previous uncertain")
        self.next_uncertain = PushButton(text="Next uncertain ▶")
        self.keyframe_button = PushButton(text="Keyframe on/off (selected boxes)")
        self.export_button = PushButton(text="Export CSV…")
        self.extend(
            [
                self.image, self.boxes, self.new_layer, *self.autosave.widgets, self.direction, self.until,
                self.until_frame, self.start_from, self.propagate_button, self.cancel_button,
                self.undo_button, self.progress, self.status, self.threshold, self.previous_uncertain,
                self.next_uncertain, self.keyframe_button, self.export_button,
            ]
        )  # fmt: skip

        self.new_layer.changed.connect(self.add_boxes_layer)
        self.until.changed.connect(lambda value: setattr(self.until_frame, "visible", value == "frame"))
        self.propagate_button.changed.connect(self.propagate)
        self.cancel_button.changed.connect(self.cancel)
        self.undo_button.changed.connect(self.undo_propagation)
        self.threshold.changed.connect(self._restyle)
        self.previous_uncertain.changed.connect(lambda: self.go_to_uncertain(-1))
        self.next_uncertain.changed.connect(lambda: self.go_to_uncertain(+1))
        self.keyframe_button.changed.connect(self.toggle_keyframe)
        self.export_button.changed.connect(self._export_dialog)
        self.boxes.changed.connect(self._bind)
        self.image.changed.connect(self._on_image)
        layers = napari_viewer.layers.events
        for event in (layers.inserted, layers.removed, layers.moved):
            event.connect(self.reset_choices)
        layers.removed.connect(self._on_layer_removed)
        self.reset_choices()
        self._bind(self.boxes.value)
        self._on_image(self.image.value)

    # --- layers ----------------------------------------------------------------------------------

    def _choices(self, kind: type) -> Callable:
        return lambda widget=None: [
            (layer.name, layer) for layer in self.viewer.layers if isinstance(layer, kind)
        ]

    def reset_choices(self, *_) -> None:
        """Refresh the layer lists; an empty choice takes the active layer of its kind, else the top one."""
        super().reset_choices()
        active = self.viewer.layers.selection.active
        for combo, kind in ((self.image, Image), (self.boxes, Shapes)):
            if combo.value is None:
                layers = [layer for layer in combo.choices if layer is not None]
                if layers:
                    combo.value = active if isinstance(active, kind) else layers[-1]

    def _on_image(self, image) -> None:
        """Frame N can be any frame of the chosen video; the chosen boxes are saved for it."""
        if image is not None and image.data.shape[0] > 0:
            self.until_frame.max = image.data.shape[0] - 1
        self.autosave.pair(image, self.boxes.value)

    def binding(self, layer: Shapes | None = None) -> BoxesLayer:
        """The :class:`BoxesLayer` of ``layer`` (default: the chosen boxes layer)."""
        layer = layer if layer is not None else self.boxes.value
        if layer is None:
            raise PropagationError("choose a boxes layer, or click 'New boxes layer' and draw a box")
        key = id(layer)
        if key not in self._bindings:
            self._bindings[key] = BoxesLayer(layer, self.threshold.value)
        return self._bindings[key]

    def _bind(self, layer) -> None:
        if layer is not None:
            try:
                self.binding(layer)
            except ValueError as exc:
                show_warning(str(exc))
                return
            self.autosave.pair(self.image.value, layer)
        self._set_running(self.worker is not None)

    def add_boxes_layer(self) -> Shapes:
        """Add an empty boxes layer over the chosen video, choose it, and switch to drawing rectangles."""
        layer = self._add_layer([], "boxes")
        layer.mode = "add_rectangle"
        return layer

    def _add_layer(self, rows: list[BoxRow], name: str) -> Shapes:
        """Add a layer of ``rows`` over the chosen video, and choose it."""
        kwargs = layer_kwargs(rows, name=name, threshold=self.threshold.value)
        image = self.image.value
        if image is not None and image.ndim == 3:
            kwargs["scale"] = image.scale
        self.boxes.value = self.viewer.add_shapes(**kwargs)
        return self.boxes.value  # the layer itself, not the viewer proxy's wrapper of it

    def _on_layer_removed(self, event) -> None:
        self.autosave.release(event.value)
        self.runs.forget(event.value)
        binding = self._bindings.pop(id(event.value), None)
        if binding is not None:
            binding.close()
        if self.worker is not None and event.value in (self._run_layer, self._run_image):
            show_warning(f"layer {event.value.name!r} was closed: propagation stopped")
            self._pending.clear()
            self.cancel()

    # --- propagation -----------------------------------------------------------------------------

    def current_frame(self) -> int:
        return int(self.viewer.dims.current_step[0])

    def propagate(self):
        """Start propagating as the controls say; return the worker, or None (after saying why)."""
        if self.worker is not None:
            show_info("a propagation is already running: wait for it, or Cancel it")
            return None
        try:
            frames, binding, segments = self._prepare()
        except (PropagationError, ValueError) as exc:
            show_error(str(exc))
            return None
        total = total_frames(segments)
        self._done, self._total = 0, total
        self.runs.record(binding.layer, segments)
        self.worker = create_worker(
            self._track, frames, segments, _progress={"total": total, "desc": "Propagating boxes"}
        )
        self._run_layer, self._run_image = binding.layer, self.image.value
        self._pending, self._last_merge, self._started = [], time.monotonic(), time.monotonic()
        self.progress.max, self.progress.value = max(total, 1), 0
        self.status.value = f"Loading the tracker for {total} frames…"
        self.worker.yielded.connect(self._on_progress)
        self.worker.finished.connect(self._on_finished)
        self.worker.returned.connect(self._on_returned)
        self.worker.errored.connect(lambda exc: show_error(f"propagation failed: {exc}"))
        self._set_running(True)
        self.worker.start()
        return self.worker

    def _prepare(self):
        image = self.image.value
        if image is None:
            raise PropagationError("open a video first (File > Open), and choose it under 'Video'")
        frames = image.data[0] if image.multiscale else image.data
        axes = frames.ndim - (1 if image.rgb else 0)
        if axes != 3:
            what = "has no time axis" if axes < 3 else f"has {axes} axes"
            raise PropagationError(f"image {image.name!r} {what}: propagation needs a (t, y, x) video")
        if frames.shape[0] < 2:
            raise PropagationError(f"image {image.name!r} has one frame: there is nothing to propagate to")
        binding = self.binding()
        boxes, problems = binding.boxes()
        if problems:
            show_warning(
                f"left out of propagation: {'; '.join(problems[:3])}" + (" …" if len(problems) > 3 else "")
            )
        if not boxes.rows:
            raise PropagationError(
                f"layer {binding.layer.name!r} has no boxes: draw a rectangle on a frame first"
            )
        request = PropagationRequest(
            frame=self.current_frame(),
            direction=self.direction.value,
            until=self.until.value,
            until_frame=self.until_frame.value,
            start_from=self.start_from.value,
        )
        segments = plan(binding.table(), request, frames.shape[0], frame_size=frames.shape[1:3])
        if not segments:
            raise PropagationError("nothing to track: every frame in that range already has a keyframe")
        return frames, binding, segments

    def _track(self, frames, segments):
        """Runs in the worker thread: yields a :class:`~napari_siamtrack.annotation.propagation.Progress`
        per frame; returns what stopped it early (a bad weights file, a frame that cannot be decoded)."""
        try:
            yield from propagate(self.tracker_factory(), frames, segments)
        except ValueError as exc:  # the package's errors for bad input: one line, not a traceback
            return str(exc)
        return None

    def _on_returned(self, problem: str | None) -> None:
        if problem:
            show_error(f"propagation failed: {problem}")

    def _on_progress(self, progress) -> None:
        self._pending.extend(progress.rows)
        self._done = progress.done
        fps = progress.done / max(time.monotonic() - self._started, 1e-9)
        self._show(progress.done, f"{progress.done}/{progress.total} frames · {fps:.1f} fps")
        if time.monotonic() - self._last_merge >= max(MERGE_INTERVAL, MERGE_BACKOFF * self._merge_cost):
            self._merge_pending()

    def _merge_pending(self) -> None:
        rows, self._pending = self._pending, []
        started = time.monotonic()
        if rows and self._run_layer is not None and self._run_layer in self.viewer.layers:
            self.binding(self._run_layer).merge(rows)
        self._last_merge = time.monotonic()
        self._merge_cost = self._last_merge - started

    def _on_finished(self) -> None:
        self._merge_pending()
        verb = "Stopped" if self._done < self._total else "Done"
        elapsed = time.monotonic() - self._started
        self.worker, self._run_layer, self._run_image = None, None, None
        self._show(self._done, f"{verb}: {self._done}/{self._total} frames in {elapsed:.1f} s", running=False)

    def _show(self, done: int, status: str, running: bool = True) -> None:
        """Update the progress display; if the widget has been closed (with the viewer), stop the run."""
        try:
            self.progress.value = done
            self.status.value = status
            self._set_running(running)
        except RuntimeError:  # Qt has deleted the widget
            self.cancel()

    def cancel(self) -> None:
        """Stop the running propagation at the next frame; the boxes tracked so far stay."""
        if self.worker is not None:
            self.worker.quit()

    def _set_running(self, running: bool) -> None:
        self.propagate_button.enabled = not running
        self.cancel_button.enabled = running
        self.undo_button.enabled = not running and self.runs.can_undo(self.boxes.value)

    def undo_propagation(self) -> None:
        """Put the chosen boxes layer back as it was before its last propagation."""
        if self.worker is not None:
            show_info("a propagation is running: Cancel it first")
            return
        try:
            removed = self.runs.undo(self.binding())
        except PropagationError as exc:
            show_error(str(exc))
            return
        if removed is None:
            show_info("no propagation to undo on this layer")
        else:
            self.status.value = f"Undone: {removed} tracked boxes taken out, the earlier ones put back"
        self._set_running(False)

    # --- review ----------------------------------------------------------------------------------

    def _restyle(self, threshold: float) -> None:
        for binding in self._bindings.values():
            binding.restyle(threshold)

    def go_to_uncertain(self, step: int = 1) -> int | None:
        """Jump to the next (``step=-1``: previous) frame with a tracked box scoring below the threshold,
        and select those boxes. Returns the frame, or None when there is none."""
        try:
            binding = self.binding()
        except PropagationError as exc:
            show_error(str(exc))
            return None
        frame = binding.table().uncertain_frame(self.current_frame(), self.threshold.value, step)
        if frame is None:
            show_info(f"no tracked box scores below {self.threshold.value:.2f}")
            return None
        self.viewer.dims.set_current_step(0, frame)
        binding.layer.selected_data = binding.indices_on(frame, below=self.threshold.value)
        return frame

    def toggle_keyframe(self) -> None:
        """Selected boxes become keyframes; if all already are, they go back to the tracker."""
        binding = self.binding()
        selected = sorted(binding.layer.selected_data)
        if not selected:
            show_info("select one or more boxes first")
            return
        already = protected(binding.layer.features)[selected].all()
        binding.set_keyframe(selected, not already)

    # --- export ----------------------------------------------------------------------------------

    def export(self, path) -> str:
        """Write every box of the chosen layer to ``path`` (see :mod:`napari_siamtrack.io.box_csv`)."""
        from .napari_contrib import write_boxes

        layer = self.binding().layer
        data, meta, _ = layer.as_layer_data_tuple()
        (written,) = write_boxes(str(path), data, meta)
        show_info(f"exported {layer.nshapes} boxes to {written}")
        return written

    def _export_dialog(self) -> None:
        from qtpy.QtWidgets import QFileDialog

        try:
            name = self.binding().layer.name
        except PropagationError as exc:
            show_error(str(exc))
            return
        path, _ = QFileDialog.getSaveFileName(
            self.native, "Export boxes", f"{name}.boxes.csv", "Box CSV (*.csv)"
        )
        if path:
            try:
                self.export(path)
            except (OSError, ValueError) as exc:
                show_error(str(exc))
