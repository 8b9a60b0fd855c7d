"""``siamtrack batch``: manifests and folders, records, and whole runs on Dask with the shipped weights."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import tifffile
from doubles import StepTracker, numbered_frames

from napari_siamtrack.annotation.review import DEFAULT_THRESHOLD
from napari_siamtrack.annotation.track_frames import TrackingError, track_forward
from napari_siamtrack.batch.jobs import ManifestError, Start, VideoJob, read_jobs, read_manifest
from napari_siamtrack.batch.records import decide, fingerprint, record_path, sha256_file, write_record
from napari_siamtrack.batch.summary import score_numbers
from napari_siamtrack.batch.worker import gpu_for_worker, track_job
from napari_siamtrack.cli import main
from napari_siamtrack.io.box_csv import BoxRow, read_csv, write_csv
from napari_siamtrack.io.sample import make_sample, write_video

HEADER = "video,frame,track_id,x,y,w,h"


# --- what to track -------------------------------------------------------------------------------------


def test_manifest_rows_become_one_job_per_video(tmp_path):
    (tmp_path / "sub").mkdir()
    manifest = tmp_path / "sub" / "m.csv"
    manifest.write_text(
        "\ufeffnote,video,frame,track_id,x,y,w,h,label\n"
        "a,../b.mp4,3,2,1.5,2,3,4,mouse\n"
        "b,/data/c.mp4,0,1,0,0,5,5,\n"
        "\n"
        "c,../b.mp4,0,7,10,20,30,40,cage\n",
        encoding="utf-8",
    )
    jobs = read_manifest(manifest)
    assert [j.video for j in jobs] == [tmp_path / "b.mp4", Path("/data/c.mp4")]
    assert jobs[0].starts == (
        Start(3, 2, (1.5, 2.0, 3.0, 4.0), "mouse"), Start(0, 7, (10.0, 20.0, 30.0, 40.0), "cage")
    )
    assert jobs[0].runs() == [(0, [jobs[0].starts[1]]), (3, [jobs[0].starts[0]])]
    assert jobs[0].output_name == "b.boxes.csv"


@pytest.mark.parametrize(
    "rows, message",
    [
        (["video,frame,x,y,w,h"], "lacks column(s) track_id"),
        ([HEADER, "a.mp4,0,1,1,2,3"], "line 2: expected 7 fields"),
        ([HEADER, "a.mp4,zero,1,1,2,3,4"], "line 2: frame must be an integer"),
        ([HEADER, "a.mp4,0,1,1,2,0,4"], "line 2: w and h must be > 0"),
        ([HEADER, "a.mp4,0,1,nan,2,3,4"], "line 2: x, y, w and h must be finite"),
        ([HEADER, "a.mp4,-1,1,1,2,3,4"], "line 2: frame must be >= 0"),
        ([HEADER, "a.mp4,0,0,1,2,3,4"], "line 2: track_id must be >= 1"),
        ([HEADER, ",0,1,1,2,3,4"], "line 2: the video is empty"),
        ([HEADER, "a.mp4,0,1,1,2,3,4", "a.mp4,5,1,1,2,3,4"], "line 3: track 1 of"),
        ([HEADER, "x/a.mp4,0,1,1,2,3,4", "y/a.mp4,0,1,1,2,3,4"], "would both write a.boxes.csv"),
    ],
)
def test_manifest_mistakes_stop_the_batch_with_the_line(tmp_path, rows, message):
    manifest = tmp_path / "m.csv"
    manifest.write_text("\n".join(rows) + "\n")
    with pytest.raises(ManifestError, match="m.csv") as error:
        read_jobs(manifest, tmp_path / "out")
    assert message in str(error.value)


def _row(frame, track, keyframe, source="tracked"):
    return BoxRow(frame, track, 1.0, 2.0, 3.0, 4.0, 1.0 if source == "manual" else 0.5, source, keyframe)


def test_a_folder_starts_from_the_keyframes_of_each_sidecar(tmp_path):
    for name in ("a.mp4", "b.mp4", "c.tif", "d.mp4", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "frames").mkdir()
    (tmp_path / "other").mkdir()
    write_csv(tmp_path / "a.boxes.csv", [_row(2, 1, True, "manual"), _row(3, 1, False), _row(0, 4, True)])
    write_csv(tmp_path / "c.boxes.csv", [_row(0, 1, True), _row(9, 1, False, "manual")])
    write_csv(tmp_path / "d.boxes.csv", [_row(5, 1, False)])
    write_csv(tmp_path / "frames.boxes.csv", [_row(1, 3, True, "manual")])
    jobs = {job.video.name: job for job in read_jobs(tmp_path, tmp_path / "out")}
    assert sorted(jobs) == ["a.mp4", "b.mp4", "c.tif", "d.mp4", "frames"]
    assert jobs["a.mp4"].starts == (Start(2, 1, (1.0, 2.0, 3.0, 4.0)), Start(0, 4, (1.0, 2.0, 3.0, 4.0)))
    assert jobs["frames"].starts == (Start(1, 3, (1.0, 2.0, 3.0, 4.0)),) and not jobs["frames"].problem
    assert "no b.boxes.csv beside it" in jobs["b.mp4"].problem
    assert "track 1 has keyframes on frames 0, 9" in jobs["c.tif"].problem
    assert "no keyframe" in jobs["d.mp4"].problem
    with pytest.raises(ManifestError, match="replace the boxes CSVs"):
        read_jobs(tmp_path, tmp_path)


# --- the work of one video -----------------------------------------------------------------------------


def test_each_start_frame_is_one_forward_run_with_the_manifest_track_ids(tmp_path):
    video = tmp_path / "numbered.tif"
    tifffile.imwrite(video, numbered_frames(10))
    job = VideoJob(video, (Start(5, 2, (1, 1, 4, 4)), Start(0, 9, (3, 3, 4, 4)), Start(5, 1, (2, 2, 4, 4))))
    tracker = StepTracker(dx=1.0)
    seen = []
    rows, frames = track_job(tracker, job, lambda done, total: seen.append((done, total)))
    assert [(start, boxes[:, 0].tolist()) for start, boxes in tracker.inits] == [(0, [3.0]), (5, [2.0, 1.0])]
    assert frames == 15 and seen[-1] == (15, 15) and len(seen) == 15
    by_key = {(r.track_id, r.frame): r for r in rows}
    assert sorted({t for t, _ in by_key}) == [1, 2, 9]
    assert [f for t, f in sorted(by_key) if t == 9] == list(range(10))
    assert [f for t, f in sorted(by_key) if t == 1] == list(range(5, 10))
    assert by_key[(1, 5)].source == "manual" and by_key[(1, 5)].keyframe
    assert by_key[(1, 8)].x == 2 + 3 and by_key[(2, 8)].x == 1 + 3 and by_key[(9, 8)].x == 3 + 8


def test_track_ids_must_be_one_per_box(tmp_path):
    video = tmp_path / "numbered.tif"
    tifffile.imwrite(video, numbered_frames(10))
    from napari_siamtrack.io.sources import open_frames

    with open_frames(video) as source, pytest.raises(TrackingError, match="distinct"):
        next(track_forward(StepTracker(), source, [(1, 1, 2, 2), (3, 3, 2, 2)], track_ids=[4, 4]))


def test_summary_numbers_count_frames_with_a_tracked_box_below_the_threshold():
    rows = [_row(0, 1, True, "manual"), _row(1, 1, False), _row(1, 2, False), _row(2, 1, False)]
    rows[3] = BoxRow(2, 1, 1, 1, 1, 1, 0.9, "tracked", False)
    mean, below = score_numbers(rows, 0.6)
    assert mean == pytest.approx((0.5 + 0.5 + 0.9) / 3) and below == 1


def test_each_local_worker_takes_its_own_gpu():
    assert [gpu_for_worker(n, 2) for n in range(3)] == ["cuda:0", "cuda:1", "cuda:0"]
    assert gpu_for_worker(3, 1) is None and gpu_for_worker("tcp://10.0.0.1:1234", 4) is None


def test_a_rerun_skips_finished_videos_and_never_overwrites_a_person_s_file(tmp_path):
    video = tmp_path / "v.mp4"
    video.write_bytes(b"video")
    job = VideoJob(video, (Start(0, 1, (1, 2, 3, 4), "cat"),))
    tracker = {"weights": "abc"}
    found = fingerprint(job, tracker)
    out = tmp_path / "v.boxes.csv"
    assert decide(out, found) == ("track", "")
    write_csv(out, [_row(0, 1, True, "manual")])
    action, message = decide(out, found)
    assert action == "failed" and "not written by siamtrack batch" in message

    write_record(record_path(out), {"fingerprint": found, "boxes_sha256": sha256_file(out)})
    assert decide(out, found) == ("skipped", "")
    assert decide(out, fingerprint(job, {"weights": "new"}))[0] == "track"
    relabelled = VideoJob(video, (Start(0, 1, (1, 2, 3, 4), "dog"),))
    assert decide(out, fingerprint(relabelled, tracker))[0] == "track"
    os.utime(video, ns=(0, 0))
    assert decide(out, fingerprint(job, tracker))[0] == "track"
    found = fingerprint(job, tracker)
    write_record(record_path(out), {"fingerprint": found, "boxes_sha256": sha256_file(out)})
    write_csv(out, [_row(0, 1, True, "manual"), _row(1, 1, False)])  # proofread in napari
    assert decide(out, found) == ("kept", "")
    action, message = decide(out, fingerprint(job, {"weights": "new"}))
    assert action == "failed" and "changed after siamtrack batch wrote it" in message


# --- whole runs: generated videos, the shipped weights, real Dask clusters ------------------------------


@dataclass
class Clips:
    folder: Path
    manifest: Path
    videos: list[Path]
    boxes: dict[str, list[str]]  # video name -> its --box values
    reference: dict[str, bytes]  # output name -> what ``siamtrack track`` writes


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Clips:
    """8 tiny videos (64x48, 20-27 frames), 2 targets each, and ``siamtrack track``'s output for each."""
    import torch

    folder = tmp_path_factory.mktemp("clips")
    lines, videos, boxes, reference = [HEADER], [], {}, {}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as a Dask worker runs torch: float sums add up in the same order
    for i in range(8):
        sample = make_sample(n_frames=20 + i, height=48, width=64)
        video = folder / f"clip{i}.mp4"
        write_video(video, sample.frames)
        x, y, w, h = sample.boxes[0]
        boxes[video.name] = [f"{x:g},{y:g},{w:g},{h:g}", f"4,{28 + i % 3},12,10"]
        lines += [f"{video.name},0,{k + 1},{box}" for k, box in enumerate(boxes[video.name])]
        videos.append(video)
        out = folder / "reference" / f"clip{i}.boxes.csv"
        out.parent.mkdir(exist_ok=True)
        args = ["track", str(video), "--out", str(out)]
        assert main([*args, *(f"--box={b}" for b in boxes[video.name])]) == 0
        reference[out.name] = out.read_bytes()
    torch.set_num_threads(threads)
    manifest = folder / "manifest.csv"
    manifest.write_text("\n".join(lines) + "\n")
    return Clips(folder, manifest, videos, boxes, reference)


