"""What made each output, so that a rerun knows which videos are finished: ``<name>.batch.json``.

Beside each boxes CSV the batch writes a record: the *fingerprint* of what the boxes depend on (the
video's path, size and modification time; its starts with their labels; the tracker: the SHA-256 of
the weights file, the other tracker options and the package version), the SHA-256 of the boxes CSV as written,
and the numbers of the run. With it, a rerun decides per video (:func:`decide`):

- no boxes CSV yet: track;
- CSV unchanged and the same fingerprint: finished, skip it;
- CSV unchanged but another fingerprint (new starts, another video file or tracker): track again;
- CSV changed since the batch wrote it (a person proofread it) and the same fingerprint: keep it;
- a CSV the batch did not write, or changed with another fingerprint: never overwritten; the video
  fails with a message that says to move the file away.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from ..io.atomic import atomic_path
from .jobs import VideoJob

RECORD_SUFFIX = ".batch.json"


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(job: VideoJob, tracker: dict[str, Any]) -> dict[str, Any]:
    """What ``job``'s boxes depend on, as plain JSON values; ``tracker`` describes the tracker."""
    try:
        stat = job.video.stat()
        video = {"path": str(job.video), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    except OSError:
        video = {"path": str(job.video), "missing": True}
    starts = [
        {"frame": s.frame, "track_id": s.track_id, "box": list(s.box), "label": s.label}
        for s in sorted(job.starts, key=lambda s: s.track_id)
    ]
    return json.loads(json.dumps({"video": video, "starts": starts, "tracker": tracker}, default=str))


def record_path(boxes_csv: Path) -> Path:
    return boxes_csv.with_name(boxes_csv.name.removesuffix(".boxes.csv") + RECORD_SUFFIX)


def read_record(path: Path) -> dict[str, Any] | None:
    """The record at ``path``, or None when there is none (or it is not one)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and "fingerprint" in record else None


def write_record(path: Path, record: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def decide(boxes_csv: Path, fingerprint: dict[str, Any]) -> tuple[str, str]:
    """``(action, message)`` for a video whose boxes go to ``boxes_csv``: action ``track``, ``skipped``,
    ``kept`` or ``failed`` (see the module docstring); ``message`` says why it failed."""
    if not boxes_csv.exists():
        return "track", ""
    record = read_record(record_path(boxes_csv))
    if record is None:
        return "failed", (
            f"{boxes_csv} exists and was not written by siamtrack batch; move it away to track this video"
        )
    unchanged = sha256_file(boxes_csv) == record.get("boxes_sha256")
    same = record["fingerprint"] == fingerprint
    if unchanged:
        return ("skipped" if same else "track"), ""
    if same:
        return "kept", ""
    return "failed", (
        f"{boxes_csv} was changed after siamtrack batch wrote it, and its starts, video or tracker have "
        "changed since; move it away to track this video again"
    )
