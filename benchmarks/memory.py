"""Peak memory of tracking a long 1080p video read lazily: ``siamtrack track`` on 500 and 2,000 frames.

Writes the test videos (H.264, a cat moving over a photograph, 1920x1080) into ``--workdir`` unless
they are already there, then runs ``siamtrack track`` on each in a fresh process and prints its peak
resident memory (RSS), its frames/s, and the ratio of the two peaks.

    python benchmarks/memory.py --threads 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from napari_siamtrack.io.sample import make_sample

WIDTH, HEIGHT = 1920, 1080
#: The sample is rendered at a quarter of the size and scaled up 4x (rendering at 1080p is slow).
_FACTOR = 4

#: Runs ``siamtrack track`` in this process and reports its peak RSS in bytes and its wall time.
_TRACK = """
import json, resource, sys, time
from napari_siamtrack.cli import main
start = time.perf_counter()
code = main(sys.argv[1:])
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
print(json.dumps({"code": code, "peak": peak, "seconds": seconds}))
"""


def write_video(path: Path, n_frames: int) -> None:
    """Write the test video frame by frame (never all in memory)."""
    import av

    loop = make_sample(n_frames=60, height=HEIGHT // _FACTOR, width=WIDTH // _FACTOR)
    tmp = path.with_suffix(".tmp.mp4")
    with av.open(str(tmp), "w") as container:
        stream = container.add_stream("libx264", rate=30, options={"preset": "ultrafast", "crf": "23"})
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        for i in range(n_frames):
            small = loop.frames[i % len(loop.frames)]
            big = np.repeat(np.repeat(small, _FACTOR, axis=0), _FACTOR, axis=1)
            for packet in stream.encode(av.VideoFrame.from_ndarray(big, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    tmp.replace(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=Path("siamtrack-memory"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)

    box = make_sample(n_frames=2, height=HEIGHT // _FACTOR, width=WIDTH // _FACTOR).boxes[0] * _FACTOR
    rows = []
    for n in args.frames:
        video = args.workdir / f"cat_{WIDTH}x{HEIGHT}_{n}.mp4"
        if not video.is_file():
            start = time.perf_counter()
            write_video(video, n)
            print(f"wrote {video} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        command = [
            sys.executable, "-c", _TRACK, "track", str(video), "--box", ",".join(f"{v:g}" for v in box),
            "--out", str(args.workdir / f"boxes_{n}.csv"),
        ]
        env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            raise SystemExit(f"siamtrack track failed on {video}:\n{done.stderr}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append((n, result["peak"] / 2**20, n / result["seconds"]))

    print(f"\nsiamtrack track, {WIDTH}x{HEIGHT} H.264 read lazily, one target, {args.threads} threads")
    print(f"{'frames':>6} | {'peak RSS (MiB)':>14} | {'frames/s (whole run)':>20} | {'peak vs first row':>17}")
    for n, peak, fps in rows:
        print(f"{n:>6} | {peak:14.0f} | {fps:20.1f} | {peak / rows[0][1]:16.3f}x")


if __name__ == "__main__":
    main()
