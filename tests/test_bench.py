"""Benchmark protocols: OTB one-pass metrics, the effort oracles, baselines, report files."""

import json

import numpy as np
import pytest

from napari_siamtrack.annotation.gaps import FilledGaps
from napari_siamtrack.annotation.propagation import PropagationRequest, plan, propagate
from napari_siamtrack.annotation.track_table import TrackTable
from napari_siamtrack.bench.effort import Effort, assisted_effort, interpolation_effort
from napari_siamtrack.bench.ope import one_pass, precision_curve, success_curve
from napari_siamtrack.bench.report import save_plots, tables, write_json
from napari_siamtrack.bench.suite import run_suite
from napari_siamtrack.bench.trackers import OpenCVTracker, opencv_available
from napari_siamtrack.bench.workflow import _overlaps, _Stack, keyframe_workflow_effort
from napari_siamtrack.io.box_csv import BoxRow
from napari_siamtrack.io.sequences import load_sequence


class Replay:
    """Returns prepared boxes frame by frame; restarts from wherever it is re-initialised."""

    def __init__(self, boxes, name="replay"):
        self.boxes, self.name, self.inits = np.asarray(boxes, float), name, []

    def init(self, frame, box):
        self.i = int(frame[0, 0, 0])
        self.inits.append(self.i)

    def update(self, frame):
        self.i = int(frame[0, 0, 0])
        return self.boxes[self.i]


def numbered_frames(n):
    """Frames whose first pixel is their index (so a Replay knows where it is)."""
    frames = np.zeros((n, 4, 4, 3), np.uint8)
    frames[:, 0, 0, 0] = np.arange(n)
    return list(frames)


def linear_truth(n, start=(10.0, 10.0, 20.0, 20.0), step=(2.0, 0.0, 0.0, 0.0)):
    return np.asarray(start) + np.arange(n)[:, None] * np.asarray(step)


def test_success_and_precision_curves_follow_the_otb_definitions():
    truth = linear_truth(4)
    boxes = truth.copy()
    boxes[1, 0] += 10  # IoU 1/3, centre error 10
    boxes[2, 0] += 40  # IoU 0, centre error 40
    success = success_curve(boxes, truth)
    assert success[0] == 0.75  # IoU > 0 on 3 frames
    assert success[6] == 0.75 and success[7] == 0.5  # 1/3 lies between thresholds 0.30 and 0.35
    assert success[20] == 0.0  # nothing exceeds IoU 1
    precision = precision_curve(boxes, truth)
    assert precision[9] == 0.5 and precision[10] == 0.75 and precision[20] == 0.75
    assert precision[40] == 1.0


def test_unannotated_frames_are_not_scored():
    truth = linear_truth(4)
    truth[3] = np.nan
    boxes = linear_truth(4)
    boxes[3] += 100
    assert success_curve(boxes, truth)[-2] == 1.0


def test_one_pass_starts_on_the_first_annotated_frame():
    truth = linear_truth(5)
    truth[0] = np.nan
    tracker = Replay(truth + 1)
    result = one_pass(tracker, numbered_frames(5), truth)
    assert tracker.inits == [1]
    assert np.isnan(result.boxes[0]).all()
    np.testing.assert_array_equal(result.boxes[1], truth[1])
    np.testing.assert_array_equal(result.boxes[2:], truth[2:] + 1)
    assert result.frames == 4 and result.fps > 0


def test_interpolation_of_linear_motion_needs_only_the_ends():
    effort = interpolation_effort(linear_truth(50), tau=0.7)
    assert (effort.boxes, effort.frames) == (2, 50)
    assert effort.per_100 == 4.0


def test_interpolation_needs_a_keyframe_at_each_turn():
    out = linear_truth(21)
    back = out[-1] - np.arange(1, 21)[:, None] * np.array([2.0, 0, 0, 0])
    truth = np.vstack([out, back])  # 20 steps right, then 20 steps left
    assert interpolation_effort(truth, tau=0.5).boxes == 3


