"""Training crops cached on disk: every annotated frame cropped once around its target.

Each crop is ``instance_size`` pixels square, centred on the target, scaled so that the SiamFC context
square ``s_z = sqrt((w + p)(h + p))``, ``p = context_amount * (w + h)``, is ``exemplar_size`` pixels:
the search-region scale of the tracker. Outside the frame the crop takes the frame's mean colour.
Sequences that already are such a pack (the shipped training pack is) come through unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..io.sequences import Sequence
from ..tracking.config import TrackerConfig

_VERSION = 1


@dataclass(frozen=True)
class CropCache:
    """Cached crops: (N, S, S, 3) uint8, each with its sequence index and original frame number."""

    crops: np.ndarray
    sequence: np.ndarray  # (N,) int, index into ``names``
    frame_number: np.ndarray  # (N,) int
    names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.crops)

    @property
    def size(self) -> int:
        return int(self.crops.shape[1])


def build_cache(
    sequences: list[Sequence],
    folder: str | Path,
    exemplar_size: int = 127,
    instance_size: int = 255,
    context_amount: float = 0.5,
    progress=None,
) -> CropCache:
    """Crop every annotated frame of ``sequences`` into ``folder`` (reused when it already matches)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    key = _key(sequences, exemplar_size, instance_size, context_amount)
    index_path = folder / "index.json"
    if index_path.is_file() and json.loads(index_path.read_text()).get("key") == key:
        return _open(folder)

    items = [(si, i) for si, seq in enumerate(sequences) for i in np.flatnonzero(seq.valid)]
    if not items:
        raise ValueError("the training sequences have no annotated frames")
    tmp = folder / "crops.npy.tmp"
    crops = np.lib.format.open_memmap(
        tmp, mode="w+", dtype=np.uint8, shape=(len(items), instance_size, instance_size, 3)
    )
    for n, (si, i) in enumerate(progress(items) if progress else items):
        seq = sequences[si]
        crops[n] = crop_around_box(
            seq.read(i), seq.boxes[i], exemplar_size, instance_size, context_amount
        )
    crops.flush()
    del crops
    os.replace(tmp, folder / "crops.npy")
    np.savez(
        folder / "meta.npz",
        sequence=np.array([si for si, _ in items], dtype=np.int64),
        frame_number=np.array([sequences[si].frame_numbers[i] for si, i in items], dtype=np.int64),
    )
    index_path.write_text(json.dumps({"key": key, "names": [s.name for s in sequences]}))
    return _open(folder)


def crop_around_box(
    image: np.ndarray, box, exemplar_size: int, instance_size: int, context_amount: float
) -> np.ndarray:
    """The search-scale crop (instance_size square, uint8) centred on ``box`` (0-based x, y, w, h)."""
    import torch

    from ..tracking.crops import crop_and_resize

    x, y, w, h = (float(v) for v in box)
    p = context_amount * (w + h)
    side = np.sqrt((w + p) * (h + p)) * instance_size / exemplar_size
    frame = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float()
    fill = frame.mean(dim=(1, 2))
    crop = crop_and_resize(
        frame - fill[:, None, None],
        torch.tensor([[x + w / 2, y + h / 2]]),
        torch.tensor([side]),
        instance_size,
        fill,
    )[0]
    return crop.round().clamp(0, 255).byte().permute(1, 2, 0).numpy()


def _open(folder: Path) -> CropCache:
    meta = np.load(folder / "meta.npz")
    names = tuple(json.loads((folder / "index.json").read_text())["names"])
    crops = np.load(folder / "crops.npy", mmap_mode="r")
    return CropCache(crops, meta["sequence"], meta["frame_number"], names)


def _key(sequences, exemplar_size, instance_size, context_amount) -> str:
    parts = [str(_VERSION), str(exemplar_size), str(instance_size), str(context_amount)]
    for seq in sequences:
        parts.append(f"{seq.frames[0].parent}:{len(seq)}:{np.nansum(seq.boxes):.3f}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def calibration_batches(
    sequences: list[Sequence], frames: int = 256, seed: int = 0, config: TrackerConfig | None = None,
    batch: int = 8,
) -> Iterator[torch.Tensor]:
    """What the tracker feeds its backbone, from ``frames`` annotated frames drawn at random: search
    crops centred on the box, then the template crops inside them (the centre ``exemplar_size`` px)."""
    c = config or TrackerConfig()
    items = [(seq, i) for seq in sequences for i in np.flatnonzero(seq.valid)]
    if not items:
        raise ValueError("the calibration sequences have no annotated frames")
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(items), size=min(frames, len(items)), replace=False)
    lo = (c.instance_size - c.exemplar_size) // 2
    for start in range(0, len(chosen), batch):
        crops = np.stack([
            crop_around_box(seq.read(i), seq.boxes[i], c.exemplar_size, c.instance_size, c.context_amount)
            for seq, i in (items[j] for j in chosen[start:start + batch])
        ])
        search = torch.from_numpy(crops).permute(0, 3, 1, 2).float()
        yield search
        yield search[:, :, lo:lo + c.exemplar_size, lo:lo + c.exemplar_size]
