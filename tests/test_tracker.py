"""The tracker loop, checked with fixed analytic features (no trained weights needed)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
import torch
from analytic import AnalyticFeatures, textured_sequence
from torch import nn

from napari_siamtrack.io.frames import FrameError
from napari_siamtrack.metrics import iou
from napari_siamtrack.tracking.config import TrackerConfig
from napari_siamtrack.tracking.model import SiamFCPlus
from napari_siamtrack.tracking.tracker import BoxError, Tracker

REPO = Path(__file__).resolve().parents[1]


def analytic_tracker(
    channel_order: str = "RGB", backbone: nn.Module | None = None, config: TrackerConfig | None = None
) -> Tracker:
    model = SiamFCPlus(backbone=backbone or AnalyticFeatures(), channel_order=channel_order)
    return Tracker.from_model(model, device="cpu", config=config)


@pytest.fixture(scope="module")
def growing():
    return textured_sequence(n_frames=120, scale_end=1.3)


@pytest.fixture(scope="module")
def shrinking():
    return textured_sequence(n_frames=120, scale_end=0.75)


@pytest.fixture(scope="module")
def translating():
    return textured_sequence(n_frames=60, scale_end=1.0)


def _in_frame(box, width: int, height: int, eps: float = 1e-9) -> bool:
    x, y, w, h = box
    return x >= 0 and y >= 0 and w > 0 and h > 0 and x + w <= width + eps and y + h <= height + eps


# --- geometry ---------------------------------------------------------------------------------


@pytest.mark.parametrize("side_scale_cells", [0, 5])
@pytest.mark.parametrize("sequence", ["growing", "shrinking", "translating"])
def test_tracks_moving_and_scaling_target(request, sequence, side_scale_cells) -> None:
    frames, truth = request.getfixturevalue(sequence)
    # The template update is checked where the size stays put: a template updated while the box
    # lags behind a steady growth learns the lagging size (a known trade-off of updating). The
    # translating target also runs with the search region moved ahead.
    config = TrackerConfig(template_lr=0.1, motion=0.75) if sequence == "translating" else TrackerConfig()
    tracker = analytic_tracker(config=replace(config, side_scale_cells=side_scale_cells))
    tracker.init(frames[0], truth[0])
    ious = []
    for frame, gt in zip(frames[1:], truth[1:]):
        box, _ = tracker.update(frame)
        ious.append(iou(box, gt))
    worst = int(np.argmin(ious))
    assert min(ious) >= 0.7, f"IoU {ious[worst]:.3f} on frame {worst + 1}"


def test_static_frame_keeps_the_box(growing) -> None:
    frames, truth = growing
    tracker = analytic_tracker()
    tracker.init(frames[0], truth[0])
    for _ in range(5):
        box, _ = tracker.update(frames[0])
        np.testing.assert_allclose(box, truth[0], atol=1e-6)


def test_bgr_network_is_fed_bgr() -> None:
    """A BGR network sees the frame's blue channel first (and an RGB network its red channel)."""

    class Recorder(AnalyticFeatures):
        seen: ClassVar[list[torch.Tensor]] = []

        def forward(self, images):
            self.seen.append(images.clone())
            return super().forward(images)

    frame = np.zeros((60, 80, 3), np.uint8)
    frame[..., 0], frame[..., 1], frame[..., 2] = 200, 100, 10
    for order, first, last in (("BGR", 10.0, 200.0), ("RGB", 200.0, 10.0)):
        backbone = Recorder()
        backbone.seen = []
        tracker = analytic_tracker(order, backbone)
        tracker.init(frame, (30, 20, 20, 20))
        tracker.update(frame)
        assert len(backbone.seen) == 2  # template, then all search scales in one batch
        for crops in backbone.seen:
            torch.testing.assert_close(crops[:, 0], torch.full_like(crops[:, 0], first))
            torch.testing.assert_close(crops[:, 2], torch.full_like(crops[:, 2], last))


