"""A batch run: decide what each video needs, track the rest on a Dask cluster, write each video's
boxes as it finishes, then the summary.

Only this process writes files; workers send their rows back. So a worker that dies mid-video leaves
nothing behind (Dask runs the video again on another worker), each boxes CSV is written once, whole
(atomically, then its record), and Ctrl-C keeps every video finished so far.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ..annotation.review import DEFAULT_THRESHOLD
from ..io.box_csv import BoxCsvError, read_csv, write_csv
from .jobs import VideoJob
from .records import decide, fingerprint, read_record, record_path, sha256_file, write_record
from .summary import VideoSummary, score_numbers, write_summary
from .worker import TrackerSetupError, TrackerSpec, track_on_worker

SUMMARY_NAME = "summary.csv"
#: Memory a local worker is given room for (a worker peaked at 421 MiB tracking a 1080p video): a local
#: cluster gets no more workers than memory / this.
WORKER_MEMORY = 2**30


def run_batch(
    jobs: Sequence[VideoJob],
    out_dir: str | os.PathLike,
    spec: TrackerSpec,
    *,
    workers: int | None = None,
    threads_per_worker: int | None = None,
    scheduler: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    quiet: bool = False,
) -> list[VideoSummary]:
    """Track ``jobs`` into ``out_dir`` and return one summary per job, in order.

    Without ``scheduler`` (a Dask scheduler's address) a local cluster of ``workers`` processes with
    ``threads_per_worker`` threads each runs the videos (default: one single-threaded worker per core,
    fewer when memory is short). Progress bars and messages go to stderr unless ``quiet``. A tracker
    that cannot be made on a worker raises :class:`~.worker.TrackerSetupError`; everything else that
    goes wrong with a video is in its summary.
    """
    if scheduler and (workers or threads_per_worker):
        raise ValueError(
            "--workers and --threads-per-worker size a local cluster; the cluster at --scheduler runs its "
            "own workers"
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summaries: dict[str, VideoSummary] = {}
    pending: list[tuple[VideoJob, dict]] = []
    for job in jobs:
        boxes_csv = out_dir / job.output_name
        if job.problem:
            summaries[job.stem] = _summary(job, "failed", error=job.problem)
            continue
        found = fingerprint(job, spec.settings)
        action, message = decide(boxes_csv, found)
        if action == "track":
            summaries[job.stem] = _summary(job, "cancelled")
            pending.append((job, found))
        else:
            summaries[job.stem] = _earlier(job, boxes_csv, action, message, threshold)
    if not quiet:
        earlier = sum(s.status in ("skipped", "kept") for s in summaries.values())
        print(f"videos: {len(jobs)}, to track: {len(pending)}, finished earlier: {earlier}", file=sys.stderr)
    try:
        if pending:
            with _client(workers, threads_per_worker, scheduler) as client:
                if not quiet:
                    print(f"Dask dashboard: {client.dashboard_link}", file=sys.stderr)
                _track(client, pending, out_dir, spec, summaries, threshold, quiet)
    finally:
        write_summary(out_dir / SUMMARY_NAME, summaries.values())
    return list(summaries.values())


def _summary(job: VideoJob, status: str, **numbers) -> VideoSummary:
    return VideoSummary(str(job.video), job.output_name, len(job.starts), status, **numbers)


def _earlier(job: VideoJob, boxes_csv: Path, action: str, message: str, threshold: float) -> VideoSummary:
    """The summary of a video an earlier run finished (``skipped``, ``kept``) or that cannot run."""
    if action == "failed":
        return _summary(job, "failed", error=message)
    try:
        rows = read_csv(boxes_csv)
    except (BoxCsvError, OSError) as exc:
        return _summary(job, "failed", error=str(exc))
    record = read_record(record_path(boxes_csv)) or {}
    mean, below = score_numbers(rows, threshold)
    return _summary(
        job, action, frames=record.get("frames"), seconds=record.get("seconds"), mean_score=mean,
        frames_below_review=below,
    )


def _track(
    client, pending, out_dir: Path, spec: TrackerSpec, summaries, threshold: float, quiet: bool
) -> None:
    from distributed import as_completed

    topic = f"siamtrack-batch-{uuid.uuid4().hex}"
    bars = _Bars(len(pending), quiet)
    client.subscribe_topic(topic, bars.on_event)
    futures = {}
    # Largest files first, so that the run does not end waiting for one long video.
    for job, found in sorted(pending, key=lambda p: -_size(p[0].video)):
        future = client.submit(
            track_on_worker, job, spec, topic, key=f"track-{job.stem}-{uuid.uuid4().hex}",
            priority=_size(job.video),
        )
        futures[future] = (job, found)
    try:
        for future in as_completed(list(futures)):
            job, found = futures.pop(future)
            tracked = _result(future, job)
            if isinstance(tracked, VideoSummary):
                summaries[job.stem] = tracked
            else:
                # Ctrl-C waits until the files are written and the summary says so.
                with _interrupt_deferred():
                    summaries[job.stem] = _write(tracked, job, found, out_dir, threshold)
            bars.video_done()
    finally:
        client.cancel(list(futures))
        client.unsubscribe_topic(topic)
        bars.close()


def _result(future, job: VideoJob):
    """A finished video's tracked result, or the summary of its failure."""
    try:
        return future.result()
    except TrackerSetupError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever broke this video (a worker raised, or workers died)
        return _summary(job, "failed", error=_error_text(exc))
    finally:
        future.release()


def _write(tracked, job: VideoJob, found: dict, out_dir: Path, threshold: float) -> VideoSummary:
    """Write a finished video's boxes and record; its summary."""
    boxes_csv = out_dir / job.output_name
    try:
        write_csv(boxes_csv, tracked.rows)
        write_record(record_path(boxes_csv), {
            "fingerprint": found, "boxes_sha256": sha256_file(boxes_csv), "frames": tracked.frames,
            "seconds": round(tracked.seconds, 3), "worker": tracked.worker, "device": tracked.device,
            "precision": tracked.precision, "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        })
    except (OSError, ValueError) as exc:
        return _summary(job, "failed", error=str(exc))
    mean, below = score_numbers(tracked.rows, threshold)
    return _summary(
        job, "done", frames=tracked.frames, seconds=tracked.seconds, mean_score=mean,
        frames_below_review=below,
    )


def _error_text(exc: BaseException) -> str:
    from distributed.scheduler import KilledWorker

    if isinstance(exc, KilledWorker):
        return (
            f"the worker tracking it died {exc.allowed_failures + 1} times (out of memory, or killed); "
            f"the last was {exc.last_worker.address}"
        )
    return str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def default_workers(threads_per_worker: int = 1) -> int:
    """Local workers: one per ``threads_per_worker`` cores, at most one per :data:`WORKER_MEMORY`."""
    from dask.system import CPU_COUNT
    from distributed.system import MEMORY_LIMIT

    return max(1, min(CPU_COUNT // threads_per_worker, MEMORY_LIMIT // WORKER_MEMORY))


@contextmanager
def _client(workers: int | None, threads_per_worker: int | None, scheduler: str | None) -> Iterator:
    """A client of the cluster at ``scheduler``, or of a new local cluster, closed afterwards."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout="30s")
        except (OSError, TimeoutError) as exc:
            raise ValueError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        with client:
            yield client
        return
    threads = threads_per_worker or 1
    with LocalCluster(
        n_workers=workers or default_workers(threads), threads_per_worker=threads, processes=True,
        silence_logs=logging.ERROR,
    ) as cluster, Client(cluster) as client:
        yield client


@contextmanager
def _interrupt_deferred() -> Iterator[None]:
    """Hold Ctrl-C back until the block is done, so that a video's boxes CSV, record and summary row
    agree."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[tuple] = []
    previous = signal.signal(signal.SIGINT, lambda *args: caught.append(args))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught and callable(previous):
            previous(*caught[0])


class _Bars:
    """Progress bars of videos finished and frames tracked (frames: of the videos started so far)."""

    def __init__(self, videos: int, quiet: bool) -> None:
        from tqdm import tqdm

        common = {"disable": quiet, "file": sys.stderr}
        self.videos = tqdm(total=videos, unit="video", desc="videos", position=0, **common)
        self.frames = tqdm(total=0, unit="frame", desc="frames", position=1, **common)
        self._counts: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def on_event(self, event: tuple[float, dict]) -> None:
        """A worker's progress event (called on the client's event loop thread)."""
        message = event[1]
        with self._lock:
            if not self._counts:
                self.frames.reset()  # frames/s from the first tracked frame, not from the cluster's start
            self._counts[message["video"]] = (message["done"], message["total"])
            self.frames.total = sum(total for _, total in self._counts.values())
            self.frames.n = sum(done for done, _ in self._counts.values())
            self.frames.refresh()

    def video_done(self) -> None:
        self.videos.update(1)

    def close(self) -> None:
        self.frames.close()
        self.videos.close()
