"""A long session: one box propagated through a long video by the Propagate widget, in a real napari
viewer (a display is needed; ``xvfb-run -a`` gives one), with autosave on.

Writes the test video (H.264, the sample's cat moving over a photograph, scaled up) into ``--workdir``
unless it is already there, opens it with the plugin's reader, draws the sample's box on frame 0 and
propagates it to the last frame with the shipped tracker. Meanwhile a Qt timer firing every 10 ms
measures how long the event loop goes without running it (its longest stall), and samples the
process's resident memory. Prints, per tenth of the run, the peak memory so far and its ratio to the
peak at ``--baseline`` frames, and the longest stall in that stretch, with the CPU time the GUI thread
spent in its longest busy gap (on a machine busy with other work a stall also holds the time spent
waiting for a core; the CPU time does not), and the longest of Python's garbage collections (which
hold every thread while they run). The first row, frame 1, is the start: torch and the
weights load in the worker thread (the widget loads torch's core library with Python's interpreter
lock released; importing the rest of torch holds it in short stretches). Then
the run's end: the stretch from the last frame tracked until the objects held out of the garbage
collector's view during the run are handed back (the last merge, the final save, napari's refresh),
and the hand-back itself, a full collection that the widget leaves until nothing has come from the
keyboard or mouse for 2 s (here nothing ever does, so it comes 2 s after the run). Then the longest
stalls while tracking and from the last merge on, each with the time the widget spent merging in it
and the autosave writes and garbage collections that overlapped it.

``--prefill N`` starts from a layer that already holds N tracked boxes (of another track, on the last
N frames; of more tracks when N is more than the frames) and ``--seconds S`` cancels the run after S
seconds: a few minutes show what a merge into a large layer, or the end of a run in one, costs the
event loop, without tracking 10,000 frames first.

    xvfb-run -a -s "-screen 0 1920x1080x24" python benchmarks/soak.py --threads 2   # 10,000 frames, 1080p
    xvfb-run -a python benchmarks/soak.py --frames 300 --width 640 --height 360     # a quick check
    xvfb-run -a -s "-screen 0 1920x1080x24" python benchmarks/soak.py --threads 2 --prefill 9000 --seconds 120
    xvfb-run -a -s "-screen 0 1920x1080x24" python benchmarks/soak.py --threads 2 --frames 500 --prefill 9500
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

import numpy as np

from napari_siamtrack.io.sample import make_sample

#: The sample is rendered at a quarter of the size and scaled up 4x (rendering at full size is slow).
_FACTOR = 4
TICK_MS = 10
#: Gaps between ticks longer than this are kept, to tell what was in the longest ones.
GAP_KEPT_S = 0.1
#: Seconds measured after the hand-back (or after the run's end, if nothing is handed back).
AFTER_S = 1.0


def write_video(path: Path, n_frames: int, width: int, height: int) -> np.ndarray:
    """Write the test video frame by frame (never all in memory); return the box on frame 0."""
    import av

    loop = make_sample(n_frames=60, height=height // _FACTOR, width=width // _FACTOR)
    if not path.is_file():
        tmp = path.with_suffix(".tmp.mp4")
        with av.open(str(tmp), "w") as container:
            stream = container.add_stream("libx264", rate=30, options={"preset": "ultrafast", "crf": "23"})
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            for i in range(n_frames):
                big = np.repeat(np.repeat(loop.frames[i % len(loop.frames)], _FACTOR, 0), _FACTOR, 1)
                for packet in stream.encode(av.VideoFrame.from_ndarray(big, format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        tmp.replace(path)
    return loop.boxes[0] * _FACTOR


class Probe:
    """Ticks every 10 ms on the GUI thread: the longest gap between ticks, the most CPU time the GUI
    thread spent between two ticks, and the peak memory."""

    def __init__(self) -> None:
        import psutil
        from qtpy.QtCore import Qt, QTimer

        self.process = psutil.Process()
        self.peak = self.process.memory_info().rss
        self.stall = self.busy = 0.0
        self.last, self.last_cpu = time.perf_counter(), time.thread_time()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        self.collection = self._collection_started = 0.0
        self.gaps: list[tuple[float, float, float]] = []  # (start, end, GUI-thread CPU) of long gaps
        self.merges: list[tuple[float, float]] = []  # (start, end) of each merge
        self.saves: list[tuple[float, float]] = []  # (start, end) of each autosave write
        self.collections: list[tuple[float, float]] = []  # (start, end) of collections over 5 ms
        gc.callbacks.append(self._on_collection)

    def timed(self, function, into: list):
        """``function``, recording the start and end of each call in ``into``."""

        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                into.append((started, time.perf_counter()))

        return wrapper

    def _on_collection(self, phase: str, info: dict) -> None:
        """Times Python's garbage collections, which hold every thread while they run."""
        if phase == "start":
            self._collection_started = time.perf_counter()
        else:
            now = time.perf_counter()
            self.collection = max(self.collection, now - self._collection_started)
            if now - self._collection_started > 0.005:
                self.collections.append((self._collection_started, now))

    def tick(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        self.stall = max(self.stall, now - self.last - TICK_MS / 1000)
        self.busy = max(self.busy, cpu - self.last_cpu)
        if now - self.last > GAP_KEPT_S:
            self.gaps.append((self.last, now, cpu - self.last_cpu))
        self.last, self.last_cpu = now, cpu
        self.peak = max(self.peak, self.process.memory_info().rss)

    def stretch(self) -> tuple[float, float, float]:
        """The longest stall, the longest busy gap and the longest garbage collection since the last
        call, in seconds; starts a new stretch."""
        self.tick()
        stall, busy, collection = self.stall, self.busy, self.collection
        self.stall = self.busy = self.collection = 0.0
        return stall, busy, collection


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument(
        "--baseline", type=int,
        help="frames tracked at the baseline peak (default: 1,000, or a tenth of a shorter run)",
    )
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--workdir", type=Path, default=Path("siamtrack-soak"))
    parser.add_argument("--prefill", type=int, default=0, help="tracked boxes in the layer before the run")
    parser.add_argument("--seconds", type=float, default=None, help="cancel the run after this long")
    args = parser.parse_args()
    if args.threads:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    args.workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("NAPARI_SIAMTRACK_RECOVERY_DIR", str(args.workdir / "recovery"))
    video = args.workdir / f"cat_{args.width}x{args.height}_{args.frames}.mp4"
    started = time.perf_counter()
    x, y, w, h = write_video(video, args.frames, args.width, args.height)
    print(f"video {video} ready in {time.perf_counter() - started:.0f} s", file=sys.stderr)

    import napari
    from qtpy.QtCore import QTimer
    from qtpy.QtWidgets import QApplication

    viewer = napari.Viewer()
    viewer.open(str(video), plugin="napari-siamtrack")
    _, widget = viewer.window.add_plugin_dock_widget("napari-siamtrack", "Propagate boxes")
    viewer.dims.set_current_step(0, 0)
    layer = widget.add_boxes_layer()
    if args.prefill:
        from napari_siamtrack.io.box_csv import BoxRow

        # the last frames of track 2, then of tracks 3, 4, ... when there are more boxes than frames
        widget.binding().merge([BoxRow(args.frames - 1 - i % args.frames, 2 + i // args.frames, 50.0, 60.0,
                                       100.0, 80.0, 0.9, "tracked", False) for i in range(args.prefill)])
    layer.add_rectangles(np.array([[0, y, x], [0, y, x + w], [0, y + h, x + w], [0, y + h, x]], float))
    for _ in range(20):  # let napari settle before measuring
        QApplication.processEvents()
        time.sleep(0.05)

    total = args.frames - 1
    args.baseline = args.baseline or max(1, min(1000, round(total / 10)))
    marks = sorted({1, args.baseline, *(round(total * k / 10) for k in range(1, 11))})
    from napari_siamtrack.ui import autosave
    from napari_siamtrack.ui import widget as widget_module

    rows, end, hand_back, probe = [], [], [], Probe()
    widget._merge_pending = probe.timed(widget._merge_pending, probe.merges)
    autosave._write = probe.timed(autosave._write, probe.saves)
    handed_back = []  # (start, end) of the hand-back
    collector_hand_back = probe.timed(widget._collector.hand_back, handed_back)

    def timed_hand_back() -> None:
        end.extend(probe.stretch())  # the run's end, up to the hand-back
        collector_hand_back()

    widget._collector.hand_back = timed_hand_back
    run_started = time.perf_counter()
    widget.propagate()

    finished = []  # when the run ended

    def check() -> None:
        if args.seconds and widget.worker is not None and time.perf_counter() - run_started > args.seconds:
            widget.cancel()
        while marks and widget.progress.value >= marks[0]:
            rows.append((marks.pop(0), probe.peak, *probe.stretch(), time.perf_counter() - run_started))
        if widget.worker is None and not finished:
            finished.append(time.perf_counter())
            done = widget.progress.value
            if not rows or rows[-1][0] != done:  # stopped early
                rows.append((done, probe.peak, *probe.stretch(), finished[0] - run_started))
        last = handed_back[-1][1] if handed_back else finished[0] if finished else None
        if last is not None and time.perf_counter() - last >= AFTER_S and (handed_back or
                                                                          not widget._collector.held_after_run):
            if handed_back:
                hand_back.extend(probe.stretch())
            else:
                end.extend(probe.stretch())
            widget.close_guard.enabled = False  # the boxes are not meant to be exported
            QApplication.quit()

    poll = QTimer()
    poll.timeout.connect(check)
    poll.start(50)
    napari.run()
    poll.stop()
    probe.timer.stop()

    # a run cancelled before the baseline (--seconds) is compared with its last row
    baseline = next((peak for done, peak, *_ in rows if done >= args.baseline), rows[-1][1])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nSoak: {total:,} frames of {args.width}x{args.height} H.264 propagated by the widget in a real "
          f"viewer, autosave on, {args.threads or 'default'} torch threads, {os.cpu_count()} cores, "
          f"load average {load:.1f} at the end")
    print("| frames tracked | peak RSS (MiB) | vs frame " f"{args.baseline:,} | longest stall (ms) | "
          "GUI-thread CPU in the busiest gap (ms) | longest garbage collection (ms) | frames/s so far |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for done, peak, stall, busy, collection, seconds in rows:
        print(f"| {done:,} | {peak / 2**20:.0f} | {peak / baseline:.3f} | {stall * 1000:.0f} | "
              f"{busy * 1000:.0f} | {collection * 1000:.0f} | {done / seconds:.1f} |")
    print(f"| the run's end (the last merge, napari's refresh, the final save) | | | {end[0] * 1000:.0f} | "
          f"{end[1] * 1000:.0f} | {end[2] * 1000:.0f} | |")
    if hand_back:
        idle = handed_back[0][0] - finished[0]
        print(f"| the hand-back, {idle:.1f} s after the run (no input for "
              f"{widget_module.HAND_BACK_IDLE_MS / 1000:g} s) | | | {hand_back[0] * 1000:.0f} | "
              f"{hand_back[1] * 1000:.0f} | {hand_back[2] * 1000:.0f} | |")
    worst = max(row[2] for row in rows[1:])
    busiest = max(row[3] for row in rows[1:])
    print(f"peak at the end / at frame {args.baseline:,}: {rows[-1][1] / baseline:.3f} (bar: at most 1.10); "
          f"while tracking after the start, the longest stall of the event loop: {worst * 1000:.0f} ms, the "
          f"most GUI-thread CPU between two ticks: {busiest * 1000:.0f} ms (bar: under 200 ms); at the start: "
          f"{rows[0][2] * 1000:.0f} ms; at the end: {end[0] * 1000:.0f} ms"
          + (f"; the hand-back once idle: {hand_back[0] * 1000:.0f} ms" if hand_back else ""))

    longest_stalls(probe, run_started + rows[0][-1], probe.merges[-1][0], "while tracking")
    longest_stalls(probe, probe.merges[-1][0], time.perf_counter(), "from the run's last merge on", count=3)


def longest_stalls(probe: Probe, after: float, before: float, when: str, count: int = 5) -> None:
    """Print the ``count`` longest gaps between ticks from ``after`` to ``before``, each with the time
    spent merging in it and the writes and collections that overlapped it."""

    def within(start: float, end: float, spans: list[tuple[float, float]]) -> str:
        inside = [f"{(b - a) * 1000:.0f}" for a, b in spans if a < end and b > start]
        return " + ".join(inside) or "–"

    gaps = sorted((g for g in probe.gaps if g[0] >= after and g[1] <= before), key=lambda g: g[0] - g[1])
    if not gaps:
        print(f"\nNo gap between ticks {when} was over {GAP_KEPT_S * 1000:.0f} ms")
        return
    print(f"\nThe {count} longest stalls {when} (ms)")
    print("| stall | GUI-thread CPU | merges in it | autosave writes overlapping | collections in it |")
    print("|---:|---:|---:|---:|---:|")
    for start, end, cpu in gaps[:count]:
        print(f"| {(end - start) * 1000:.0f} | {cpu * 1000:.0f} | {within(start, end, probe.merges)} | "
              f"{within(start, end, probe.saves)} | {within(start, end, probe.collections)} |")


if __name__ == "__main__":
    main()
