"""How long loading the tracker in a thread stops the main thread: torch imported plainly, against
torch's core library loaded first with the interpreter lock released (``preload_torch``).

Each turn is a fresh process with napari imported (what a viewer has loaded before its first run) and
garbage collection off (as the widget has it while a run's tracker loads): a thread makes the shipped
tracker while the main thread sleeps 1 ms at a time and records the longest gap. Turns alternate.

    python benchmarks/torch_load.py --turns 5
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

CHILD = """
import gc, sys, threading, time
gc.disable()
import napari
from napari_siamtrack.tracking.library_preload import preload_torch

def load():
    global done
    if sys.argv[1] == "preloaded":
        preload_torch()
    from napari_siamtrack.tracking.tracker import Tracker
    Tracker()
    done = True

done, started = False, time.perf_counter()
thread = threading.Thread(target=load)
thread.start()
last, longest = time.perf_counter(), 0.0
while not done:
    time.sleep(0.001)
    now = time.perf_counter()
    longest, last = max(longest, now - last), now
thread.join()
print(1000 * longest, 1000 * (time.perf_counter() - started))
"""

MODES = ("plain import", "preloaded")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=5)
    args = parser.parse_args()
    results: dict[str, list[tuple[float, float]]] = {mode: [] for mode in MODES}
    for _ in range(args.turns):
        for mode in MODES:
            out = subprocess.run(
                [sys.executable, "-c", CHILD, mode.split()[0]], capture_output=True, text=True, check=True
            ).stdout.split()
            results[mode].append((float(out[0]), float(out[1])))
    base = statistics.median(g for g, _ in results[MODES[0]])
    print(f"Loading the tracker in a thread, {args.turns} fresh processes each, taking turns (medians)")
    print("| torch loaded | longest stop of the main thread (ms) | vs plain import | tracker ready after (ms) |")
    print("|---|---:|---:|---:|")
    for mode in MODES:
        gap = statistics.median(g for g, _ in results[mode])
        ready = statistics.median(t for _, t in results[mode])
        print(f"| {mode} | {gap:.0f} | {gap / base:.2f} | {ready:.0f} |")


if __name__ == "__main__":
    main()
