"""The online target model: the correlation filter itself, its place in the tracker, and what it buys."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from analytic import AnalyticFeatures, textured_sequence

from napari_siamtrack.tracking.config import TrackerConfig
from napari_siamtrack.tracking.model import SiamFCPlus, XCorrHead
from napari_siamtrack.tracking.target_model import CorrelationFilter
from napari_siamtrack.tracking.tracker import Tracker


def analytic_tracker(config: TrackerConfig) -> Tracker:
    model = SiamFCPlus(AnalyticFeatures(), XCorrHead(out_scale=1.0))
    return Tracker.from_model(model, device="cpu", config=config, precision="fp32")


def test_the_filter_answers_on_the_target_cell_and_follows_a_shift():
    torch.manual_seed(0)
    features = torch.randn(2, 32, 21, 21)
    model = CorrelationFilter(21, channels=16, sigma=0.5)
    state = model.init(features, torch.tensor([[10.0, 10.0], [6.0, 12.0]]))
    response = model.respond(state, model.spectrum(state, features))
    peaks = [divmod(int(r.argmax()), 21) for r in response]
    assert peaks == [(10, 10), (12, 6)]
    assert response.amax(dim=(1, 2)).min() > 0.5
    shifted = torch.roll(features, shifts=(2, 3), dims=(2, 3))  # 2 rows down, 3 columns right
    peaks = [divmod(int(r.argmax()), 21) for r in model.respond(state, model.spectrum(state, shifted))]
    assert peaks == [(12, 13), (14, 9)]


def test_update_with_rate_zero_changes_nothing_and_rate_one_replaces():
    torch.manual_seed(1)
    features = torch.randn(2, 8, 21, 21)
    model = CorrelationFilter(21, channels=8)
    centre = torch.full((2, 2), 10.0)
    state = model.init(features, centre)
    before = state.numerator.clone()
    other = torch.randn(2, 8, 21, 21)
    model.update(state, model.spectrum(state, other), centre, torch.tensor([0.0, 1.0]))
    assert torch.equal(state.numerator[0], before[0])
    fresh = model.init(features, centre)
    model.update(fresh, model.spectrum(fresh, other), centre, torch.tensor([1.0, 1.0]))
    assert torch.allclose(state.numerator[1], fresh.numerator[1])


@pytest.fixture(scope="module")
def growing():
    return textured_sequence(n_frames=30)


def test_batched_targets_match_single_trackers_with_the_target_model(growing):
    frames, truth = growing
    config = TrackerConfig(target_model=4.0, target_model_lr=0.1)
    boxes = [truth[0], truth[0] + np.array([4.0, -3.0, 0.0, 0.0])]
    batched = analytic_tracker(config)
    batched.init(frames[0], np.stack(boxes))
    singles = [analytic_tracker(config) for _ in boxes]
    for tracker, box in zip(singles, boxes):
        tracker.init(frames[0], box)
    for frame in frames[1:12]:
        together, scores = batched.update(frame)
        for i, tracker in enumerate(singles):
            alone, score = tracker.update(frame)
            np.testing.assert_allclose(together[i], alone, atol=1e-4)
            assert abs(scores[i] - score) < 1e-4


def test_extra_examples_change_the_target_model_and_one_more_view_of_the_same_weighs_in_equally(growing):
    frames, truth = growing
    config = TrackerConfig(target_model=4.0)
    plain, taught, same = analytic_tracker(config), analytic_tracker(config), analytic_tracker(config)
    plain.init(frames[0], truth[0])
    taught.init(frames[0], truth[0], examples=[(frames[20], truth[20]), (frames[25], truth[25])])
    same.init(frames[0], truth[0], examples=[(frames[0], truth[0])])
    assert not torch.allclose(plain._state.filters.numerator, taught._state.filters.numerator)
    assert torch.allclose(plain._state.filters.numerator, same._state.filters.numerator, atol=1e-5)
    several = analytic_tracker(config)
    several.init(frames[0], np.stack([truth[0], truth[0]]), examples=[[], [(frames[20], truth[20])]])
    filters = several._state.filters
    assert torch.allclose(filters.numerator[0], plain._state.filters.numerator[0], atol=1e-5)
    assert not torch.allclose(filters.numerator[1], plain._state.filters.numerator[0])


def test_examples_are_checked(growing):
    frames, truth = growing
    tracker = analytic_tracker(TrackerConfig(target_model=4.0))
    with pytest.raises(ValueError, match="one list"):
        tracker.init(frames[0], np.stack([truth[0], truth[0]]), examples=[[(frames[1], truth[1])]])
    with pytest.raises(ValueError, match="outside"):
        tracker.init(frames[0], truth[0], examples=[(frames[1], (1000.0, 1000.0, 5.0, 5.0))])


def test_the_target_model_off_is_the_plain_tracker(growing):
    frames, truth = growing
    off = analytic_tracker(TrackerConfig(target_model_lr=0.3))  # target_model 0: off, whatever the rest
    plain = analytic_tracker(TrackerConfig())
    for tracker in (off, plain):
        tracker.init(frames[0], truth[0], examples=[(frames[5], truth[5])])
    for frame in frames[1:8]:
        assert off.update(frame) == plain.update(frame)


def _jumping_target(n_frames: int = 30, jump_at: int = 6):
    """The cat's face still on the left, then, from ``jump_at`` on, still far to the right: out of the
    search region it was in."""
    from skimage import data
    from skimage.transform import resize

    face = resize(data.chelsea()[40:200, 120:320].astype(float), (40, 50), preserve_range=True)
    rng = np.random.default_rng(0)
    frames, boxes = [], []
    for i in range(n_frames):
        x, y = (30, 100) if i < jump_at else (330, 60)
        frame = np.full((240, 400, 3), 110.0) + rng.normal(0, 3.0, (240, 400, 3))
        frame[y : y + 40, x : x + 50] = face
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
        boxes.append((x, y, 50, 40))
    return np.stack(frames), np.array(boxes, float)


def test_redetection_finds_a_target_that_left_the_search_region():
    from napari_siamtrack.metrics import iou

    frames, truth = _jumping_target()
    config = TrackerConfig(unsure_ratio=0.9, redetect_after=3, redetect_size=767)
    results = {}
    for name, c in (("plain", TrackerConfig()), ("redetect", config)):
        tracker = analytic_tracker(c)
        tracker.init(frames[0], truth[0])
        out = [tracker.update(frame) for frame in frames[1:]]
        results[name] = (np.array([iou(np.array([b]), truth[i + 1 : i + 2])[0] for i, (b, _) in enumerate(out)]),
                         np.array([s for _, s in out]))
    plain, found = results["plain"], results["redetect"]
    assert plain[0][-10:].max() < 0.1  # the plain tracker never finds it again
    assert found[0][-10:].min() > 0.7  # the wide search did, and the tracker stays on it
    assert (found[1][5:8] < 0.9).all()  # while lost, the frames score low


def test_template_features_from_the_search_features_match_a_template_crop(growing):
    """On a target found exactly at a search cell, the search features' 5 x 5 window is the template's."""
    frames, truth = growing
    tracker = analytic_tracker(TrackerConfig())
    tracker.init(frames[0], truth[0])
    s = tracker._state
    search = tracker._crops(frames[0], s.window, s.fill, s.centres, s.search, 255)
    features = tracker._search_features(search, 1)
    cut = tracker._features_at(features, 1, torch.zeros(1, dtype=torch.long), torch.zeros(1, 2, dtype=torch.float64), 5)
    torch.testing.assert_close(cut, s.templates, atol=1e-4, rtol=1e-4)
    shifted = tracker._features_at(features, 1, torch.zeros(1, dtype=torch.long), torch.tensor([[32.0, -16.0]]), 5)
    torch.testing.assert_close(shifted[0], features[0, :, 7:12, 10:15], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("look_alike", ["redder", "grey"])
def test_on_a_look_alike_crossing_the_siamese_score_alone_switches_and_the_shipped_tracker_does_not(look_alike):
    """A face walks across a photograph; a recoloured copy of it walks the other way, a little lower, and
    passes in front of part of it. The shipped network and settings, with and without the target model
    and the look-alike memory."""
    from dataclasses import replace

    from skimage import data

    from napari_siamtrack.bench.generated import crossing
    from napari_siamtrack.metrics import iou

    face = data.astronaut()[30:130, 170:250]
    recoloured = {
        "redder": np.clip(face.astype(int) + [40, -20, -20], 0, 255),
        "grey": np.repeat(face.mean(axis=2, keepdims=True), 3, axis=2),
    }[look_alike].astype(np.uint8)
    video, truth = crossing(face, recoloured, data.coffee(), frames=60, gap=0.6)
    shipped = Tracker()
    siamese = Tracker(config=replace(shipped.config, target_model=0.0, distractor=0.0, redetect_after=0))
    overlap = {}
    for name, tracker in (("siamese", siamese), ("shipped", shipped)):
        tracker.init(video[0], truth[0])
        boxes = np.array([tracker.update(frame)[0] for frame in video[1:]])
        overlap[name] = iou(boxes, truth[1:])
    assert overlap["siamese"][-10:].max() < 0.1  # it left with the look-alike
    assert overlap["shipped"].min() > 0.6  # it held the target all the way