@pytest.fixture(scope="module")
def cluster():
    """A local Dask cluster of 2 single-threaded workers, for runs with ``--scheduler``."""
    from distributed import Client, LocalCluster

    local = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, silence_logs=logging.ERROR)
    with local, Client(local) as client:
        yield local.scheduler_address, client


def _summary(out: Path) -> dict[str, dict[str, str]]:
    import csv

    with open(out / "summary.csv", newline="") as file:
        return {Path(row["video"]).name: row for row in csv.DictReader(file)}


def _assert_outputs_are_the_references(out: Path, clips: Clips, names) -> None:
    stems = [Path(name).stem for name in names]
    expected = {f"{stem}{suffix}" for stem in stems for suffix in (".boxes.csv", ".batch.json")}
    assert {p.name for p in out.iterdir()} == expected | {"summary.csv"}  # nothing partial, nothing else
    for stem in stems:
        output = f"{stem}.boxes.csv"
        assert (out / output).read_bytes() == clips.reference[output], output


def test_batch_writes_what_siamtrack_track_writes_and_a_rerun_skips_it(clips, tmp_path, capsys):
    out = tmp_path / "out"
    command = ["batch", str(clips.manifest), "--out", str(out)]
    assert main([*command, "--workers", "2", "--threads-per-worker", "1"]) == 0
    names = [v.name for v in clips.videos]
    _assert_outputs_are_the_references(out, clips, names)
    summary = _summary(out)
    assert sorted(summary) == sorted(names)
    for video in clips.videos:
        row = summary[video.name]
        rows = read_csv(out / row["output"])
        mean, below = score_numbers(rows, DEFAULT_THRESHOLD)  # the --review-below default
        assert row["status"] == "done" and row["error"] == "" and row["targets"] == "2"
        assert int(row["frames"]) == len(rows) // 2 and int(row["frames_below_review"]) == below
        assert float(row["mean_score"]) == pytest.approx(mean, abs=1e-4)
        assert float(row["frames_per_second"]) > 0
    assert "Dask dashboard: http" in capsys.readouterr().err

    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.boxes.csv")}
    assert main([*command, "--workers", "1"]) == 0
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.boxes.csv")} == before
    assert {row["status"] for row in _summary(out).values()} == {"skipped"}
    assert "videos: 8, to track: 0, finished earlier: 8" in capsys.readouterr().err