def test_interpolation_needs_every_frame_of_a_jump_then_spans_the_rest():
    truth = linear_truth(10, step=(0, 0, 0, 0))
    truth[1:3, 0] += 100  # the box jumps away on frames 1-2 and comes back on 3
    # Keyframes 0, 1, 2, 3 (no interpolation bridges the jump), then 3 -> 9 in one go.
    assert interpolation_effort(truth, tau=0.5).boxes == 5


def _brute_force_keyframes(truth, tau):
    """The greedy farthest-reach keyframe count, computed the slow, obvious way."""
    from napari_siamtrack.metrics import iou

    n, k, count = len(truth), 0, 1
    while k < n - 1:
        reach = [
            j for j in range(k + 1, n)
            if all(iou(truth[k] + (i - k) / (j - k) * (truth[j] - truth[k]), truth[i]) >= tau for i in range(k + 1, j))
        ]
        k, count = max(reach), count + 1
    return count


def test_interpolation_matches_brute_force_on_random_walks():
    rng = np.random.default_rng(3)
    for _ in range(5):
        steps = rng.normal(0, 4, (40, 4)) * [1, 1, 0.3, 0.3]
        truth = np.array([50.0, 50.0, 30.0, 30.0]) + np.cumsum(steps, axis=0)
        for tau in (0.5, 0.7):
            assert interpolation_effort(truth, tau).boxes == _brute_force_keyframes(truth, tau)


def test_assisted_effort_redraws_where_the_tracker_fails_and_restarts_there():
    truth = linear_truth(10)
    predicted = truth.copy()
    predicted[4, 0] += 50  # one failure
    tracker = Replay(predicted)
    effort = assisted_effort(tracker, numbered_frames(10), truth, tau=0.5)
    assert (effort.boxes, effort.frames) == (2, 10)
    assert tracker.inits == [0, 4]


def test_suite_report_tables_json_and_plots(tmp_path, sequence_folder):
    seq = load_sequence(sequence_folder)
    perfect = Replay(seq.boxes, name="perfect")
    report = run_suite([seq], [perfect], effort_trackers=("perfect",), log=lambda *_: None,
                       workflow=Drift(seq.boxes))
    summary = report["trackers"]["perfect"]
    assert summary["auc"] == pytest.approx(20 / 21) and summary["precision"] == 1.0
    assert report["effort"]["0.5"]["perfect"]["boxes"] == 1
    assert report["effort"]["0.7"]["interpolation"]["frames"] == len(seq)
    assert report["effort"]["0.7"]["keyframe workflow"] == {
        "per_100_frames": 5.0, "boxes": 1, "frames": 20, "sequences": {"Square": {"boxes": 1, "frames": 20}}
    }
    text = tables(report)
    assert "perfect" in text and "perfect-assisted" in text and "interpolation" in text
    assert "\nkeyframe workflow " in text
    write_json(report, tmp_path / "r" / "report.json")
    assert json.loads((tmp_path / "r" / "report.json").read_text())["sequences"] == [seq.name]
    for png in save_plots(report, tmp_path / "r"):
        assert png.read_bytes()[:4] == b"\x89PNG"


class Drift:
    """A multi-target tracker that knows the ground truth (the frame's first pixel is its index) and drifts
    ``drift`` px to the right per frame away from the frame its run started on."""

    def __init__(self, truth, drift=0.0):
        self.truth, self.drift, self.updates = np.asarray(truth, float), drift, []

    def init(self, frame, boxes):
        self.start, self.n = int(frame[0, 0, 0]), len(boxes)

    def update(self, frame):
        i = int(frame[0, 0, 0])
        self.updates.append(i)
        box = self.truth[i] + [self.drift * abs(i - self.start), 0, 0, 0]
        return np.repeat(box[None], self.n, axis=0), np.full(self.n, 0.9)

    def select_targets(self, indices):
        self.n = len(indices)


