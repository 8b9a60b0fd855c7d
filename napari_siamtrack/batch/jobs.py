"""What a batch tracks: per video, the box each track starts from.

Two ways to say it:

- a **manifest** CSV with a header line and one row per starting box, columns ``video``, ``frame``,
  ``track_id``, ``x``, ``y``, ``w``, ``h`` and optionally ``label`` (other columns are ignored). A video
  has one row per track; relative video paths are relative to the manifest's folder. A mistake in the
  manifest stops the batch before it starts, with the line it is on;
- a **folder** of video files, TIFF stacks or folders of frames, each with a boxes CSV named
  ``<name>.boxes.csv`` beside it (the project's schema, :mod:`..io.box_csv`) whose keyframes are the
  starts. A video file without one, or with one the batch cannot use, fails alone; a folder without
  one is not a video.

Each track starts from one box. Tracks starting on the same frame are tracked together, forward to the
last frame, as ``siamtrack track`` does; tracks starting on another frame in a separate pass.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

from ..annotation.track_table import is_protected
from ..io.box_csv import BoxCsvError, read_csv
from ..io.sources import TIFF_SUFFIXES, VIDEO_SUFFIXES

MANIFEST_COLUMNS = ("video", "frame", "track_id", "x", "y", "w", "h")
SIDECAR_SUFFIX = ".boxes.csv"


class ManifestError(ValueError):
    """A manifest or folder that cannot be turned into a batch; the message names the file and line."""


@dataclass(frozen=True)
class Start:
    """The box (x, y, w, h) track ``track_id`` starts from on frame ``frame``, and its class label."""

    frame: int
    track_id: int
    box: tuple[float, float, float, float]
    label: str = ""


@dataclass(frozen=True)
class VideoJob:
    """One video and its starts; ``problem`` says why it cannot be tracked (it is then only reported)."""

    video: Path
    starts: tuple[Start, ...]
    problem: str = ""

    @property
    def stem(self) -> str:
        """The video's name without its suffix (a folder of frames: its name)."""
        suffixes = VIDEO_SUFFIXES + TIFF_SUFFIXES
        return self.video.stem if self.video.suffix.lower() in suffixes else self.video.name

    @property
    def output_name(self) -> str:
        return self.stem + SIDECAR_SUFFIX

    def runs(self) -> list[tuple[int, list[Start]]]:
        """The starts grouped by frame, earliest first, each group in track order: one tracker run each."""
        ordered = sorted(self.starts, key=lambda s: (s.frame, s.track_id))
        return [(frame, list(group)) for frame, group in groupby(ordered, key=lambda s: s.frame)]


def read_jobs(path: str | os.PathLike, out_dir: str | os.PathLike) -> list[VideoJob]:
    """The jobs of a manifest CSV or a folder of videos, to be written to ``out_dir``.

    Raises :class:`ManifestError` for a manifest mistake, or when two videos would write the same
    output file or an output would replace an input.
    """
    path = Path(path)
    if path.is_dir():
        jobs = read_folder(path)
        if Path(out_dir).resolve() == path.resolve():
            raise ManifestError(
                f"--out is the videos' folder {path}: the outputs would replace the boxes CSVs the "
                "batch starts from; choose another folder"
            )
    elif path.is_file():
        jobs = read_manifest(path)
    else:
        raise ManifestError(f"{path}: no such manifest file or folder of videos")
    if not jobs:
        raise ManifestError(f"{path}: nothing to track")
    _check_outputs_distinct(path, jobs)
    return jobs


def read_manifest(path: str | os.PathLike) -> list[VideoJob]:
    """The jobs of a manifest CSV, videos in the order they first appear."""
    path = Path(path)
    starts: dict[Path, list[Start]] = {}
    lines: dict[tuple[Path, int], int] = {}
    with open(path, newline="", encoding="utf-8-sig") as file:
        reader = csv.reader(file)
        try:
            header = [name.strip() for name in next(reader, [])]
            missing = [name for name in MANIFEST_COLUMNS if name not in header]
            if missing:
                raise ValueError(
                    f"header lacks column(s) {', '.join(missing)}; expected "
                    f"{','.join(MANIFEST_COLUMNS)}[,label]"
                )
            columns = {name: header.index(name) for name in (*MANIFEST_COLUMNS, "label") if name in header}
            for fields in reader:
                if not any(field.strip() for field in fields):
                    continue
                if len(fields) != len(header):
                    raise ValueError(f"expected {len(header)} fields, got {len(fields)}")
                video, start = _manifest_row(fields, columns, path.parent)
                first = lines.setdefault((video, start.track_id), reader.line_num)
                if first != reader.line_num:
                    raise ValueError(f"track {start.track_id} of {video} already starts on line {first}")
                starts.setdefault(video, []).append(start)
        except (ValueError, csv.Error) as exc:
            raise ManifestError(f"{path}, line {max(reader.line_num, 1)}: {exc}") from None
    return [VideoJob(video, tuple(found)) for video, found in starts.items()]