def test_a_corrupt_video_fails_alone_and_the_summary_says_why(clips, cluster, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x20ftypisom" + bytes(range(256)) * 8)
    manifest = tmp_path / "m.csv"
    good = clips.videos[:2]
    lines = [HEADER, f"{broken},0,1,4,4,10,10"]
    lines += [f"{v},0,{k + 1},{box}" for v in good for k, box in enumerate(clips.boxes[v.name])]
    manifest.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    assert main(["batch", str(manifest), "--out", str(out), "--scheduler", cluster[0]]) == 1
    summary = _summary(out)
    assert summary["broken.mp4"]["status"] == "failed"
    assert "broken.mp4" in summary["broken.mp4"]["error"] and "\n" not in summary["broken.mp4"]["error"]
    assert [summary[v.name]["status"] for v in good] == ["done", "done"]
    _assert_outputs_are_the_references(out, clips, [v.name for v in good])


def test_a_tracker_that_cannot_load_stops_the_batch_with_one_line(clips, cluster, tmp_path, capsys):
    weights = tmp_path / "broken.safetensors"
    weights.write_bytes(b"not weights at all")
    out = tmp_path / "out"
    command = ["batch", str(clips.manifest), "--out", str(out), "--scheduler", cluster[0]]
    assert main([*command, "--weights", str(weights)]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("siamtrack batch: error: cannot make the tracker:")
    assert "broken.safetensors" in error
    assert not list(out.glob("*.boxes.csv"))
    assert {row["status"] for row in _summary(out).values()} == {"cancelled"}


def _busy_worker(client, out: Path, timeout: float = 600) -> str:
    """A worker tracking a video, once the first video is written (so trackers are loaded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if list(out.glob("*.boxes.csv")):
            busy = [address for address, keys in client.processing().items() if keys]
            if busy:
                return busy[0]
        time.sleep(0.05)
    raise AssertionError("no worker was tracking a video")


def test_a_worker_killed_mid_batch_loses_nothing_and_writes_each_video_once(clips, cluster, tmp_path):
    address, client = cluster
    out = tmp_path / "out"
    codes = []
    run = threading.Thread(target=lambda: codes.append(main(["batch", str(clips.manifest), "--out", str(out),
                                                                "--scheduler", address])))
    run.start()
    victim = _busy_worker(client, out)
    pid = client.run(os.getpid, workers=[victim])[victim]
    os.kill(pid, signal.SIGKILL)
    run.join(timeout=900)
    assert victim not in client.scheduler_info()["workers"]
    assert codes == [0]
    _assert_outputs_are_the_references(out, clips, [v.name for v in clips.videos])
    assert {row["status"] for row in _summary(out).values()} == {"done"}


def test_ctrl_c_while_a_video_is_written_finishes_it_and_the_summary_says_done(clips, cluster, tmp_path,
                                                                             monkeypatch):
    from napari_siamtrack.batch import run

    def write_then_ctrl_c(path, record):
        write_record(path, record)
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C as the first video's files are written

    monkeypatch.setattr(run, "write_record", write_then_ctrl_c)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        out = tmp_path / "out"
        assert main(["batch", str(clips.manifest), "--out", str(out), "--scheduler", cluster[0]]) == 130
    finally:
        signal.signal(signal.SIGINT, previous)
    summary = _summary(out)
    done = [name for name, row in summary.items() if row["status"] == "done"]
    assert len(done) == 1 and len(summary) == 8
    assert {row["status"] for name, row in summary.items() if name not in done} == {"cancelled"}
    _assert_outputs_are_the_references(out, clips, done)


def test_ctrl_c_keeps_the_finished_videos(clips, tmp_path):
    out = tmp_path / "out"
    command = [sys.executable, "-m", "napari_siamtrack.cli", "batch", str(clips.manifest), "--out", str(out),
               "--workers", "1"]
    given = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    paths = [str(Path(__file__).parents[1]), *filter(None, given)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    # Ctrl-C's default action, as a terminal's process has it (a test runner may have SIGINT ignored,
    # and a child inherits that); the child sets only that one handler between fork and exec
    default_sigint = lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                               start_new_session=True, preexec_fn=default_sigint)  # noqa: PLW1509
    deadline = time.monotonic() + 600
    while not list(out.glob("*.batch.json")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)  # as Ctrl-C in a terminal: to the client and its workers
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "interrupted" in err
    summary = _summary(out)
    done = [name for name, row in summary.items() if row["status"] == "done"]
    assert done and len(summary) == 8
    assert {row["status"] for name, row in summary.items() if name not in done} == {"cancelled"}
    _assert_outputs_are_the_references(out, clips, done)
