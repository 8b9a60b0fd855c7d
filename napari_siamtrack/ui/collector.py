"""Short garbage-collection pauses while a propagation runs.

A full collection of Python's garbage collector scans every container object in the process, and a
napari process with torch loaded holds about 430,000 of them: each full collection then holds every
thread, the viewer's included, for 0.3 s or more. While a propagation runs, :class:`QuietCollector`
moves the objects that exist out of the collector's view (:func:`gc.freeze`), and does so again every
few batches the viewer takes in, so that a collection scans only what the run created since then (the
boxes a run merges are kept for good, and 10,000 of them made a collection of everything the run had
created take 260 ms). A frozen object that dies stays in memory until the run ends, and each merge
leaves some objects that die at the next one (napari's and the widget's replaced state): the
collector first collects what the run created (a millisecond or so) and freezes only every
:data:`REFREEZE_EVERY` batches, so that few of those are frozen. When the run ends everything is
handed back (:func:`gc.unfreeze`) and collected as before. Nothing is frozen when something else in
the process already froze objects.

Before the first hold, while the run's tracker loads (the first run imports torch, some 400,000 new
objects), the collector is off: each full collection while they pile up would scan them all.
"""

from __future__ import annotations

import gc

REFREEZE_EVERY = 16
"""Batches between two freezes while a run goes on (about 4 s of tracking)."""


class QuietCollector:
    """``start()`` when a run starts, ``hold()`` once its tracker is loaded and again with each batch,
    ``release()`` when the run ends (each repeatable)."""

    def __init__(self) -> None:
        self.holding = False
        self._batches = 0
        self._paused = False

    def start(self) -> None:
        if gc.isenabled() and gc.get_freeze_count() == 0:
            gc.disable()
            self._paused = True

    def hold(self) -> None:
        if self.holding:
            self._batches += 1
            if self._batches % REFREEZE_EVERY == 0:
                gc.collect()  # the unfrozen objects only: what the run created since the last freeze
                gc.freeze()
        elif gc.get_freeze_count() == 0:
            gc.freeze()
            self.holding = True
            self._batches = 0
        self._resume()

    def release(self) -> None:
        if self.holding:
            gc.unfreeze()
            self.holding = False
        self._resume()

    def _resume(self) -> None:
        if self._paused:
            gc.enable()
            self._paused = False
