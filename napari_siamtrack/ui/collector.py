"""Short garbage-collection pauses while a propagation runs.

A full collection of Python's garbage collector scans every container object in the process, and a
napari process with torch loaded holds about 430,000 of them: each full collection then holds every
thread, the viewer's included, for 0.3 s or more. While a propagation runs, :class:`QuietCollector`
moves the objects that exist out of the collector's view (:func:`gc.freeze`), and does so again with
each batch the viewer takes in, so that a collection scans only what the run created since the last
batch (the boxes a run merges are kept for good, and 10,000 of them made a collection of everything the
run had created take 260 ms). When the run ends they are handed back (:func:`gc.unfreeze`) and
collected as before. Nothing is frozen when something else in the process already froze objects.
"""

from __future__ import annotations

import gc


class QuietCollector:
    """``hold()`` once the run's tracker is loaded and again with each batch, ``release()`` when the run
    ends (both repeatable)."""

    def __init__(self) -> None:
        self.holding = False

    def hold(self) -> None:
        if self.holding:
            gc.freeze()  # a few list splices: what the run has kept so far leaves the collector's view
        elif gc.get_freeze_count() == 0:
            gc.freeze()
            self.holding = True

    def release(self) -> None:
        if self.holding:
            gc.unfreeze()
            self.holding = False
