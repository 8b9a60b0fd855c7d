"""Autosave: the boxes layer the Propagate widget works on is kept in the recovery store
(:mod:`napari_siamtrack.io.recovery`), and the boxes saved for the chosen video are offered back.

A layer is saved :data:`SAVE_DELAY_MS` after its first unsaved change (a person's edit, an undo) and at
once when it is closed or napari quits. While a propagation runs, the widget saves instead right after
it has merged a batch, when the last save is :data:`SAVE_DELAY_MS` old (:meth:`AutoSave.after_merge`):
the file is then written while the tracker works, not while the viewer merges (the writer thread and
the viewer share Python's interpreter lock). The file is written on a thread of its own, from the boxes
the widget has already read from the layer, or else from a copy of the layer's vertices and features
that the writer thread reads the boxes from. Saving needs a video read from a file or folder: an image
made in memory has nothing to file the boxes under.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
from magicgui.widgets import ComboBox, Label, PushButton
from napari.layers import Image, Shapes
from napari.utils.notifications import show_error, show_warning
from qtpy.QtCore import QObject, QTimer, Signal
from qtpy.QtWidgets import QApplication

from ..io.box_csv import BoxCsvError, BoxRow, read_csv
from ..io.recovery import Entry, RecoveryStore, VideoStamp
from .layer_boxes import read_boxes, unique_boxes

#: Milliseconds from a layer's first unsaved change to its save.
SAVE_DELAY_MS = 2000
_writer: ThreadPoolExecutor | None = None


def video_file(image: Image | None) -> Path | None:
    """The file or folder ``image`` was read from, if any."""
    if image is None:
        return None
    path = image.source.path or image.metadata.get("path")
    return Path(path) if path else None


def _write(store: RecoveryStore, entry: Path, boxes: Callable[[], list[BoxRow]]) -> int:
    """Runs on the writer thread: ``boxes()`` saved to ``entry``; returns how many."""
    rows = boxes()
    store.save(entry, rows)
    return len(rows)


def _read_copy(data: list, types: list, features) -> list[BoxRow]:
    """The boxes of a copied layer, one per (track, frame)."""
    return unique_boxes(read_boxes(data, types, features))[0].rows


def _writer_pool() -> ThreadPoolExecutor:
    """One writer thread for the process, so that saves of one file happen in order."""
    global _writer
    if _writer is None:
        _writer = ThreadPoolExecutor(1, thread_name_prefix="siamtrack-autosave")
    return _writer


@dataclass(eq=False)
class _Target:
    """A layer being saved for a video; ``entry`` is its file (chosen at the first save)."""

    layer: Shapes
    video: VideoStamp
    entry: Path | None = None
    dirty: bool = False
    saving: bool = False
    handler: Callable = field(default=lambda *_: None, repr=False)


class _Finished(QObject):
    """Brings a finished save from the writer thread to the GUI thread."""

    saved = Signal(object, object)  # the target, its Future


class AutoSave:
    """Saves the widget's boxes layers; ``add_layer(rows, name)`` adds a restored layer to the viewer and
    makes it the widget's boxes layer; ``kept_boxes(layer)`` gives the boxes the widget has read from a
    layer, one per (track, frame), or None. ``widgets`` go into the dock widget."""

    def __init__(
        self,
        add_layer: Callable[[list[BoxRow], str], Shapes],
        store: RecoveryStore | None = None,
        kept_boxes: Callable[[Shapes], list[BoxRow] | None] = lambda layer: None,
    ):
        self.store = store or RecoveryStore()
        self._add_layer = add_layer
        self._kept_boxes = kept_boxes
        self._targets: dict[int, _Target] = {}
        self._video: VideoStamp | None = None
        self._finished = _Finished()
        self._finished.saved.connect(self._on_saved)
        self._timer = QTimer()
        self._timer.setSingleShot(True)
        self._timer.setInterval(SAVE_DELAY_MS)
        self._timer.timeout.connect(self.save_changes)
        self._last_error = ""
        self._running = False  # a propagation runs: saves come from after_merge, not the timer
        self._last_save = 0.0
        self.status = Label(label="Autosave", value="")
        self.saved = ComboBox(label="Saved boxes", choices=[], visible=False)
        self.restore_button = PushButton(text="Restore saved boxes", visible=False)
        self.restore_button.changed.connect(lambda: self.restore())
        self.widgets = [self.status, self.saved, self.restore_button]
        app = QApplication.instance()
        if app is not None:
            flush = weakref.WeakMethod(self.flush)
            app.aboutToQuit.connect(lambda: flush() and flush()())

    # --- what is saved where ---------------------------------------------------------------------

    def pair(self, image: Image | None, layer: Shapes | None) -> None:
        """From now on save ``layer`` for the video ``image`` shows (the widget's choices), and offer the
        boxes saved earlier for that video."""
        path = video_file(image)
        try:
            video = VideoStamp.of(path) if path is not None else None
        except OSError:
            video = None
        if layer is not None and video is None:
            self.status.value = "off: the video is not read from a file"
        if layer is not None and video is not None:
            old = self._targets.get(id(layer))
            if old is None or old.video != video:
                self._watch(layer, video, changed=old is not None)
                self.status.value = f"on, for {Path(video.path).name}"
        self._offer(video)

    def _watch(self, layer: Shapes, video: VideoStamp, changed: bool) -> None:
        old = self._targets.get(id(layer))
        if old is not None:
            self._disconnect(old)
            if old.dirty:
                self._save(old, wait=True)
        target = _Target(layer, video, dirty=changed)
        target.handler = partial(self._changed, target)
        layer.events.data.connect(target.handler)
        layer.events.features.connect(target.handler)
        self._targets[id(layer)] = target
        if changed:
            self._timer.start()

    def release(self, layer: Shapes) -> None:
        """``layer`` is being closed: save it now and stop watching it (it can then be restored)."""
        target = self._targets.pop(id(layer), None)
        if target is not None:
            self._disconnect(target)
            if target.dirty:
                self._save(target)
            _writer_pool().submit(lambda: None).result()  # its saves, one maybe already under way, are written
            self._offer(self._video)

    @staticmethod
    def _disconnect(target: _Target) -> None:
        target.layer.events.data.disconnect(target.handler)
        target.layer.events.features.disconnect(target.handler)

    # --- saving ----------------------------------------------------------------------------------

    def _changed(self, target: _Target, event=None) -> None:
        target.dirty = True
        self._start_timer()

    def _start_timer(self) -> None:
        if not self._running and not self._timer.isActive():
            self._timer.start()

    def running(self, running: bool) -> None:
        """A propagation starts (True) or ends (False); at its end every change is saved."""
        self._running = running
        if running:
            self._timer.stop()
        else:
            self.save_changes()

    def after_merge(self) -> None:
        """A batch of a propagation was just merged: save the changes if the last save is old enough."""
        if time.monotonic() - self._last_save >= SAVE_DELAY_MS / 1000:
            self.save_changes()

    def save_changes(self) -> None:
        """Start saving every layer changed since its last save; one still being saved waits its turn."""
        for target in list(self._targets.values()):
            if target.dirty and not target.saving:
                self._save(target)
        if any(t.dirty for t in self._targets.values()):
            self._start_timer()

    def flush(self) -> None:
        """Save every changed layer now and wait until the files are written."""
        self._timer.stop()
        pending = [t for t in self._targets.values() if t.dirty]
        for target in pending:
            self._save(target)
        if pending:
            _writer_pool().submit(lambda: None).result()

    def _save(self, target: _Target, wait: bool = False) -> None:
        """Take the layer's boxes (or a copy of the layer to read them from) here, and write them on the
        writer thread."""
        layer = target.layer
        try:
            if target.entry is None:
                target.entry = self.store.new_entry(target.video, layer.name)
        except OSError as exc:
            self._report(exc)
            return
        rows = self._kept_boxes(layer)
        if rows is not None:
            boxes = partial(list, rows)
        else:
            data = [np.array(d, dtype=np.float64) for d in layer.data]
            boxes = partial(_read_copy, data, list(layer.shape_type), layer.features.copy())
        target.dirty, target.saving = False, True
        self._last_save = time.monotonic()
        future = _writer_pool().submit(_write, self.store, target.entry, boxes)
        future.add_done_callback(lambda done: self._finished.saved.emit(target, done))
        if wait:
            future.exception()  # waits; a failure is reported by _on_saved

    def _on_saved(self, target: _Target, future: Future) -> None:
        target.saving = False
        error = future.exception()
        if error is not None:
            target.dirty = True  # tried again after the next change
            self._report(error)
            return
        self._last_error = ""
        if self._targets.get(id(target.layer)) is target:
            self.status.value = f"saved {time.strftime('%H:%M:%S')}, {future.result()} boxes"
        if target.dirty:
            self._start_timer()

    def _report(self, error: BaseException) -> None:
        message = f"autosave failed: {error}"
        self.status.value = message
        if message != self._last_error:  # once, not at every retry
            show_warning(message)
            self._last_error = message

    # --- restoring -------------------------------------------------------------------------------

    def _offer(self, video: VideoStamp | None) -> None:
        """List the boxes saved for ``video`` that no open layer is saving to."""
        self._video = video
        live = {t.entry for t in self._targets.values()}
        try:
            entries = self.store.entries(video) if video is not None else []
        except OSError:
            entries = []
        entries = [e for e in entries if e.boxes and e.path not in live]
        self.saved.choices = [(entry.describe(), entry) for entry in entries]
        self.saved.visible = self.restore_button.visible = bool(entries)

    def entries(self) -> list[Entry]:
        """The saved boxes on offer, newest first."""
        return list(self.saved.choices)

    def restore(self, entry: Entry | None = None) -> Shapes | None:
        """Add the saved boxes ``entry`` (default: the one chosen) as a layer; later saves go on in the
        same file."""
        entry = entry or self.saved.value
        if entry is None:
            return None
        try:
            rows = read_csv(entry.path)
        except (OSError, BoxCsvError) as exc:
            show_error(f"cannot restore the saved boxes: {exc}")
            return None
        layer = self._add_layer(rows, entry.layer)
        target = self._targets.get(id(layer))
        if target is not None:
            target.entry = entry.path
        self._offer(self._video)
        return layer
