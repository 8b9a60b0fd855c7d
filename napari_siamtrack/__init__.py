"""napari-siamtrack: draw one box, and a SiamFC+ tracker boxes the target on every other frame.

``from napari_siamtrack import Tracker`` is the public tracking API (see :mod:`napari_siamtrack.tracking.tracker`).
torch is imported only when it is first used, so importing this package (as napari does at start-up)
stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Tracker", "TrackerConfig", "__version__"]

if TYPE_CHECKING:
    from .tracking.config import TrackerConfig
    from .tracking.tracker import Tracker


def __getattr__(name: str) -> Any:
    if name == "Tracker":
        from .tracking.tracker import Tracker

        return Tracker
    if name == "TrackerConfig":
        from .tracking.config import TrackerConfig

        return TrackerConfig
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