def _manifest_row(fields: list[str], columns: dict[str, int], base: Path) -> tuple[Path, Start]:
    value = {name: fields[i].strip() for name, i in columns.items()}
    if not value["video"]:
        raise ValueError("the video is empty")
    video = Path(os.path.abspath(base / Path(value["video"]).expanduser()))
    frame, track_id = (_number(int, name, value[name]) for name in ("frame", "track_id"))
    box = tuple(_number(float, name, value[name]) for name in ("x", "y", "w", "h"))
    if frame < 0:
        raise ValueError(f"frame must be >= 0, got {frame}")
    if track_id < 1:
        raise ValueError(f"track_id must be >= 1, got {track_id}")
    if not all(math.isfinite(v) for v in box):
        raise ValueError(f"x, y, w and h must be finite numbers, got {', '.join(map(str, box))}")
    if box[2] <= 0 or box[3] <= 0:
        raise ValueError(f"w and h must be > 0, got w={box[2]:g}, h={box[3]:g}")
    return video, Start(frame, track_id, box, value.get("label", ""))  # type: ignore[arg-type]


def _number(kind: type[int | float], name: str, text: str) -> int | float:
    try:
        return kind(text)
    except ValueError:
        expected = "an integer" if kind is int else "a number"
        raise ValueError(f"{name} must be {expected}, got {text!r}") from None


def read_folder(folder: str | os.PathLike) -> list[VideoJob]:
    """A job for every video file and TIFF stack in ``folder``, and every folder of frames with a boxes
    CSV beside it; a video file without one is a job with that problem."""
    folder = Path(folder)
    jobs = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        is_video = entry.is_file() and entry.suffix.lower() in VIDEO_SUFFIXES + TIFF_SUFFIXES
        if entry.name.startswith(".") or not (is_video or entry.is_dir()):
            continue
        job = VideoJob(Path(os.path.abspath(entry)), ())
        sidecar = folder / job.output_name
        if sidecar.is_file():
            jobs.append(_sidecar_job(job.video, sidecar))
        elif is_video:
            jobs.append(VideoJob(job.video, (), f"no {sidecar.name} beside it with the boxes to start from"))
    return jobs


def _sidecar_job(video: Path, sidecar: Path) -> VideoJob:
    """The job whose starts are the keyframes in ``sidecar``, or a job with the reason it has none."""
    try:
        rows = [row for row in read_csv(sidecar) if is_protected(row)]
    except (BoxCsvError, OSError) as exc:
        return VideoJob(video, (), str(exc))
    if not rows:
        return VideoJob(video, (), f"{sidecar.name} has no keyframe to start from")
    by_track: dict[int, list[int]] = {}
    for row in rows:
        by_track.setdefault(row.track_id, []).append(row.frame)
    for track, frames in sorted(by_track.items()):
        if len(frames) > 1:
            listed = ", ".join(map(str, sorted(frames)))
            return VideoJob(
                video, (),
                f"{sidecar.name}: track {track} has keyframes on frames {listed}; a batch starts each track "
                "from one keyframe (propagate from several in napari)",
            )
    starts = tuple(Start(r.frame, r.track_id, (r.x, r.y, r.w, r.h)) for r in rows)
    return VideoJob(video, starts)


def _check_outputs_distinct(source: Path, jobs: list[VideoJob]) -> None:
    owners: dict[str, Path] = {}
    for job in jobs:
        other = owners.setdefault(job.output_name.casefold(), job.video)
        if other != job.video:
            raise ManifestError(
                f"{source}: {other} and {job.video} would both write {job.output_name}; rename one of them"
            )
