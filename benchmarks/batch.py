"""Videos per minute of ``siamtrack batch`` on a local Dask cluster of 1 and of 2 workers, beside a
shell loop of ``siamtrack track`` (one video after another), all in the same run.

Writes ``--videos`` copies of a generated H.264 video (the sample: a cat moving over a photograph,
``--size``, ``--frames`` frames) and a manifest with one target each into ``--workdir``, then times
each way of tracking them all as a fresh command, start-up included, and checks that the batch runs
wrote the same bytes for every video, and the loop the same boxes (a Dask worker runs torch on one
thread, the loop on every core, and float sums in another order can change a score's last digits).

    python benchmarks/batch.py --workers 1 2
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

from napari_siamtrack.io.sample import make_sample, write_video

SIAMTRACK = [sys.executable, "-m", "napari_siamtrack.cli"]


def write_videos(workdir: Path, videos: int, frames: int, width: int, height: int) -> Path:
    """The videos and their manifest; returns the manifest."""
    sample = make_sample(n_frames=frames, height=height, width=width)
    first = workdir / "clip000.mp4"
    write_video(first, sample.frames)
    box = ",".join(f"{v:g}" for v in sample.boxes[0])
    lines = ["video,frame,track_id,x,y,w,h"]
    for i in range(videos):
        video = workdir / f"clip{i:03d}.mp4"
        if video != first:
            shutil.copyfile(first, video)
        lines.append(f"{video.name},0,1,{box}")
    manifest = workdir / "manifest.csv"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return seconds


def track_loop(manifest: Path, out: Path) -> float:
    """``siamtrack track`` on every video of ``manifest``, one after another (what a shell loop does)."""
    out.mkdir(parents=True)
    seconds = 0.0
    for line in manifest.read_text().splitlines()[1:]:
        video, frame, _, *box = line.split(",")
        target = out / f"{Path(video).stem}.boxes.csv"
        command = ["track", str(manifest.parent / video), "--frame", frame, "--box", ",".join(box)]
        seconds += timed([*SIAMTRACK, *command, "--out", str(target)])
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--size", default="320x240", help="WIDTHxHEIGHT of the videos")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="local cluster sizes to time")
    parser.add_argument("--no-loop", action="store_true", help="leave out the siamtrack track loop")
    parser.add_argument("--workdir", type=Path, default=Path("siamtrack-batch-bench"))
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    if args.workdir.exists():
        shutil.rmtree(args.workdir)
    args.workdir.mkdir(parents=True)
    manifest = write_videos(args.workdir, args.videos, args.frames, width, height)

    runs: list[tuple[str, Path, float]] = []
    if not args.no_loop:
        out = args.workdir / "loop"
        runs.append(("siamtrack track, one video after another", out, track_loop(manifest, out)))
    for n in args.workers:
        out = args.workdir / f"batch{n}"
        command = [*SIAMTRACK, "batch", str(manifest), "--out", str(out), "--workers", str(n)]
        runs.append((f"siamtrack batch --workers {n}", out, timed(command)))

    outputs = {name: {p.name: p.read_bytes() for p in out.glob("*.boxes.csv")} for name, out, _ in runs}
    batches = [found for name, found in outputs.items() if name.startswith("siamtrack batch")]
    same = all(found == batches[0] for found in batches)
    same_boxes = all(_boxes(found) == _boxes(batches[0]) for found in outputs.values())
    base = next((s for name, _, s in runs if name.endswith("--workers 1")), runs[0][2])
    loop = runs[0][2] if not args.no_loop else None
    frames = args.videos * args.frames
    print(f"\n{args.videos} videos of {args.frames} frames, {width}x{height} H.264, one target each; "
          "wall time of each command, start-up included")
    print(f"{'run':<42} | {'seconds':>8} | {'videos/min':>10} | {'frames/s':>8} | "
          f"{'vs 1 worker':>11} | {'vs track loop':>13}")
    for name, _, seconds in runs:
        vs_loop = f"{loop / seconds:12.2f}x" if loop else f"{'-':>13}"
        print(f"{name:<42} | {seconds:8.1f} | {60 * args.videos / seconds:10.2f} | {frames / seconds:8.1f} | "
              f"{base / seconds:10.2f}x | {vs_loop}")
    print(f"the batch runs wrote the same bytes for every video: {'yes' if same else 'NO'}; "
          f"every run the same boxes: {'yes' if same_boxes else 'NO'}")


def _boxes(outputs: dict[str, bytes]) -> dict[str, list[list[str]]]:
    """Each CSV's rows without the score column."""
    return {
        name: [line.split(",")[:6] + line.split(",")[7:] for line in data.decode().splitlines()]
        for name, data in outputs.items()
    }


if __name__ == "__main__":
    main()
