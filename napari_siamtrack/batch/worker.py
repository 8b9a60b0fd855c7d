"""The work of one video: :func:`track_job` anywhere, :func:`track_on_worker` as a Dask task.

A worker keeps one tracker per worker thread, made on its first video and reused for the next ones
(``Tracker.init`` starts afresh), so the weights load once. Tracking is ``siamtrack track``'s own
:func:`~napari_siamtrack.annotation.track_frames.track_forward`, so a video's boxes are the same bytes
either way. Progress goes to the client as worker events, a few a second.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..annotation.track_frames import track_forward
from ..io.box_csv import BoxRow
from ..io.sources import open_frames
from .jobs import VideoJob

#: Seconds between two progress events of one video.
PROGRESS_INTERVAL = 0.5


class TrackerSetupError(ValueError):
    """The tracker cannot be made on a worker (bad weights, an unavailable device …): no video can run."""


@dataclass(frozen=True)
class TrackerSpec:
    """How workers make the tracker (``make``, picklable, e.g. ``siamtrack``'s own), and what its boxes
    depend on (``settings``: plain JSON values, stored in each video's record)."""

    make: Callable[[], Any]
    settings: dict[str, Any]
    key: str = field(init=False)

    def __post_init__(self) -> None:
        text = json.dumps(self.settings, sort_keys=True, default=str)
        object.__setattr__(self, "key", hashlib.sha256(text.encode()).hexdigest())


@dataclass(frozen=True)
class Tracked:
    """A tracked video: its rows, the frames read and tracked, and the seconds that took."""

    rows: list[BoxRow]
    frames: int
    seconds: float
    worker: str
    device: str
    precision: str


def track_job(
    tracker, job: VideoJob, on_frame: Callable[[int, int], None] | None = None
) -> tuple[list[BoxRow], int]:
    """Every box of ``job`` (one forward run per start frame), and the number of frames read and tracked.
    ``on_frame(done, total)`` is called after each frame."""
    with open_frames(job.video) as source:
        runs = job.runs()
        total, done = sum(max(len(source) - frame, 0) for frame, _ in runs), 0
        rows: list[BoxRow] = []
        for frame, starts in runs:
            boxes, ids = [s.box for s in starts], [s.track_id for s in starts]
            for frame_rows in track_forward(tracker, source, boxes, frame, track_ids=ids):
                rows.extend(frame_rows)
                done += 1
                if on_frame is not None:
                    on_frame(done, total)
    return rows, done


def track_on_worker(job: VideoJob, spec: TrackerSpec, topic: str) -> Tracked:
    """The Dask task for ``job``: progress events on ``topic`` carry ``{"video", "done", "total"}``."""
    from distributed import get_worker

    worker = get_worker()
    tracker = _thread_tracker(spec, worker.name)
    last = 0.0

    def report(done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= PROGRESS_INTERVAL or done == total:
            worker.log_event(topic, {"video": job.stem, "done": done, "total": total})
            last = now

    start = time.perf_counter()
    rows, frames = track_job(tracker, job, report)
    seconds = time.perf_counter() - start
    return Tracked(rows, frames, seconds, worker.address, str(tracker.device), tracker.precision)


_local = threading.local()


def _thread_tracker(spec: TrackerSpec, worker_name: object):
    """This worker thread's tracker for ``spec``, made the first time it is asked for."""
    if getattr(_local, "key", None) != spec.key:
        _local.key = _local.tracker = None
        _spread_over_gpus(worker_name)
        try:
            tracker = spec.make()
        except Exception as exc:  # noqa: BLE001 - any failure here would fail every video the same way
            raise TrackerSetupError(f"cannot make the tracker: {exc}") from None
        _local.key, _local.tracker = spec.key, tracker
    return _local.tracker


def gpu_for_worker(worker_name: object, gpus: int) -> str | None:
    """The GPU a local cluster's worker ``worker_name`` (0, 1, …) uses when the machine has several."""
    if isinstance(worker_name, int) and gpus > 1:
        return f"cuda:{worker_name % gpus}"
    return None


def _spread_over_gpus(worker_name: object) -> None:
    """On a machine with several GPUs, give each local worker its own, unless a device was chosen."""
    import torch

    from ..tracking.device import DEVICE_ENV

    device = gpu_for_worker(worker_name, torch.cuda.device_count())
    if device is not None and not os.environ.get(DEVICE_ENV):
        os.environ[DEVICE_ENV] = device
