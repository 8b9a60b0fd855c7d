"""What merging tracker output costs the GUI thread as a boxes layer grows: the median time of
:meth:`~napari_siamtrack.ui.boxes_layer.BoxesLayer.merge` putting in a batch of 10 new tracked boxes,
in a napari Shapes layer that already holds N boxes of one track, beside the time of reading every
shape of that layer as boxes (:func:`~napari_siamtrack.ui.layer_boxes.read_boxes`), in the same run.
A merge runs on the GUI thread while a propagation goes on, so its cost is the longest the viewer
waits for it.

    python benchmarks/merge.py                 # 1,000, 3,000 and 10,000 boxes
    python benchmarks/merge.py --boxes 500 20000
"""

from __future__ import annotations

import argparse
import statistics
import time

from napari.layers import Shapes

from napari_siamtrack.io.box_csv import BoxRow
from napari_siamtrack.ui.boxes_layer import BoxesLayer
from napari_siamtrack.ui.layer_boxes import layer_kwargs, read_boxes

BATCH = 10


def track(n: int) -> list[BoxRow]:
    """A keyframe on frame 0 and ``n - 1`` tracked boxes after it."""
    return [BoxRow(0, 1, 10.0, 10.0, 20.0, 20.0, 1.0, "manual", True)] + [
        BoxRow(f, 1, 10.0 + f % 7, 10.25, 20.5, 20.0, 0.8, "tracked", False) for f in range(1, n)
    ]


def measure(n: int, repeats: int) -> tuple[float, float]:
    """Median seconds of a merge of :data:`BATCH` boxes into ``n``, and of reading every shape."""
    kwargs = layer_kwargs(track(n))
    binding = BoxesLayer(Shapes(kwargs.pop("data"), **kwargs))
    merges, reads = [], []
    for k in range(repeats):
        first = n + k * BATCH
        frames = range(first, first + BATCH)
        rows = [BoxRow(f, 1, 11.0, 12.0, 20.0, 20.0, 0.7, "tracked", False) for f in frames]
        started = time.perf_counter()
        binding.merge(rows)
        merges.append(time.perf_counter() - started)
        layer = binding.layer
        started = time.perf_counter()
        read_boxes(layer.data, layer.shape_type, layer.features)
        reads.append(time.perf_counter() - started)
    return statistics.median(merges), statistics.median(reads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boxes", type=int, nargs="+", default=[1000, 3000, 10_000])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    results = {n: measure(n, args.repeats) for n in args.boxes}
    first = args.boxes[0]
    print(f"Merging {BATCH} tracked boxes into a layer of N boxes (median of {args.repeats})")
    print(f"| boxes N | merge (ms) | vs {first:,} boxes | reading every shape (ms) | merge / reading |")
    print("|---:|---:|---:|---:|---:|")
    for n, (merge, read) in results.items():
        print(f"| {n:,} | {merge * 1000:.0f} | {merge / results[first][0]:.2f} | {read * 1000:.0f} | "
              f"{merge / read:.2f} |")


if __name__ == "__main__":
    main()