def test_keyframe_workflow_with_a_perfect_tracker_draws_one_box():
    truth = linear_truth(30)
    truth[[0, 1, 12]] = np.nan  # not annotated: not counted, never a keyframe
    tracker = Drift(truth)
    assert keyframe_workflow_effort(tracker, numbered_frames(30), truth, tau=0.7) == Effort(1, 27)
    assert tracker.updates == list(range(3, 30))


def test_keyframe_workflow_adds_the_first_failing_frame_and_retracks_only_the_gaps_next_to_it():
    # 30 px boxes drifting 1 px a frame hold IoU >= 0.5 up to 10 frames from a keyframe. From frame 0 the
    # first failing frame is 11; then 22 and 33 (each gap behind filled from both ends holds); then all hold.
    truth = linear_truth(40, start=(10.0, 10.0, 30.0, 30.0))
    tracker = Drift(truth, drift=1.0)
    assert keyframe_workflow_effort(tracker, numbered_frames(40), truth, tau=0.5) == Effort(4, 40)
    # each round: the new gap behind the keyframe from both ends (2 x 10 frames), and the frames after it
    # up to the first failing one (the last round: to the end)
    assert len(tracker.updates) == 11 + (20 + 11) + (20 + 11) + (20 + 6)


class Wander(Drift):
    """Drift whose error on each frame is a fixed pseudo-random function of the run's start and the frame:
    mostly growing with the distance, now and then a jump."""

    def __init__(self, truth, seed):
        super().__init__(truth)
        self.seed = seed

    def update(self, frame):
        i = int(frame[0, 0, 0])
        self.updates.append(i)
        rng = np.random.default_rng((self.seed, self.start, i))
        error = rng.normal(0.0, 1.5 * abs(i - self.start) ** 0.5, 4) * [1, 1, 0.3, 0.3]
        if rng.random() < 0.05:
            error[0] += 40.0
        box = self.truth[i] + error
        return np.repeat(box[None], self.n, axis=0), np.full(self.n, 0.9)


def _effort_propagating_to_the_end(tracker, frames, truth, tau):
    """The keyframe workflow, every propagation run to its end (the reference the shortcut must match)."""
    annotated = np.flatnonzero(np.isfinite(truth).all(axis=1))
    stack, table, filled = _Stack(frames), TrackTable(), FilledGaps()
    frame, drawn = int(annotated[0]), 0
    while True:
        table.merge([BoxRow(frame, 1, *map(float, truth[frame]), 1.0, "manual", True)])
        drawn += 1
        request = PropagationRequest(int(annotated[0]), start_from="all")
        for progress in propagate(tracker, stack, plan(table, request, len(frames), filled=filled)):
            table.merge(progress.rows)
            filled.record(progress.filled)
        failing = _overlaps(table, truth, annotated) < tau
        if not failing.any():
            return Effort(drawn, len(annotated))
        frame = int(annotated[np.argmax(failing)])
        if table.get(1, frame).keyframe:
            return Effort(drawn + int(failing.sum()), len(annotated))


@pytest.mark.parametrize("tau", [0.5, 0.7])
def test_keyframe_workflow_counts_as_propagating_to_the_end_with_fewer_tracked_frames(tau):
    truth = linear_truth(60, start=(10.0, 10.0, 30.0, 30.0), step=(1.5, 0.5, 0.1, 0.0))
    truth[[7, 30, 31]] = np.nan  # not annotated
    truth[45, 2:] = 0.0  # a box no keyframe can match
    saved = 0
    for seed in range(12):
        shortcut, reference = Wander(truth, seed), Wander(truth, seed)
        with np.errstate(invalid="ignore"):
            expected = _effort_propagating_to_the_end(reference, numbered_frames(60), truth, tau)
            assert keyframe_workflow_effort(shortcut, numbered_frames(60), truth, tau) == expected
        assert len(shortcut.updates) <= len(reference.updates)
        saved += len(reference.updates) - len(shortcut.updates)
    assert saved > 0


