"""What an autosave of N boxes on its writer thread costs the GUI thread's event loop: the longest gap
of a 10 ms Qt timer while another thread writes the boxes CSV again and again, with
``write_csv`` (rows formatted in chunks, the interpreter lock offered between them) and with all rows
handed to the csv writer in one call (what it did before), taking turns in one run. No display is
needed (``QT_QPA_PLATFORM=offscreen``).

    QT_QPA_PLATFORM=offscreen python benchmarks/save_lock.py
    QT_QPA_PLATFORM=offscreen python benchmarks/save_lock.py --boxes 10000 --seconds 6 --repeats 3
"""

from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from napari_siamtrack.io.box_csv import COLUMNS, BoxRow, _format_row, checked_rows, write_csv


def write_in_one_call(path: Path, rows: list[BoxRow]) -> None:
    """The boxes CSV with every row handed to the csv writer in one call (the same bytes)."""
    rows = checked_rows(path, rows)
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(_format_row(row) for row in rows)


def longest_gap(write, path: Path, rows: list[BoxRow], seconds: float) -> tuple[float, float]:
    """The longest and the 99th-percentile gap (s) between ticks of a 10 ms timer while a thread
    writes ``rows`` to ``path`` with ``write`` every 50 ms."""
    from qtpy.QtCore import Qt, QTimer
    from qtpy.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    gaps, last = [], [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(10)
    timer.timeout.connect(tick)
    running = threading.Event()
    running.set()

    def writer() -> None:
        while running.is_set():
            write(path, rows)
            time.sleep(0.05)

    thread = threading.Thread(target=writer)
    timer.start()
    thread.start()
    QTimer.singleShot(int(seconds * 1000), app.quit)
    app.exec_()
    running.clear()
    thread.join()
    timer.stop()
    measured = np.array(gaps[5:])
    return float(measured.max()), float(np.percentile(measured, 99))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boxes", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = [BoxRow(f, 1, 10.5, 12.25, 100.0, 80.0, 0.7123, "tracked", False) for f in range(args.boxes)]
    path = Path(tempfile.mkdtemp()) / "boxes.csv"
    ways = {"one call (before)": write_in_one_call, "write_csv (chunks)": write_csv}
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in ways}
    for _ in range(args.repeats):
        for name, write in ways.items():
            results[name].append(longest_gap(write, path, rows, args.seconds))
    base = statistics.median(longest for longest, _ in results["one call (before)"])
    print(f"A 10 ms timer on the GUI thread while a thread saves {args.boxes:,} boxes every 50 ms "
          f"({args.seconds:g} s each, median of {args.repeats} turns)")
    print("| written with | longest gap (ms) | 99th percentile gap (ms) | longest / one call |")
    print("|---|---:|---:|---:|")
    for name, values in results.items():
        longest = statistics.median(v[0] for v in values)
        p99 = statistics.median(v[1] for v in values)
        print(f"| {name} | {longest * 1000:.0f} | {p99 * 1000:.0f} | {longest / base:.2f} |")


if __name__ == "__main__":
    main()
