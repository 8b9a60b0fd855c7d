"""The fuzz table: hostile files read the way the plugin reads them, and opened in a real napari viewer
that holds a boxes layer.

For each reader (boxes CSV, ground-truth text, video, TIFF stack, weights), every named case of
``tests/hostile.py`` and ``--damaged`` randomly damaged copies of a good file are read: a crash is any
exception other than the reader's one-line error (or a message of several lines, or code a pickle
ran), and for frames a frame of the wrong shape or dtype, or (named cases) a frame that differs when
read in order and by index. Boxes CSVs and videos are then opened in napari with the plugin's readers, TIFF stacks with
napari's, and the named weights cases loaded by the Propagate widget for a propagation; after each,
the boxes layer must hold exactly what it held before. Run under a display (``xvfb-run -a``):

    xvfb-run -a python benchmarks/fuzz.py --damaged 200
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from hostile import CASES, READERS, Crash, attempt, good_file, mutants

from napari_siamtrack.io.box_csv import BoxRow

#: Which readers are opened in napari, and with which plugin (None: napari's choice).
IN_NAPARI = {"boxes CSV": "napari-siamtrack", "video": "napari-siamtrack", "TIFF stack": None}
ROWS = [BoxRow(f, 1, 10.0 + f, 5.0, 8.0, 6.0, 0.8, "tracked", False) for f in range(1, 6)]
ROWS.insert(0, BoxRow(0, 1, 10.0, 5.0, 8.0, 6.0, 1.0, "manual", True))


class Viewer:
    """A napari viewer with a video and a boxes layer, and the means to tell whether the boxes survived."""

    def __init__(self) -> None:
        import napari

        from napari_siamtrack.ui.layer_boxes import layer_kwargs

        self.viewer = napari.Viewer(show=False)
        self.viewer.add_image(np.zeros((6, 48, 64), np.uint8), name="video")
        kwargs = layer_kwargs(ROWS, name="boxes")
        self.boxes = self.viewer.add_shapes(kwargs.pop("data"), **kwargs)
        self.data = [np.array(d) for d in self.boxes.data]
        self.features = self.boxes.features.copy()
        self.widget = None

    def intact(self) -> bool:
        layers = list(self.viewer.layers)
        return (
            [layer.name for layer in layers] == ["video", "boxes"]
            and layers[1] is self.boxes
            and len(self.boxes.data) == len(self.data)
            and all(np.array_equal(a, b) for a, b in zip(self.boxes.data, self.data))
            and self.boxes.features.equals(self.features)
        )

    def open(self, path: Path, plugin: str | None) -> bool:
        """Open ``path`` (whatever napari says about it), close what it added; True if no box was lost."""
        try:
            added = self.viewer.open(str(path), plugin=plugin)
        except ValueError:  # napari's reader errors; the plugin's own message is checked by attempt()
            added = []
        for layer in added:
            self.viewer.layers.remove(layer)
        return self.intact()

    def propagate_with(self, weights: Path) -> bool:
        """Propagate with a tracker that loads ``weights``; True if no box was lost."""
        from qtpy.QtWidgets import QApplication

        from napari_siamtrack.tracking.tracker import Tracker
        from napari_siamtrack.ui.widget import PropagateWidget

        if self.widget is None:
            self.widget = PropagateWidget(self.viewer)
        self.widget.tracker_factory = lambda: Tracker(weights=weights, device="cpu")
        self.viewer.dims.set_current_step(0, 0)
        self.widget.propagate()
        deadline = time.monotonic() + 120
        while self.widget.worker is not None and time.monotonic() < deadline:
            QApplication.processEvents()
            time.sleep(0.01)
        return self.intact()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--damaged", type=int, default=200, help="damaged copies of a good file per reader")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    viewer = Viewer()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for reader in READERS:
            counts, started = Counter(), time.perf_counter()
            files = []
            for k, case in enumerate(c for c in CASES if c.reader == reader):
                folder = work / f"{reader}-{k}"
                folder.mkdir()
                files.append(("named", case.make(folder), case.readable))
            good = good_file(reader, work)
            for k, data in enumerate(mutants(good.read_bytes(), args.damaged, args.seed)):
                path = work / f"damaged-{k}{good.suffix}"
                path.write_bytes(data)
                files.append(("damaged", path, None))
            for kind, path, readable in files:
                try:
                    message = attempt(reader, path, exact=kind == "named")
                    counts[kind, "read" if message is None else "refused"] += 1
                    if readable is not None and (message is None) != readable:
                        counts["unexpected"] += 1
                except Crash as crash:
                    counts["crash"] += 1
                    print(f"crash: {crash}", file=sys.stderr)
                if reader in IN_NAPARI:
                    counts["lost"] += not viewer.open(path, IN_NAPARI[reader])
                elif reader == "weights" and kind == "named":
                    counts["lost"] += not viewer.propagate_with(path)
                if kind == "damaged":
                    path.unlink()
            rows.append((reader, counts, time.perf_counter() - started))

    print(f"\nHostile input, {args.damaged} damaged copies per reader (seed {args.seed})")
    print("| reader | named cases: read / refused | damaged copies: read / refused | crashes | boxes lost |")
    print("|---|---:|---:|---:|---:|")
    for reader, c, seconds in rows:
        checked = reader in IN_NAPARI or reader == "weights"
        print(
            f"| {reader} | {c['named', 'read']} / {c['named', 'refused']} | {c['damaged', 'read']} / "
            f"{c['damaged', 'refused']} | {c['crash']} | {c['lost'] if checked else '–'} |"
            + (f" {c['unexpected']} named cases gave the wrong outcome" if c["unexpected"] else "")
        )


if __name__ == "__main__":
    main()
