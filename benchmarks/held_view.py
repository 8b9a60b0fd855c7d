"""What a merge of tracker output on frames out of view costs the event loop of a real viewer, with
napari's view of the layer held (``merge(rows, hold_view=True)``, what a propagation does) and brought
up to date with every merge (``hold_view=False``), measured in the same run, taking turns.

A 1080p video stand-in is shown on frame 0 with a boxes layer of N boxes of one track; each merge puts
in a batch of new tracked boxes on later frames. The time of one merge is from the call until the
event loop has handled what the merge posted (the canvas repaint among it): how long a person's click
would wait. A display is needed (``xvfb-run -a``).

    xvfb-run -a -s "-screen 0 1920x1080x24" python benchmarks/held_view.py
    xvfb-run -a python benchmarks/held_view.py --boxes 1000 10000 --repeats 15
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from merge import track  # benchmarks/merge.py: a keyframe and the tracked boxes after it

from napari_siamtrack.io.box_csv import BoxRow
from napari_siamtrack.ui.boxes_layer import BoxesLayer
from napari_siamtrack.ui.layer_boxes import layer_kwargs

#: Boxes per merge: about what a propagation at a few frames per second merges at once.
BATCH = 3


def measure(viewer, n: int, repeats: int) -> dict[bool, float]:
    """Median seconds of a merge of :data:`BATCH` boxes into ``n`` and the events it posted, per
    ``hold_view``."""
    from qtpy.QtWidgets import QApplication

    app = QApplication.instance()
    kwargs = layer_kwargs(track(n))
    layer = viewer.add_shapes(kwargs.pop("data"), **kwargs)
    binding = BoxesLayer(layer)
    viewer.dims.set_current_step(0, 0)
    for _ in range(10):
        app.processEvents()
    times: dict[bool, list[float]] = {False: [], True: []}
    first = n
    for _ in range(repeats):
        for hold in (False, True):
            rows = [BoxRow(f, 1, 11.0, 12.0, 20.0, 20.0, 0.7, "tracked", False) for f in range(first, first + BATCH)]
            first += BATCH
            started = time.perf_counter()
            binding.merge(rows, hold_view=hold)
            app.processEvents()
            times[hold].append(time.perf_counter() - started)
            time.sleep(0.05)
            app.processEvents()
    binding.close()
    viewer.layers.remove(layer)
    return {hold: statistics.median(values) for hold, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boxes", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()

    import napari

    viewer = napari.Viewer()
    frames = max(args.boxes) + 2 * BATCH * args.repeats + 1
    viewer.add_image(np.broadcast_to(np.zeros((1, 1080, 1920), np.uint8), (frames, 1080, 1920)), name="video")
    results = {n: measure(viewer, n, args.repeats) for n in args.boxes}
    print(f"A merge of {BATCH} boxes off the shown frame, until the event loop has handled it "
          f"(median of {args.repeats} each, taking turns)")
    print("| boxes N | view refreshed (ms) | view held (ms) | held / refreshed |")
    print("|---:|---:|---:|---:|")
    for n, times in results.items():
        print(f"| {n:,} | {times[False] * 1000:.0f} | {times[True] * 1000:.0f} | {times[True] / times[False]:.2f} |")
    viewer.close()


if __name__ == "__main__":
    main()
