"""The Propagate dock widget: choose a video and a boxes layer, label tracks, propagate, review, export.

Propagation runs in a napari ``thread_worker`` that yields the frames it has tracked every
:data:`YIELD_INTERVAL` seconds and waits until the viewer has handled them; the boxes are merged into
the layer in batches (at most every :data:`MERGE_INTERVAL` seconds, less often when merging into a
large layer takes long). Cancel stops within a batch and keeps every box shown so far; "Undo last
propagation" takes a run back. A target the tracker loses is not stopped on: its boxes keep coming
with low confidence, drawn in the "uncertain" colour; "Next uncertain" jumps from run to run of them,
and the track timeline (docked under the canvas) shows where they are. The boxes layer is saved as it
changes (:mod:`.autosave`). While a run goes on, garbage collections scan only what it created
(:mod:`.collector`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import partial

from magicgui.widgets import CheckBox, ComboBox, Container, Label, ProgressBar, PushButton, SpinBox
from napari.layers import Image, Shapes
from napari.qt.threading import create_worker
from napari.utils import progress
from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtCore import QTimer

from ..annotation.propagation import (
    PropagationError,
    PropagationRequest,
    batched,
    plan,
    propagate,
    total_frames,
)
from ..io.box_csv import BoxRow
from .autosave import AutoSave
from .boxes_layer import BoxesLayer
from .collector import QuietCollector
from .export_controls import ExportControls
from .idle import WhenIdle
from .label_controls import LabelControls
from .layer_boxes import layer_kwargs
from .review_controls import ReviewControls
from .run_undo import RunUndo
from .shortcuts import KEYS, Shortcuts, shown
from .track_controls import TrackControls

#: Seconds of tracking the worker sends at once (the first frame at once): the progress shown, and the
#: work the viewer does for it, a few times a second however fast frames are tracked.
YIELD_INTERVAL = 0.25
#: Seconds between two merges of tracker output into the layer while a propagation runs.
MERGE_INTERVAL = 0.3
#: The next merge waits at least this many times as long as the last one took, so that merges into a
#: layer of many thousand boxes (napari's cost grows with the layer) leave the viewer responsive.
MERGE_BACKOFF = 4.0
#: Longest the worker waits for the viewer to take in a batch it sent before it tracks on. The viewer
#: answers as soon as it has handled the batch; the limit only keeps a run going if it never does.
HANDOFF_TIMEOUT = 5.0
#: Milliseconds from a batch's merge to moving napari's progress bar and letting the worker go on.
RELEASE_DELAY_MS = 1
#: Milliseconds without input after a run before the objects held out of the garbage collector's view
#: during it are handed back (a full collection: a few hundred milliseconds), see ``ui/collector.py``.
HAND_BACK_IDLE_MS = 2000


def _release_until_idle(collector: QuietCollector) -> None:
    collector.release()
    if collector.held_after_run:
        WhenIdle(HAND_BACK_IDLE_MS, collector.hand_back)


def shipped_tracker():
    """The SiamFC+ tracker with the shipped weights (torch is imported here, not at napari start-up; its
    core library is loaded first without stopping the viewer)."""
    from ..tracking.library_preload import preload_torch

    preload_torch()
    from ..tracking.tracker import Tracker

    return Tracker()


class PropagateWidget(ReviewControls, TrackControls, ExportControls, Container):
    """Dock widget; ``tracker_factory`` makes the tracker (in the worker thread) for each propagation.
    The review, track and export parts live in :mod:`.review_controls`, :mod:`.track_controls` and
    :mod:`.export_controls`; the keyboard shortcuts in :mod:`.shortcuts`."""

    def __init__(self, napari_viewer, tracker_factory: Callable | None = None) -> None:
        super().__init__(labels=True)
        self.viewer = napari_viewer
        self.tracker_factory = tracker_factory or shipped_tracker
        self.worker = None
        self._collector = QuietCollector()
        self._bindings: dict[int, BoxesLayer] = {}
        self._pending: list = []
        self._pending_gaps: list = []
        self._last_merge = self._merge_cost = 0.0
        self._started = 0.0
        self._run_layer: Shapes | None = None
        self._run_image: Image | None = None
        self._done = self._total = 0
        self._activity: progress | None = None  # the run's bar in napari's activity dock
        self._taken = threading.Event()  # the viewer has handled the last batch the worker sent
        self.runs = RunUndo()
        self.autosave = AutoSave(self._add_layer, kept_boxes=self._kept_boxes)

        self.image = ComboBox(label="Video", choices=self._choices(Image), nullable=True)
        self.boxes = ComboBox(label="Boxes", choices=self._choices(Shapes), nullable=True)
        self.new_layer = PushButton(text="New boxes layer")
        self.new_track_button = PushButton(
            text="New track",
            tooltip="Choose the boxes layer and the rectangle tool: each box drawn starts a new track",
        )
        self.labels = LabelControls(self.binding)
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
        self.full = CheckBox(
            text="also re-track unchanged gaps", value=False, visible=False,
            tooltip="Every keyframe: by default only the gaps next to keyframes added, moved or removed "
            "since the last run, and gaps with missing boxes, are tracked. Tick to track every gap again.",
        )
        self.propagate_button = PushButton(text="Propagate")
        self.cancel_button = PushButton(text="Cancel", enabled=False)
        self.undo_button = PushButton(text="Undo last propagation", enabled=False)
        self.progress = ProgressBar(label="Progress", min=0, max=1, value=0)
        self.status = Label(label="", value="Draw a box, then Propagate.")
        self.extend(
            [
                self.image, self.boxes, self.new_layer, self.new_track_button, *self.autosave.widgets,
                *self.labels.widgets, self.direction, self.until, self.until_frame, self.start_from,
                self.full, self.propagate_button, self.cancel_button, self.undo_button, self.progress,
                self.status,
            ]
        )  # fmt: skip
        self.extend(self._build_review() + self._build_tracks() + self._build_export())
        self._fit_to_dock()
        self.shortcuts = self._bind_shortcuts()

        self.new_layer.changed.connect(self.add_boxes_layer)
        self.new_track_button.changed.connect(self.new_track)
        self.until.changed.connect(lambda value: setattr(self.until_frame, "visible", value == "frame"))
        self.start_from.changed.connect(lambda value: setattr(self.full, "visible", value == "all"))
        self.propagate_button.changed.connect(self.propagate)
        self.cancel_button.changed.connect(self.cancel)
        self.undo_button.changed.connect(self.undo_propagation)
        self.boxes.changed.connect(self._bind)
        self.boxes.changed.connect(self.labels.bind)
        self.image.changed.connect(self._on_image)
        self.image.changed.connect(self.refresh_timeline)
        layers = napari_viewer.layers.events
        for event in (layers.inserted, layers.removed, layers.moved):
            event.connect(self.reset_choices)
        layers.removed.connect(self._on_layer_removed)
        layers.inserted.connect(self._on_layer_inserted)
        self.reset_choices()
        self._bind(self.boxes.value)
        self.labels.bind()
        self._on_image(self.image.value)
        shapes = [layer for layer in napari_viewer.layers if isinstance(layer, Shapes)]
        if self.image.value is not None and not any(layer.nshapes for layer in shapes):
            self.viewer.dims.set_current_step(0, 0)  # napari opens a video on its middle frame

    def _fit_to_dock(self) -> None:
        """The status line wraps instead of widening the dock, and buttons do not take the keyboard focus
        (it stays on the canvas, where napari's and this widget's key bindings work)."""
        from qtpy.QtCore import Qt
        from qtpy.QtWidgets import QPushButton, QSizePolicy

        self.status.native.setWordWrap(True)
        self.status.native.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        for button in self.native.findChildren(QPushButton):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def _bind_shortcuts(self) -> Shortcuts:
        """The viewer key bindings of the main actions, each named in its button's tooltip."""
        actions = {
            "propagate": (self.propagate, self.propagate_button),
            "cancel": (self.cancel, self.cancel_button),
            "next_uncertain": (lambda: self.go_to_uncertain(+1), self.next_uncertain),
            "previous_uncertain": (lambda: self.go_to_uncertain(-1), self.previous_uncertain),
            "keyframe": (self.toggle_keyframe, self.keyframe_button),
            "absent": (self.mark_absent, self.absent_button),
            "merge": (self.merge_tracks, self.merge_button),
            "new_track": (self.new_track, self.new_track_button),
        }
        for name, (_, button) in actions.items():
            tip = button.tooltip or ""
            button.tooltip = (tip + " " if tip else "") + f"Shortcut: {shown(KEYS[name])}"
        shortcuts = Shortcuts(self.viewer, self.native, {name: act for name, (act, _) in actions.items()})
        taken = shortcuts.bind()
        if taken:
            listed = ", ".join(shown(key) for key in taken)
            self.warn(f"keys {listed} are taken by something else in this viewer: use the buttons for them")
        return shortcuts

    # --- messages --------------------------------------------------------------------------------

    def error(self, message: str) -> None:
        """A mistake: a napari notification, and the status line (which keeps it whole)."""
        show_error(message)
        self.status.value = message

    def warn(self, message: str) -> None:
        show_warning(message)
        self.status.value = message

    def inform(self, message: str) -> None:
        show_info(message)
        self.status.value = message

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

    def _on_layer_inserted(self, event) -> None:
        """A video opened while the widget is docked starts on frame 0 (napari shows its middle frame)."""
        layer = event.value
        if isinstance(layer, Image) and layer.ndim == 3:  # napari's ndim leaves out colour channels
            self.viewer.dims.set_current_step(0, 0)

    def _on_mode(self, event) -> None:
        """Say what the vertex tools do: a person who drags a box with them sees nothing happen."""
        if str(event.mode) in ("direct", "vertex_insert", "vertex_remove"):
            self.status.value = (
                "This tool edits corners one by one. To move or resize a box, choose 'select shapes' "
                "(the arrow, key 5 or S) and drag the box or its handles."
            )

    def _on_image(self, image) -> None:
        """Frame N can be any frame of the chosen video; the chosen boxes are saved for it."""
        if image is not None and image.data.shape[0] > 0:
            self.until_frame.max = image.data.shape[0] - 1
        self.autosave.pair(image, self.boxes.value)

    def _kept_boxes(self, layer: Shapes) -> list[BoxRow] | None:
        binding = self._bindings.get(id(layer))
        return None if binding is None or binding.layer is not layer else binding.kept_boxes()

    def binding(self, layer: Shapes | None = None) -> BoxesLayer:
        """The :class:`BoxesLayer` of ``layer`` (default: the chosen boxes layer)."""
        layer = layer if layer is not None else self.boxes.value
        if layer is None:
            raise PropagationError("choose a boxes layer, or click 'New boxes layer' and draw a box")
        key = id(layer)
        if key not in self._bindings:
            binding = BoxesLayer(layer, self.threshold.value, report=self.warn)
            binding.on_change = lambda: self._timeline_due.start() if self.boxes.value is layer else None
            self._bindings[key] = binding
            layer.events.mode.connect(self._on_mode)
        return self._bindings[key]

    def _bind(self, layer) -> None:
        if layer is not None:
            try:
                self.binding(layer)
            except ValueError as exc:
                self.warn(str(exc))
            else:
                self.autosave.pair(self.image.value, layer)
        self._set_running(self.worker is not None)
        self.refresh_timeline()

    def add_boxes_layer(self) -> Shapes:
        """Add an empty boxes layer over the chosen video, choose it, and switch to drawing rectangles."""
        layer = self._add_layer([], "boxes")
        layer.mode = "add_rectangle"
        return layer

    def new_track(self) -> Shapes:
        """Draw a new track: choose the boxes layer (a new one when there is none) and the rectangle tool."""
        layer = self.boxes.value
        if layer is None:
            return self.add_boxes_layer()
        self.viewer.layers.selection.active = layer
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
            event.value.events.mode.disconnect(self._on_mode)
        if self.worker is not None and event.value in (self._run_layer, self._run_image):
            self.warn(f"layer {event.value.name!r} was closed: propagation stopped")
            self._pending.clear()
            self._pending_gaps.clear()
            self.cancel()

    # --- propagation -----------------------------------------------------------------------------

    def current_frame(self) -> int:
        return int(self.viewer.dims.current_step[0])

    def propagate(self):
        """Start propagating as the controls say; return the worker, or None (after saying why)."""
        if self.worker is not None:
            self.inform("a propagation is already running: wait for it, or Cancel it")
            return None
        try:
            frames, binding, segments = self._prepare()
        except (PropagationError, ValueError) as exc:
            self.error(str(exc))
            return None
        total = total_frames(segments)
        self.runs.record(binding.layer, segments)
        self._done, self._total = 0, total
        self.worker = create_worker(self._track, frames, segments)
        self._activity = progress(total=total, desc="Propagating boxes")
        self._run_layer, self._run_image = binding.layer, self.image.value
        self._pending, self._pending_gaps = [], []
        self._last_merge = self._started = time.monotonic()
        self.progress.max, self.progress.value = max(total, 1), 0
        self.status.value = f"Loading the tracker for {total} frames…"
        self.worker.yielded.connect(self._on_progress)
        self.worker.finished.connect(self._on_finished)
        self.worker.finished.connect(partial(_release_until_idle, self._collector))  # also if the widget is gone
        self.worker.returned.connect(self._on_returned)
        self.worker.errored.connect(lambda exc: self.error(f"propagation failed: {exc}"))
        self._set_running(True)
        self.autosave.running(True)
        self._collector.start()
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
            self.warn(
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
            full=self.full.value,
        )
        table = binding.table()
        segments = plan(table, request, frames.shape[0], frame_size=frames.shape[1:3], filled=binding.filled)
        if not segments and request.start_from == "all" and not request.full:
            raise PropagationError(
                "nothing to track: no keyframe was added, moved or removed since the last run "
                "(tick 'also re-track unchanged gaps' to track every gap again)"
            )
        if not segments:
            raise PropagationError(
                "nothing to track: every frame in that range has a keyframe or is marked absent (outside)"
            )
        return frames, binding, segments

    def _track(self, frames, segments):
        """Runs in the worker thread: yields a :class:`~napari_siamtrack.annotation.propagation.Progress`
        per frame; returns what stopped it early (a bad weights file, a frame that cannot be decoded)."""
        try:
            for tracked in batched(propagate(self.tracker_factory(), frames, segments), YIELD_INTERVAL):
                self._taken.clear()
                yield tracked
                # Tracking waits while the viewer merges the batch: a merge into a layer of thousands
                # of boxes then has both cores, not what the tracker's threads leave it.
                self._taken.wait(HANDOFF_TIMEOUT)
        except ValueError as exc:  # the package's errors for bad input: one line, not a traceback
            return str(exc)
        return None

    def _on_returned(self, problem: str | None) -> None:
        if problem:
            self.error(f"propagation failed: {problem}")

    def _on_progress(self, tracked) -> None:
        try:
            step, merged = self._take(tracked)
        except BaseException:
            self._taken.set()
            raise
        # napari's bar handles pending events (a repaint of the canvas among them) when it moves: that
        # happens after the event loop has handled what came in meanwhile (a zero timer would run
        # first), so that a merge and a repaint are two short waits for a person instead of one long
        # one. The worker waits for both.
        QTimer.singleShot(RELEASE_DELAY_MS, partial(self._release, step, merged))

    def _take(self, tracked) -> tuple[int, bool]:
        """Show and maybe merge a batch; return how many frames it adds and whether it was merged."""
        self._collector.hold()  # from the first tracked frame on (torch is loaded), again with each batch
        self._pending.extend(tracked.rows)
        self._pending_gaps.extend(tracked.filled)
        step, self._done = tracked.done - self._done, tracked.done
        fps = tracked.done / max(time.monotonic() - self._started, 1e-9)
        self._show(tracked.done, f"{tracked.done}/{tracked.total} frames · {fps:.1f} fps")
        merged = time.monotonic() - self._last_merge >= max(MERGE_INTERVAL, MERGE_BACKOFF * self._merge_cost)
        if merged:
            self._merge_pending()
        return step, merged

    def _release(self, step: int, merged: bool) -> None:
        """Move napari's bar, start saving what was merged (the file is written while the tracker
        works, not while the viewer merges), and let the worker go on."""
        try:
            if self.worker is not None:  # the run's bar is closed when it ends
                self._activity.update(step)
            if merged:
                self.autosave.after_merge()
        finally:
            self._taken.set()

    def _merge_pending(self) -> None:
        rows, self._pending = self._pending, []
        gaps, self._pending_gaps = self._pending_gaps, []
        started = time.monotonic()
        if self._run_layer is not None and self._run_layer in self.viewer.layers:
            binding = self.binding(self._run_layer)
            binding.merge(rows, hold_view=True)
            binding.filled.record(gaps)
        self._last_merge = time.monotonic()
        self._merge_cost = self._last_merge - started

    def _on_finished(self) -> None:
        self._activity.close()
        self._merge_pending()
        layer = self._run_layer
        verb = "Stopped" if self._done < self._total else "Done"
        elapsed = time.monotonic() - self._started
        self.worker, self._run_layer, self._run_image = None, None, None
        self._show(self._done, f"{verb}: {self._done}/{self._total} frames in {elapsed:.1f} s", running=False)
        # napari's refresh of the view (extent, thumbnail, the shapes in view, a repaint), then the final
        # save, each after the event loop has handled what came before: the last merge, the refresh and
        # the save (written on its thread, which shares the interpreter lock) are three short waits
        QTimer.singleShot(RELEASE_DELAY_MS, partial(self._after_run, layer))

    def _after_run(self, layer: Shapes | None) -> None:
        if layer is not None and layer in self.viewer.layers:
            self.binding(layer).refresh_view()
        QTimer.singleShot(RELEASE_DELAY_MS, self._save_after_run)

    def _save_after_run(self) -> None:
        if self.worker is None:  # not if another run has started since
            self.autosave.running(False)

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
            self._taken.set()

    def _set_running(self, running: bool) -> None:
        self.propagate_button.enabled = not running
        self.cancel_button.enabled = running
        self.undo_button.enabled = not running and self.runs.can_undo(self.boxes.value)

    def undo_propagation(self) -> None:
        """Put the chosen boxes layer back as it was before its last propagation."""
        if self.worker is not None:
            self.inform("a propagation is running: Cancel it first")
            return
        try:
            removed = self.runs.undo(self.binding())
        except PropagationError as exc:
            self.error(str(exc))
            return
        if removed is None:
            self.inform("no propagation to undo on this layer")
        else:
            self.status.value = f"Undone: {removed} tracked boxes taken out, the earlier ones put back"
        self._set_running(False)
