"""Make hard validation sequences from a folder of training sequences (OTB layout, e.g. the training
pack): for each of ``--count`` targets, one video where a look-alike (the same target at another
moment, so another pose) crosses it, and one where it passes behind an occluder (a patch of another
sequence). Backgrounds come from other sequences. The result is an OTB-layout folder that
``siamtrack bench`` and ``benchmarks/crossval.py`` read.

    python benchmarks/make_hard_cases.py ../shared/data/train --out hard-cases --count 6

Targets are scaled to at most 70 px. The cases are made from the data, so they are written where
``--out`` says, never into the repository.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from napari_siamtrack.bench.generated import crossing, hidden, write_sequence
from napari_siamtrack.io.sequences import find_sequences


def _patch(seq, i: int, scale: float) -> np.ndarray:
    from skimage.transform import resize

    x, y, w, h = seq.boxes[i]
    frame = seq.read(i).astype(np.float64)
    x0, y0 = int(max(x, 0)), int(max(y, 0))
    patch = frame[y0 : int(y + h), x0 : int(x + w)]
    size = (max(8, round(patch.shape[0] * scale)), max(8, round(patch.shape[1] * scale)))
    return resize(patch, size, preserve_range=True, anti_aliasing=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="folder of training sequences")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--count", type=int, default=6, help="targets (each gives two sequences)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    sequences = [s for s in find_sequences(args.data) if s.valid.sum() >= 20]
    chosen = rng.choice(len(sequences), size=min(args.count, len(sequences)), replace=False)
    for n, index in enumerate(chosen):
        seq = sequences[index]
        valid = np.flatnonzero(seq.valid)
        first, other = valid[0], valid[len(valid) // 2]
        scale = min(1.0, 70.0 / max(seq.boxes[first][2:]))  # targets of at most 70 px
        target, look_alike = _patch(seq, first, scale), _patch(seq, other, scale)
        if look_alike.shape != target.shape:
            from skimage.transform import resize

            look_alike = resize(look_alike, target.shape, preserve_range=True, anti_aliasing=True)
        background = sequences[(index + 1 + n) % len(sequences)]
        back = background.read(int(rng.choice(np.flatnonzero(background.valid))))
        blocker = sequences[(index + 7 + n) % len(sequences)]
        occluder = _patch(blocker, int(np.flatnonzero(blocker.valid)[0]), 1.0)
        from skimage.transform import resize

        occluder = resize(occluder, (round(target.shape[0] * 2.2), round(target.shape[1] * 1.6)),
                          preserve_range=True, anti_aliasing=True)
        video, boxes = crossing(target, look_alike, back, frames=90, gap=0.5, seed=n)
        write_sequence(args.out / f"crossing_{seq.name}", video, boxes)
        video, boxes = hidden(target, occluder, back, frames=90, seed=n)
        write_sequence(args.out / f"hidden_{seq.name}", video, boxes)
        print(f"{seq.name}: crossing and hidden cases written")


if __name__ == "__main__":
    main()
