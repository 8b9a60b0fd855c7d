"""SiamFC training pairs: a template and a search crop of one target, with augmentation and labels.

A pair takes a template frame uniformly from one target's annotated frames and a search frame within
``frame_range`` original frames of it (the same frame is allowed). Both come from the crop cache, where
the target sits at the centre at search scale. Each crop is shifted and scaled at random (independent
x and y factors), colour-jittered, sometimes turned grey (both crops together) or blurred (the search
crop, or along a random line as fast motion does). The label map marks the score cells within L1
distance ``radius`` of the target's true centre after the shift. A ``negative`` fraction of pairs takes
the search crop from another target, with an all-negative label, and a ``distractor`` fraction gets
another target pasted in beside the true one (its cells stay negative): both teach the network to
score other objects low, not just plain background.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .augment import blur, grey, jitter_colour, motion_blur
from .cache import CropCache
from .settings import Augmentation


class PairDataset(torch.utils.data.Dataset):
    """``pairs`` random pairs per epoch; item ``i`` of epoch ``e`` depends only on (seed, e, i)."""

    def __init__(
        self,
        cache: CropCache,
        pairs: int,
        augmentation: Augmentation = Augmentation(),  # noqa: B008 - frozen, so one shared default is safe
        frame_range: int = 100,
        exemplar_size: int = 127,
        instance_size: int = 255,
        stride: int = 8,
        radius: float = 2.0,
        seed: int = 0,
    ) -> None:
        self.cache = cache
        self.pairs = pairs
        self.aug = augmentation
        self.frame_range = frame_range
        self.exemplar_size = exemplar_size
        self.instance_size = instance_size
        self.stride = stride
        self.radius = radius
        self.seed = seed
        self.epoch = 0
        self.score_size = (instance_size - exemplar_size) // stride + 1
        order = np.lexsort((cache.frame_number, cache.sequence))
        self._items = [order[cache.sequence[order] == s] for s in range(len(cache.names))]
        self._items = [items for items in self._items if len(items)]

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.pairs

    def __getitem__(self, index: int):
        """(template (3, 127, 127), search (3, 255, 255), label (1, 17, 17)) float32 tensors, RGB 0-255."""
        rng = np.random.default_rng((self.seed, self.epoch, index))
        a = self.aug
        items = self._items[rng.integers(len(self._items))]
        t = items[rng.integers(len(items))]
        negative = rng.random() < a.negative and len(self._items) > 1
        if negative:
            s = self._other_target(items, rng)
        else:
            numbers = self.cache.frame_number[items]
            near = items[np.abs(numbers - self.cache.frame_number[t]) <= self.frame_range]
            s = near[rng.integers(len(near))]

        template, _ = self._warp(t, self.exemplar_size, a.template_shift, a.template_scale, rng)
        search, centre = self._warp(s, self.instance_size, a.search_shift, a.search_scale, rng)
        if rng.random() < a.distractor and len(self._items) > 1:
            self._paste_distractor(search, centre, items, rng)
        template = jitter_colour(template, a.color, rng)
        search = jitter_colour(search, a.color, rng)
        if rng.random() < a.gray:
            template, search = grey(template), grey(search)
        if rng.random() < a.blur:
            search = blur(search, rng.uniform(0.5, 2.0))
        if rng.random() < a.motion_blur:
            search = motion_blur(search, rng.uniform(4.0, 16.0), rng.uniform(0.0, np.pi))
        label = torch.zeros(1, self.score_size, self.score_size)
        if not negative:
            label[0] = self._label(centre)
        return template.clamp(0, 255), search.clamp(0, 255), label

    def _warp(self, item: int, out: int, shift: float, scale: float, rng):
        """Crop ``out`` pixels around a shifted centre at a jittered scale; also returns where the
        target's centre lands, in output pixels relative to the output's centre."""
        crop = torch.from_numpy(np.array(self.cache.crops[item])).permute(2, 0, 1).float()
        size = crop.shape[-1]
        d = rng.uniform(-shift, shift, size=2)  # source pixels (x, y)
        f = 1.0 + rng.uniform(-scale, scale, size=2)  # source pixels per output pixel (x, y)
        steps = torch.arange(out, dtype=torch.float32) + 0.5 - out / 2
        gx = (size / 2 + d[0] + steps * f[0]) * (2.0 / size) - 1.0
        gy = (size / 2 + d[1] + steps * f[1]) * (2.0 / size) - 1.0
        grid = torch.stack(torch.meshgrid(gx, gy, indexing="xy"), dim=-1)[None]
        fill = crop.mean(dim=(1, 2))[:, None, None]
        warped = F.grid_sample((crop - fill)[None], grid, align_corners=False)[0] + fill
        return warped, -d / f

    def _other_target(self, items, rng) -> int:
        """A random crop of a target other than the one whose crops are ``items``."""
        others = [i for i in self._items if i is not items]
        other = others[rng.integers(len(others))]
        return other[rng.integers(len(other))]

    def _paste_distractor(self, search: torch.Tensor, centre: np.ndarray, items, rng) -> None:
        """Paste the middle of another target's crop, feathered and rescaled by 0.7-1.3, into
        ``search`` (in place) at least 8 score cells from the target's ``centre``."""
        crop = self.cache.crops[self._other_target(items, rng)]
        half = self.exemplar_size // 3  # the cache puts a target of about exemplar_size / 2 in the middle
        mid = crop.shape[0] // 2
        patch = torch.from_numpy(np.array(crop[mid - half : mid + half, mid - half : mid + half]))
        side = max(8, round(2 * half * rng.uniform(0.7, 1.3)))
        patch = F.interpolate(patch.permute(2, 0, 1)[None].float(), size=(side, side), mode="bilinear")[0]
        radius = torch.hypot(*torch.meshgrid(*(torch.linspace(-1, 1, side),) * 2, indexing="ij"))
        alpha = (2 * (1 - radius)).clamp(0, 1)  # opaque core, soft rim
        target = self.instance_size / 2 + centre
        for _ in range(10):
            where = rng.uniform(side / 2, self.instance_size - side / 2, size=2)
            if np.hypot(*(where - target)) >= 8 * self.stride:
                x0, y0 = (int(v) for v in where - side / 2)
                region = search[:, y0 : y0 + side, x0 : x0 + side]
                region.mul_(1 - alpha).add_(alpha * patch)
                return

    def _label(self, centre: np.ndarray) -> torch.Tensor:
        """1 on score cells within L1 distance ``radius`` of ``centre`` (output pixels from the middle)."""
        mid = (self.score_size - 1) / 2
        cells = torch.arange(self.score_size, dtype=torch.float32) - mid
        dx = (cells[None, :] - centre[0] / self.stride).abs()
        dy = (cells[:, None] - centre[1] / self.stride).abs()
        return (dx + dy <= self.radius).float()
