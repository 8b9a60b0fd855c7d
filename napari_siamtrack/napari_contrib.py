"""npe2 contributions (the functions ``napari.yaml`` names). Nothing here imports napari or Qt."""

from __future__ import annotations


def make_sample_data() -> list[tuple]:
    """The synthetic sample video as an RGB image layer (T, H, W, 3)."""
    from .sample import make_sample

    return [(make_sample().frames, {"name": "siamtrack sample", "rgb": True}, "image")]
