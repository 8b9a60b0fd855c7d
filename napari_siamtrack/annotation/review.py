"""Which boxes a person should look at: tracked boxes that score below a review threshold."""

from __future__ import annotations

from ..io.box_csv import BoxRow
from .track_table import is_protected

#: Tracked boxes scoring below this are drawn for review. With the shipped network (window influence
#: 0.35), on 1,074 frames of six hard validation sequences (26 % with IoU < 0.5), 0.6 flags 21 % of frames
#: and 53 % of the failures, and 66 % of the flagged frames are failures. Good boxes score 0.86 (median),
#: failures 0.58.
DEFAULT_THRESHOLD = 0.6


def needs_review(row: BoxRow, threshold: float = DEFAULT_THRESHOLD) -> bool:
    """Whether ``row`` is tracker output scoring below ``threshold`` (a person's boxes never are)."""
    return not is_protected(row) and row.score < threshold