class CropLog(AnalyticFeatures):
    """Analytic features that note each batch they see as (crops, side in pixels)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[int, int]] = []

    def forward(self, images):
        self.calls.append((images.shape[0], images.shape[2]))
        return super().forward(images)


def test_side_scales_every_other_frame(growing) -> None:
    """With scale_every=2 the odd frames search the unit scale only, and the track still holds."""
    frames, truth = growing
    backbone = CropLog()
    tracker = analytic_tracker(backbone=backbone, config=TrackerConfig(scale_every=2))
    tracker.init(frames[0], truth[0])
    ious = [iou(np.array([tracker.update(frame)[0]]), truth[i + 1 : i + 2])[0] for i, frame in enumerate(frames[1:7])]
    assert [n for n, _ in backbone.calls] == [1, 1, 3, 1, 3, 1, 3]  # template, then frames 1 … 6
    assert min(ious) > 0.7


def test_side_scales_scored_on_small_crops_where_the_target_was_found(growing) -> None:
    """With side_scale_cells=5 each frame takes one full search crop, then one 159 px crop per other
    scale centred on the place found (a 5 x 5 response); the size still follows the target."""
    frames, truth = growing
    backbone = CropLog()
    tracker = analytic_tracker(backbone=backbone, config=TrackerConfig(side_scale_cells=5))
    tracker.init(frames[0], truth[0])
    boxes = [tracker.update(frame)[0] for frame in frames[1:]]
    assert backbone.calls[:5] == [(1, 127), (1, 255), (2, 159), (1, 255), (2, 159)]
    assert iou(np.array(boxes[-1]), truth[-1]) > 0.8
    assert boxes[-1][2] > 1.2 * truth[0][2]  # it grew with the target


# --- several targets ----------------------------------------------------------------------------


@pytest.mark.parametrize("template_lr, motion, side_scale_cells", [(0.0, 0.0, 0), (0.2, 0.75, 0), (0.0, 0.0, 5)])
def test_batched_targets_match_single_trackers(growing, template_lr, motion, side_scale_cells) -> None:
    frames, truth = growing
    boxes = np.array([truth[0], (20.0, 25.0, 40.0, 30.0), (230.0, 150.0, 50.0, 60.0)])
    config = TrackerConfig(template_lr=template_lr, motion=motion, side_scale_cells=side_scale_cells)
    batched = analytic_tracker(config=config)
    batched.init(frames[0], boxes)
    assert batched.num_targets == 3
    singles = [analytic_tracker(config=config) for _ in boxes]
    for tracker, box in zip(singles, boxes):
        tracker.init(frames[0], tuple(box))
        assert tracker.num_targets == 1
    for frame in frames[1:11]:
        out_boxes, out_scores = batched.update(frame)
        assert isinstance(out_boxes, np.ndarray) and out_boxes.shape == (3, 4)
        assert isinstance(out_scores, np.ndarray) and out_scores.shape == (3,)
        for k, tracker in enumerate(singles):
            box, score = tracker.update(frame)
            np.testing.assert_allclose(out_boxes[k], box, atol=1e-3)
            assert out_scores[k] == pytest.approx(score, abs=1e-3)
    # The target itself is still being followed.
    assert iou(out_boxes[0], truth[10]) >= 0.7


@pytest.mark.parametrize("anchor", [0.0, 0.4])
def test_template_update_blends_the_new_box_into_the_template(growing, anchor) -> None:
    frames, truth = growing
    fixed = analytic_tracker()
    updating = analytic_tracker(config=TrackerConfig(template_lr=0.25, template_anchor=anchor))
    fixed.init(frames[0], truth[0])
    updating.init(frames[0], truth[0])
    first = updating._state.templates.clone()
    fixed.update(frames[1])
    box, _ = updating.update(frames[1])
    assert torch.equal(fixed._state.templates, first)  # template_lr 0: the first frame's, unchanged
    # The features of the template crop around the new box, as init would take them there.
    fresh = analytic_tracker()
    fresh.init(frames[1], box)
    running = 0.75 * first + 0.25 * fresh._state.templates
    torch.testing.assert_close(updating._state.templates, anchor * first + (1 - anchor) * running)


def test_motion_moves_the_search_region_ahead(translating) -> None:
    frames, truth = translating
    tracker = analytic_tracker(config=TrackerConfig(motion=0.75))
    tracker.init(frames[0], truth[0])
    start = tracker._state.centres.clone()
    tracker.update(frames[1])
    moved = tracker._state.centres - start
    assert float(moved.abs().max()) > 2.0  # the target did move
    searched = []
    crops = tracker._crops

    def spy(frame, window, fill, centres, sides, out_size):
        if out_size == tracker.config.instance_size:
            searched.append(centres.clone())
        return crops(frame, window, fill, centres, sides, out_size)

    tracker._crops = spy
    before = tracker._state.centres.clone()
    tracker.update(frames[2])
    expected = (before + 0.75 * moved).repeat_interleave(tracker.config.num_scales, dim=0)
    torch.testing.assert_close(searched[0], expected)


def test_untrusted_motion_is_not_followed(translating) -> None:
    frames, truth = translating
    plain = analytic_tracker()
    distrustful = analytic_tracker(config=TrackerConfig(motion=0.75, motion_min_score=1.0))
    plain.init(frames[0], truth[0])
    distrustful.init(frames[0], truth[0])
    for frame in frames[1:8]:
        assert distrustful.update(frame) == plain.update(frame)
    assert not distrustful._state.motions.any()


def test_select_targets_keeps_the_chosen_ones(growing) -> None:
    frames, truth = growing
    boxes = np.array([(20.0, 25.0, 40.0, 30.0), truth[0], (230.0, 150.0, 50.0, 60.0)])
    # The updated templates and the last displacements follow their targets too.
    config = TrackerConfig(template_lr=0.2, motion=0.75)
    both, alone = analytic_tracker(config=config), analytic_tracker(config=config)
    both.init(frames[0], boxes)
    alone.init(frames[0], boxes[[2, 1]])
    both.update(frames[1])
    alone.update(frames[1])
    both.select_targets([2, 1])
    assert both.num_targets == 2
    for frame in frames[2:6]:
        np.testing.assert_allclose(both.update(frame)[0], alone.update(frame)[0], atol=1e-3)
    with pytest.raises(ValueError, match="non-empty subset"):
        both.select_targets([2])
    with pytest.raises(ValueError, match="non-empty subset"):
        both.select_targets([])


def test_single_box_returns_python_floats(growing) -> None:
    frames, truth = growing
    tracker = analytic_tracker()
    assert tracker.num_targets == 0
    tracker.init(frames[0], tuple(truth[0]))
    box, score = tracker.update(frames[1])
    assert isinstance(box, tuple) and len(box) == 4
    assert all(type(v) is float for v in box)
    assert type(score) is float and 0.0 <= score <= 1.0


def test_one_box_in_a_list_gives_the_batched_form(growing) -> None:
    frames, truth = growing
    tracker = analytic_tracker()
    tracker.init(frames[0], [truth[0]])
    boxes, scores = tracker.update(frames[1])
    assert boxes.shape == (1, 4) and scores.shape == (1,)
    assert np.all((scores >= 0) & (scores <= 1))


def test_init_again_starts_over(growing) -> None:
    frames, truth = growing
    tracker = analytic_tracker()
    tracker.init(frames[0], [truth[0], (10, 10, 30, 30)])
    tracker.init(frames[0], truth[0])
    assert tracker.num_targets == 1
    box, _ = tracker.update(frames[0])
    np.testing.assert_allclose(box, truth[0], atol=1e-6)


# --- frame types --------------------------------------------------------------------------------


def _variant(frames: np.ndarray, kind: str) -> np.ndarray:
    if kind == "grey-uint8":
        return frames.mean(axis=-1).round().astype(np.uint8)
    if kind == "uint16":
        return frames.astype(np.uint16) * 257
    if kind == "float32":
        return frames.astype(np.float32) / 255
    if kind == "rgba":
        alpha = np.full(frames.shape[:-1] + (1,), 255, np.uint8)
        return np.concatenate((frames, alpha), axis=-1)
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["grey-uint8", "uint16", "float32", "rgba"])
def test_frame_types_track(growing, kind) -> None:
    frames, truth = growing
    video = _variant(frames[:15], kind)
    tracker = analytic_tracker()
    tracker.init(video[0], truth[0])
    for frame, gt in zip(video[1:], truth[1:15]):
        box, _ = tracker.update(frame)
        assert iou(box, gt) >= 0.5


# --- bad input ----------------------------------------------------------------------------------


@pytest.fixture
def frame() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (60, 80, 3), dtype=np.uint8)


@pytest.mark.parametrize(
    ("box", "message"),
    [
        ((10, 10, 0, 5), "positive width and height"),
        ((10, 10, 5, -1), "positive width and height"),
        ((10, np.nan, 5, 5), "non-finite"),
        ((10, 10, np.inf, 5), "non-finite"),
        ((100, 10, 20, 20), "lies outside the 80x60 frame"),
        ((-50, -40, 20, 20), "lies outside the 80x60 frame"),
        ((80, 10, 5, 5), "lies outside"),
        (np.zeros((2, 3)), r"expected a box \(x, y, w, h\) or a \(K, 4\) array.*\(2, 3\)"),
        (np.zeros((0, 4)), r"expected a box"),
        (np.zeros((2, 2, 4)), r"expected a box"),
    ],
)
def test_bad_boxes(frame, box, message) -> None:
    tracker = analytic_tracker()
    with pytest.raises(BoxError, match=message):
        tracker.init(frame, box)
    assert tracker.num_targets == 0


def test_bad_box_among_several_is_named(frame) -> None:
    tracker = analytic_tracker()
    with pytest.raises(BoxError, match=r"box 1 \(.*\) must have a positive"):
        tracker.init(frame, [(10, 10, 20, 20), (5, 5, 0, 10)])


@pytest.mark.parametrize("box", [(1, 2, 3), (10, 10, 20, 20, 30, 30, 20, 20)])
def test_flat_box_of_wrong_length(frame, box) -> None:
    tracker = analytic_tracker()
    with pytest.raises(BoxError, match="expected a box"):
        tracker.init(frame, box)


def test_update_before_init(frame) -> None:
    with pytest.raises(RuntimeError, match=r"call init\(frame, box\) before update"):
        analytic_tracker().update(frame)


def test_update_with_other_frame_size(frame) -> None:
    tracker = analytic_tracker()
    tracker.init(frame, (10, 10, 20, 20))
    with pytest.raises(FrameError, match=r"frame size \(61, 80\) differs from the first frame's \(60, 80\)"):
        tracker.update(np.zeros((61, 80, 3), np.uint8))


def test_unsupported_frames(frame) -> None:
    tracker = analytic_tracker()
    with pytest.raises(FrameError, match="unsupported frame dtype bool"):
        tracker.init(frame > 128, (10, 10, 20, 20))
    with pytest.raises(FrameError, match="unsupported frame shape"):
        tracker.init(frame[..., :2], (10, 10, 20, 20))
    tracker.init(frame, (10, 10, 20, 20))
    with pytest.raises(FrameError, match="unsupported frame dtype complex"):
        tracker.update(frame.astype(np.complex64))
    with pytest.raises(FrameError, match="unsupported frame shape"):
        tracker.update(np.stack((frame, frame)))


@pytest.mark.parametrize("box", [(-20, -10, 60, 50), (60, 40, 50, 80)])
def test_box_partly_outside_is_clipped(frame, box) -> None:
    height, width = frame.shape[:2]
    tracker = analytic_tracker()
    tracker.init(frame, box)
    x, y, w, h = box
    clipped = (max(x, 0), max(y, 0), min(x + w, width) - max(x, 0), min(y + h, height) - max(y, 0))
    for _ in range(2):
        out, _ = tracker.update(frame)
        assert _in_frame(out, width, height)
        np.testing.assert_allclose(out, clipped, atol=1e-6)


# --- boxes stay in the frame ----------------------------------------------------------------------


def _exit_sequence(direction: int, n: int = 10, height: int = 96, width: int = 128):
    """A textured 32x32 patch sliding out of the right (direction 1) or left (-1) edge."""
    rng = np.random.default_rng(5)
    patch = np.kron(rng.integers(0, 256, (8, 8, 3)), np.ones((4, 4, 1)))
    frames = np.empty((n, height, width, 3), np.uint8)
    xs = [80 + 9 * i for i in range(n)] if direction > 0 else [16 - 9 * i for i in range(n)]
    pad = 96  # the patch is drawn on a wider canvas, of which the frame is the middle
    for i, x in enumerate(xs):
        canvas = 110.0 + rng.normal(0, 3, (height, width + 2 * pad, 3))
        canvas[32:64, x + pad : x + pad + 32] = patch
        frames[i] = np.clip(canvas[:, pad : pad + width], 0, 255)
    return frames, (xs[0], 32, 32, 32)


@pytest.mark.parametrize("direction", [1, -1])
def test_boxes_stay_inside_frame_when_target_leaves(direction) -> None:
    frames, box0 = _exit_sequence(direction)
    height, width = frames.shape[1:3]
    tracker = analytic_tracker()
    tracker.init(frames[0], box0)
    touched_edge = False
    for frame in frames[1:]:
        box, score = tracker.update(frame)
        assert _in_frame(box, width, height), box
        assert 0.0 <= score <= 1.0
        x, _, w, _ = box
        touched_edge |= (x + w >= width - 1e-6) if direction > 0 else (x <= 1e-6)
    assert touched_edge  # the box was really pushed against the edge it left by
    # Several targets at once, too.
    tracker.init(frames[0], [box0, (40, 10, 30, 30)])
    for frame in frames[1:]:
        boxes, _ = tracker.update(frame)
        for box in boxes:
            assert _in_frame(box, width, height), box


# --- imports ------------------------------------------------------------------------------------


def _run_python(code: str) -> str:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_importing_the_package_does_not_import_torch() -> None:
    code = (
        "import sys, napari_siamtrack\n"
        "before = 'torch' in sys.modules\n"
        "from napari_siamtrack import TrackerConfig\n"
        "print(before, 'torch' in sys.modules, TrackerConfig().score_size)\n"
    )
    assert _run_python(code) == "False False 17"


def test_importing_tracker_imports_torch() -> None:
    code = (
        "import sys\n"
        "from napari_siamtrack import Tracker\n"
        "print('torch' in sys.modules, Tracker.__name__)\n"
    )
    assert _run_python(code) == "True Tracker"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/maps")
def test_torchs_core_library_is_loaded_before_torch_is_imported() -> None:
    code = (
        "import sys\n"
        "from napari_siamtrack.tracking.library_preload import preload_torch, torch_core_library\n"
        "loaded = preload_torch()\n"
        "mapped = str(torch_core_library().resolve()) in open('/proc/self/maps').read()\n"
        "print(loaded, mapped, 'torch' in sys.modules)\n"
        "import torch\n"
        "print(float(torch.ones(3).sum()), preload_torch())\n"
    )
    assert _run_python(code).splitlines() == ["True True False", "3.0 False"]


def test_score_maps_are_upsampled_bicubically() -> None:
    """The tracker's matrix form of the upsampling equals torch's bicubic interpolation."""
    from napari_siamtrack.tracking.tracker import _bicubic_matrix

    maps = torch.randn(6, 1, 17, 17)
    a = _bicubic_matrix(17, 257)
    expected = torch.nn.functional.interpolate(maps, size=(257, 257), mode="bicubic", align_corners=True)
    torch.testing.assert_close(a @ maps @ a.T, expected, rtol=0, atol=1e-5)


def test_the_shipped_settings_learn_from_examples_and_siamdws_do_not():
    assert Tracker().learns_from_examples
    assert not Tracker(config=TrackerConfig()).learns_from_examples