def test_keyframe_workflow_draws_until_every_frame_holds():
    truth = linear_truth(20)
    effort = keyframe_workflow_effort(Drift(truth, drift=100.0), numbered_frames(20), truth, tau=0.5)
    assert effort == Effort(20, 20)  # every tracked box is wrong: a keyframe on every frame


def test_keyframe_workflow_stops_at_a_frame_no_box_can_match_and_counts_what_still_fails():
    truth = linear_truth(20)
    truth[5, 2:] = 0.0  # a box of zero size: not even its own keyframe reaches the threshold
    with np.errstate(invalid="ignore"):  # its IoU is 0 / 0
        effort = keyframe_workflow_effort(Drift(truth, drift=100.0), numbered_frames(20), truth, tau=0.5)
    assert effort == Effort(6 + 15, 20)  # keyframes on 0-5, then frame 5 and the 14 after it


def test_keyframe_workflow_with_the_shipped_tracker(sequence_folder):
    from napari_siamtrack import Tracker

    seq = load_sequence(sequence_folder)
    frames = [seq.read(i) for i in range(len(seq))]
    effort = keyframe_workflow_effort(Tracker(), frames, seq.boxes, tau=0.7)
    assert effort.frames == 20 and 1 <= effort.boxes <= 20


@pytest.mark.skipif(not opencv_available(), reason="OpenCV contrib is not installed")
@pytest.mark.parametrize("name", ["CSRT", "KCF", "MIL"])
def test_opencv_baselines_follow_a_moving_square(name, sequence_folder):
    seq = load_sequence(sequence_folder)
    frames = [seq.read(i) for i in range(len(seq))]
    result = one_pass(OpenCVTracker(name), frames, seq.boxes)
    # The centre within 20 px on every frame. Not IoU: MIL's box size varies from run to run in one
    # process (its random generator is internal; IoU > 0.5 on 70-100% of the frames over 40 runs).
    assert precision_curve(result.boxes, seq.boxes)[20] == 1.0


@pytest.fixture
def sequence_folder(tmp_path):
    """An OTB-layout sequence: a textured square moving right over a noisy background."""
    import imageio.v3 as iio

    rng = np.random.default_rng(0)
    folder = tmp_path / "Square"
    (folder / "img").mkdir(parents=True)
    patch = rng.integers(0, 255, (30, 30, 3), dtype=np.uint8)
    lines = []
    for i in range(20):
        frame = rng.integers(90, 110, (120, 160, 3), dtype=np.uint8)
        x, y = 20 + 3 * i, 40
        frame[y : y + 30, x : x + 30] = patch
        frame[0, 0, 0] = i  # lets a Replay tracker know the frame
        iio.imwrite(folder / "img" / f"{i + 1:04d}.png", frame)
        lines.append(f"{x + 1},{y + 1},30,30")
    (folder / "groundtruth_rect.txt").write_text("\n".join(lines) + "\n")
    return folder


