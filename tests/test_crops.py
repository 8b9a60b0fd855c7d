"""Crops: reading only the region the crops cover gives the crops of the whole frame."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from napari_siamtrack.tracking.crops import covering_region, crop_and_resize


@pytest.mark.parametrize("seed", range(6))
def test_crops_from_the_covering_region_equal_crops_from_the_frame(seed):
    rng = np.random.default_rng(seed)
    height, width = 90, 130
    frame = torch.from_numpy(rng.uniform(0, 255, (3, height, width)))
    fill = torch.tensor([10.0, 20.0, 30.0], dtype=frame.dtype)
    # Centres anywhere from outside the left/top edge to outside the right/bottom one.
    centres = torch.from_numpy(rng.uniform((-20, -20), (width + 20, height + 20), size=(3, 2)))
    sizes = torch.from_numpy(rng.uniform(3, 60, size=3))
    out = int(rng.choice([7, 17, 31]))
    expected = crop_and_resize(frame - fill[:, None, None], centres, sizes, out, fill)

    x0, y0, x1, y1 = covering_region(centres, sizes, out, width, height)
    assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
    assert x1 - x0 >= 2 and y1 - y0 >= 2
    region = frame[:, y0:y1, x0:x1] - fill[:, None, None]
    found = crop_and_resize(region, centres - torch.tensor([x0, y0]), sizes, out, fill)
    torch.testing.assert_close(found, expected, rtol=0, atol=1e-9)


def test_the_region_is_small_for_a_small_crop_in_a_large_frame():
    centres = torch.tensor([[1000.0, 500.0]], dtype=torch.float64)
    x0, y0, x1, y1 = covering_region(centres, torch.tensor([100.0], dtype=torch.float64), 255, 1920, 1080)
    assert (x1 - x0, y1 - y0) == (102, 102)
