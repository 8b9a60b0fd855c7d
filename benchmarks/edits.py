"""What a person's edit costs as a boxes layer grows: the median time napari and the widget's binding
take to handle a drag of one tracked box (what napari does when a drag ends: the box's vertices shifted
while it is selected, then a CHANGED data event) and the drawing of one new box, in a napari Shapes
layer that already holds N boxes of one track, beside the same edits on a plain Shapes layer with the
same shapes and no binding (napari's own share), in the same run. Each edit runs on the GUI thread, so
its time is how long the viewer waits after a person lets go of the mouse.

    python benchmarks/edits.py                 # 1,000 and 10,000 boxes
    python benchmarks/edits.py --boxes 500 20000
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from napari.layers import Shapes

from napari_siamtrack.io.box_csv import BoxRow
from napari_siamtrack.ui.boxes_layer import BoxesLayer
from napari_siamtrack.ui.layer_boxes import layer_kwargs, rectangle


def track(n: int) -> list[BoxRow]:
    """A keyframe on frame 0 and ``n - 1`` tracked boxes after it."""
    return [BoxRow(0, 1, 10.0, 10.0, 20.0, 20.0, 1.0, "manual", True)] + [
        BoxRow(f, 1, 10.0 + f % 7, 10.25, 20.5, 20.0, 0.8, "tracked", False) for f in range(1, n)
    ]


def drag(layer: Shapes, index: int) -> float:
    """Seconds napari's end of a drag of shape ``index`` takes to be handled."""
    layer.selected_data = {index}
    layer._data_view.shift(index, np.array([2.0, 3.0]))  # what napari's drag does to the vertices
    started = time.perf_counter()
    layer.events.data(value=layer.data, action="changed", data_indices=(index,), vertex_indices=((),))
    seconds = time.perf_counter() - started
    layer.selected_data = set()
    return seconds


def draw(layer: Shapes, frame: int) -> float:
    """Seconds adding one new rectangle on ``frame`` takes, with whatever reacts to it."""
    box = rectangle(BoxRow(frame, 1, 30.0, 30.0, 12.0, 9.0, 1.0, "manual", True))
    started = time.perf_counter()
    layer.add_rectangles(box)
    return time.perf_counter() - started


def measure(n: int, repeats: int) -> dict[str, float]:
    """Median seconds of each edit with the binding and on a plain layer."""
    kwargs = layer_kwargs(track(n))
    data = kwargs.pop("data")
    binding = BoxesLayer(Shapes(data, **kwargs))  # kept: napari holds its handlers weakly
    bound, plain = binding.layer, Shapes(data, **kwargs)
    times: dict[str, list[float]] = {"drag": [], "drag plain": [], "draw": [], "draw plain": []}
    for k in range(repeats):
        index = 1 + (37 * k) % (n - 1)  # a tracked box each time
        times["drag"].append(drag(bound, index))
        times["drag plain"].append(drag(plain, index))
        times["draw"].append(draw(bound, 1 + k % (n - 1)))
        times["draw plain"].append(draw(plain, 1 + k % (n - 1)))
    dragged = [1 + (37 * k) % (n - 1) for k in range(repeats)]
    assert binding.layer.features["keyframe"].iloc[dragged].all(), "a dragged box is a keyframe"
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boxes", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    print(f"A person's edit in a layer of N boxes (median of {args.repeats}, ms)")
    print("| boxes N | drag of one box | napari alone | ratio | drawing one box | napari alone | ratio |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.boxes:
        t = measure(n, args.repeats)
        print(f"| {n:,} | {t['drag'] * 1000:.0f} | {t['drag plain'] * 1000:.0f} | {t['drag'] / t['drag plain']:.2f} | "
              f"{t['draw'] * 1000:.0f} | {t['draw plain'] * 1000:.0f} | {t['draw'] / t['draw plain']:.2f} |")


if __name__ == "__main__":
    main()