@pytest.mark.skipif(not opencv_available(), reason="OpenCV contrib is not installed")
def test_bench_command_writes_table_json_and_plots(tmp_path, sequence_folder, capsys):
    from napari_siamtrack.cli import main
    from napari_siamtrack.tracking.model import SiamFCPlus
    from napari_siamtrack.tracking.weights import save_weights

    weights = save_weights(SiamFCPlus(), tmp_path / "w.safetensors")
    out = tmp_path / "bench"
    code = main(["bench", str(sequence_folder.parent), "--weights", str(weights), "--baselines", "CSRT",
                 "--effort", "--out", str(out), "--threads", "2"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "AUC/CSRT" in printed and "CSRT-assisted" in printed and "SiamFC+-assisted" in printed
    assert "keyframe workflow" in printed
    report = json.loads((out / "report.json").read_text())
    assert set(report["trackers"]) == {"SiamFC+", "CSRT"}
    assert report["tracker"]["weights"] == str(weights)
    assert {p.name for p in out.iterdir()} == {"report.json", "table.txt", "success.png", "precision.png"}


def test_bench_review_writes_per_frame_data_and_its_analysis(tmp_path, sequence_folder, capsys):
    from napari_siamtrack.cli import main
    from napari_siamtrack.tracking.model import SiamFCPlus
    from napari_siamtrack.tracking.weights import save_weights

    weights = save_weights(SiamFCPlus(), tmp_path / "w.safetensors")
    out = tmp_path / "bench"
    assert main(["bench", str(sequence_folder.parent), "--weights", str(weights), "--baselines", "--review",
                 "--out", str(out), "--threads", "1"]) == 0
    assert "confidence, cross-validated" in capsys.readouterr().out
    (record,) = json.loads((out / "review.json").read_text())["records"]
    assert record["name"] == "Square" and record["frame_size"] == [120, 160]
    assert len(record["boxes"]) == len(record["scores"]) == len(record["truth"]) == 20
    assert record["scores"][0] is None and all(0 <= s <= 1 for s in record["scores"][1:])
    review = json.loads((out / "report.json").read_text())["review"]
    assert review["frames"] == 19 and 0 <= review["raw score"]["flagged"] <= 1


def test_bench_command_rejects_unknown_sequences(sequence_folder, capsys):
    from napari_siamtrack.cli import main

    assert main(["bench", str(sequence_folder), "--sequences", "Nope", "--baselines"]) == 2
    assert "no such sequence(s): Nope" in capsys.readouterr().err


def test_roc_auc_counts_ties_as_half():
    from napari_siamtrack.bench.review import roc_auc

    assert roc_auc([0.9, 0.8, 0.1, 0.2], [True, True, False, False]) == 1.0
    assert roc_auc([0.1, 0.2, 0.9, 0.8], [True, True, False, False]) == 0.0
    assert roc_auc([0.5, 0.5, 0.5], [True, False, False]) == 0.5
    assert roc_auc([0.3, 0.7, 0.5, 0.6], [True, True, False, False]) == 0.5


def drifting_records(n_sequences=6, n=60, seed=0):
    """One-pass records whose tracker loses the target half-way through some sequences: the box jumps
    away and the score drops a little (so the score alone separates right from wrong only roughly)."""
    from napari_siamtrack.bench.ope import PassResult
    from napari_siamtrack.bench.review import pass_record

    rng = np.random.default_rng(seed)
    records = []
    for k in range(n_sequences):
        truth = linear_truth(n)
        boxes, scores = truth.copy(), rng.uniform(0.5, 1.0, n)
        if k in (1, 2, 4):  # both halves of the cross-validation hold some
            boxes[n // 2:, 0] += 80  # lost: on another object from here on
            scores[n // 2:] = rng.uniform(0.3, 0.9, n - n // 2)
        scores[0] = np.nan
        records.append(pass_record(f"seq{k}", (100, 200), truth, PassResult(boxes, scores, 1.0, n)))
    return records


def test_review_evaluation_reports_auc_precision_and_recall(tmp_path):
    from napari_siamtrack.bench.review import evaluate, review_table

    records = drifting_records()
    json.dumps(records)  # plain JSON
    result = evaluate(records)
    assert result["frames"] == 6 * 59 and result["wrong"] == 3 * 30
    crossed, raw = result["confidence, cross-validated"], result["raw score"]
    assert crossed["auc"] > 0.95 > raw["auc"] > 0.5
    assert 0 < crossed["recall"] <= 1 and 0 < crossed["precision"] <= 1
    text = review_table(result)
    assert "confidence, cross-validated" in text and "raw score" in text
    assert len(result["model fitted on all"]["weights"]) == 2
    assert 0.5 < crossed["auc_per_sequence"] <= 1
