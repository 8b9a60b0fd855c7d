"""Short garbage-collection pauses while a propagation runs.

A full collection of Python's garbage collector scans every container object in the process, and a
napari process with torch loaded holds about 430,000 of them: each full collection then holds every
thread, the viewer's included, for 0.3 s or more. While a propagation runs, :class:`QuietCollector`
moves the objects that exist out of the collector's view (:func:`gc.freeze`), and does so again every
few batches the viewer takes in, so that a collection scans only what the run created since then (the
boxes a run merges are kept for good, and 10,000 of them made a collection of everything the run had
created take 260 ms). A frozen object that dies in a reference cycle stays in memory until it is
handed back, and each merge leaves some objects that die at the next one (napari's and the widget's
replaced state): the collector first collects what the run created (a millisecond or so) and
freezes only every :data:`REFREEZE_EVERY` batches, so that few of those are frozen. Nothing is frozen
when something else in the process already froze objects.

When the run ends, collections go on as before but the objects stay frozen until :meth:`hand_back`
(the widget calls it once the person has left the viewer alone a while): it returns them to the
collector (:func:`gc.unfreeze`) and collects everything at once. That full collection takes a few
hundred milliseconds whenever it comes; handed back at the run's end, the objects would make the
collector's next automatic full collection come within seconds, while the person looks through the
frames just tracked. A run that starts before then holds them on.

Before the first hold, while the run's tracker loads (the first run imports torch, some 400,000 new
objects), the collector is off: each full collection while they pile up would scan them all.
"""

from __future__ import annotations

import gc

REFREEZE_EVERY = 16
"""Batches between two freezes while a run goes on (about 4 s of tracking)."""


class QuietCollector:
    """``start()`` when a run starts, ``hold()`` once its tracker is loaded and again with each batch,
    ``release()`` when the run ends, ``hand_back()`` when the viewer is idle (each repeatable)."""

    def __init__(self) -> None:
        self.holding = False
        self.held_after_run = False
        self._running = False
        self._batches = 0
        self._paused = False

    def start(self) -> None:
        self._running = True
        if self.held_after_run:  # torch is loaded: the first hold takes them on
            return
        if gc.isenabled() and gc.get_freeze_count() == 0:
            gc.disable()
            self._paused = True

    def hold(self) -> None:
        if self.holding:
            self._batches += 1
            if self._batches % REFREEZE_EVERY == 0:
                gc.collect()  # the unfrozen objects only: what the run created since the last freeze
                gc.freeze()
        elif self.held_after_run or gc.get_freeze_count() == 0:
            gc.freeze()
            self.holding, self.held_after_run = True, False
            self._batches = 0
        self._resume()

    def release(self) -> None:
        self._running = False
        if self.holding:
            self.holding, self.held_after_run = False, True
        self._resume()

    def hand_back(self) -> None:
        if self.held_after_run and not (self.holding or self._running):
            gc.unfreeze()
            self.held_after_run = False
            gc.collect()

    def _resume(self) -> None:
        if self._paused:
            gc.enable()
            self._paused = False
