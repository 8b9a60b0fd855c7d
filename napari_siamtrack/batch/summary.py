"""``summary.csv``: one line per video of a batch, what happened to it and how it went."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..annotation.review import confidences
from ..annotation.track_table import TrackTable
from ..io.atomic import atomic_path
from ..io.box_csv import BoxRow

COLUMNS = (
    "video", "output", "targets", "frames", "seconds", "frames_per_second", "mean_score",
    "frames_below_review", "status", "error",
)
#: ``done``: tracked in this run; ``skipped``: finished by an earlier run; ``kept``: finished earlier and
#: changed since by a person; ``failed``: see ``error``; ``cancelled``: the run stopped before it finished.
STATUSES = ("done", "skipped", "kept", "failed", "cancelled")


@dataclass(frozen=True)
class VideoSummary:
    """``frames``: frames read and tracked (from each start frame to the last); ``seconds``: the time
    that took on its worker; ``mean_score``: of the tracked boxes; ``frames_below_review``: frames with a
    box whose review confidence is below the threshold. Numbers are None where the video has no boxes."""

    video: str
    output: str
    targets: int
    status: str
    error: str = ""
    frames: int | None = None
    seconds: float | None = None
    mean_score: float | None = None
    frames_below_review: int | None = None

    @property
    def frames_per_second(self) -> float | None:
        if self.frames is None or not self.seconds:
            return None
        return self.frames / self.seconds


def score_numbers(rows: Sequence[BoxRow], threshold: float) -> tuple[float | None, int]:
    """The mean score of the tracked boxes in ``rows``, and how many frames have a box whose review
    confidence (:func:`~napari_siamtrack.annotation.review.confidences`) is below ``threshold``."""
    tracked = [row.score for row in rows if row.source == "tracked"]
    mean = sum(tracked) / len(tracked) if tracked else None
    below = {frame for (_, frame), value in confidences(TrackTable(rows)).items() if value < threshold}
    return mean, len(below)


def _cells(summary: VideoSummary) -> list[str]:
    def number(value, digits: int) -> str:
        return "" if value is None else f"{value:.{digits}f}"

    return [
        summary.video, summary.output, str(summary.targets),
        "" if summary.frames is None else str(summary.frames),
        number(summary.seconds, 2), number(summary.frames_per_second, 1), number(summary.mean_score, 4),
        "" if summary.frames_below_review is None else str(summary.frames_below_review),
        summary.status, " ".join(summary.error.split()),
    ]


def write_summary(path: str | os.PathLike, summaries: Iterable[VideoSummary]) -> None:
    """Write ``summaries`` as a CSV file, atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(_cells(s) for s in summaries)
