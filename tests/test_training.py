"""Training: crop cache, pair sampling, losses, the exported network, and ``siamtrack train``."""

from __future__ import annotations

import json
import shutil

import imageio.v3 as iio
import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from napari_siamtrack import Tracker
from napari_siamtrack.cli import main
from napari_siamtrack.io.sequences import Sequence, load_sequence
from napari_siamtrack.tracking.weights import load_weights
from napari_siamtrack.training import cache as cache_module
from napari_siamtrack.training.augment import motion_blur
from napari_siamtrack.training.cache import CropCache, build_cache
from napari_siamtrack.training.losses import balanced_logistic, contrastive
from napari_siamtrack.training.network import TrainingNet
from napari_siamtrack.training.pairs import Augmentation, PairDataset

STILL = Augmentation(0, 0, 0, 0, color=0, gray=0, blur=0)  # no augmentation at all


def _sequence(folder, frames: list[np.ndarray], boxes) -> Sequence:
    """Write an OTB-layout sequence (1-based boxes on disk) and load it."""
    (folder / "img").mkdir(parents=True)
    for i, frame in enumerate(frames):
        iio.imwrite(folder / "img" / f"{i:04d}.png", frame)
    lines = [",".join(str(v + (1 if k < 2 else 0)) for k, v in enumerate(box)) for box in boxes]
    (folder / "groundtruth_rect.txt").write_text("\n".join(lines) + "\n")
    return load_sequence(folder)


def _square_frames(n: int, height: int = 64, width: int = 80, side: int = 12):
    """Dark frames with a bright square moving right; returns (frames, 0-based boxes)."""
    frames, boxes = [], []
    for i in range(n):
        x, y = 20 + 2 * i, 25
        frame = np.full((height, width, 3), 30, np.uint8)
        frame[y : y + side, x : x + side] = (230, 200, 60)
        frames.append(frame)
        boxes.append((x, y, side, side))
    return frames, boxes


def _centre_of_mass(image: np.ndarray) -> np.ndarray:
    """(x, y) centre of mass in continuous pixel coordinates (pixel j covers [j, j + 1))."""
    weights = image / image.sum()
    ys, xs = np.indices(image.shape) + 0.5
    return np.array([(weights * xs).sum(), (weights * ys).sum()])


# --- crop cache -------------------------------------------------------------------------------------


def test_a_pack_at_search_scale_comes_back_unchanged(tmp_path):
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (255, 255, 3), dtype=np.uint8) for _ in range(2)]
    # w = h = 63.5 has context sqrt((2w)^2) = 127 = exemplar size; centred at 127.5.
    box = (127.5 - 31.75, 127.5 - 31.75, 63.5, 63.5)
    cache = build_cache([_sequence(tmp_path / "s", frames, [box, box])], tmp_path / "cache")
    assert len(cache) == 2 and cache.size == 255
    diff = np.abs(cache.crops.astype(int) - np.stack(frames).astype(int))
    assert diff.max() <= 1


def test_a_raw_frame_is_cropped_around_the_box_at_context_scale(tmp_path):
    frames, boxes = _square_frames(1, side=20)
    seq = _sequence(tmp_path / "s", frames, boxes)
    crop = build_cache([seq], tmp_path / "cache").crops[0].astype(float)
    bright = crop[:, :, 0] > 130
    np.testing.assert_allclose(_centre_of_mass(bright), [127.5, 127.5], atol=0.5)
    # Context square: sqrt((20 + 20) ** 2) = 40 frame px -> 127 crop px, so the square is 63.5 px wide.
    side = 20 * 127 / 40
    assert abs(np.sqrt(bright.sum()) - side) < 1.5
    # The context runs past the frame's edge there, which takes the frame's mean colour.
    mean = frames[0].reshape(-1, 3).mean(axis=0)
    np.testing.assert_allclose(crop[2, 2], mean, atol=1)


def test_the_cache_is_reused_until_the_sequences_change(tmp_path, monkeypatch):
    calls = []
    crop = cache_module.crop_around_box
    monkeypatch.setattr(cache_module, "crop_around_box", lambda *a: calls.append(1) or crop(*a))
    frames, boxes = _square_frames(3)
    seq = _sequence(tmp_path / "s", frames, boxes)
    first = build_cache([seq], tmp_path / "cache")
    assert len(calls) == 3
    again = build_cache([seq], tmp_path / "cache")
    assert len(calls) == 3
    np.testing.assert_array_equal(again.crops, first.crops)
    moved = seq.boxes.copy()
    moved[1, 0] += 4
    rebuilt = build_cache([Sequence(seq.name, seq.frames, moved, seq.frame_numbers)], tmp_path / "cache")
    assert len(calls) == 6
    assert not np.array_equal(rebuilt.crops[1], first.crops[1])


# --- training pairs ---------------------------------------------------------------------------------


def _cache(crops: np.ndarray, sequence, frame_number) -> CropCache:
    names = tuple(f"seq{i}" for i in range(max(sequence) + 1))
    return CropCache(crops, np.asarray(sequence), np.asarray(frame_number), names)


def _dot_cache(n: int = 2) -> CropCache:
    """Black crops with one white pixel at the centre (the target)."""
    crops = np.zeros((n, 255, 255, 3), np.uint8)
    crops[:, 127, 127] = 255
    return _cache(crops, [0] * n, range(n))


@pytest.mark.parametrize("index", range(6))
def test_the_label_is_the_l1_ball_around_where_the_target_lands(index):
    aug = Augmentation(template_shift=0, template_scale=0, search_shift=20, search_scale=0.05,
                       color=0, gray=0, blur=0)
    _, search, label = PairDataset(_dot_cache(), 6, aug, seed=3)[index]
    dot = search.sum(dim=0).numpy()
    dot[dot < 1] = 0  # the black background, up to rounding
    landed = (_centre_of_mass(dot) - 127.5) / 8  # score cells (stride 8) from the centre
    assert np.abs(landed).max() > 0.25  # the shift moved it by more than 2 px
    cells = np.arange(17) - 8
    distance = np.abs(cells[None, :] - landed[0]) + np.abs(cells[:, None] - landed[1])
    # Cells clearly inside radius 2 are positive, those clearly outside negative.
    assert label[0].numpy()[distance < 1.9].all()
    assert not label[0].numpy()[distance > 2.1].any()


def test_without_shift_the_label_is_the_central_diamond():
    template, search, label = PairDataset(_dot_cache(), 1, STILL)[0]
    assert template.shape == (3, 127, 127) and search.shape == (3, 255, 255)
    assert template[:, 63, 63].tolist() == [255, 255, 255]
    i, j = np.indices((17, 17))
    np.testing.assert_array_equal(label[0].numpy(), (np.abs(i - 8) + np.abs(j - 8) <= 2))
    assert label.sum() == 13


def _uniform_pairs(sequence, frame_number, pairs: int, augmentation: Augmentation, **kwargs):
    """Small pairs of crops that are each a single grey value, their own index: a pair shows which
    crops it took."""
    n = len(sequence)
    crops = np.broadcast_to(np.arange(n, dtype=np.uint8)[:, None, None, None], (n, 63, 63, 3))
    cache = _cache(np.ascontiguousarray(crops), sequence, frame_number)
    return PairDataset(cache, pairs, augmentation, exemplar_size=31, instance_size=63, **kwargs)


def _items(pair) -> tuple[int, int]:
    template, search, _ = pair
    return round(template.mean().item()), round(search.mean().item())


def test_negative_pairs_take_another_sequence_with_an_all_zero_label():
    aug = Augmentation(negative=1.0, color=0, gray=0, blur=0)
    dataset = _uniform_pairs([0, 0, 0, 1, 1, 1], [0, 1, 2, 0, 1, 2], 20, aug)
    for pair in (dataset[i] for i in range(len(dataset))):
        t, s = _items(pair)
        assert (t < 3) != (s < 3)  # crops 0-2 are sequence 0, 3-5 sequence 1
        assert pair[2].sum() == 0


def test_a_distractor_is_another_target_pasted_away_from_the_true_one():
    crops = np.zeros((2, 255, 255, 3), np.uint8)
    crops[0, 127, 127] = 255  # sequence 0: the target is a white dot
    crops[1, 64:191, 64:191] = 100  # sequence 1: a grey square, of which the middle gets pasted
    cache = _cache(crops, [0, 1], [0, 0])
    aug = Augmentation(0, 0, 0, 0, color=0, gray=0, blur=0, distractor=1.0)
    dataset = PairDataset(cache, 40, aug)
    pasted = 0
    for template, search, label in (dataset[i] for i in range(len(dataset))):
        if template.max() < 255:
            continue  # the template was the grey square: nothing else to paste
        assert search[:, 127, 127].tolist() == [255, 255, 255]  # the target is untouched
        grey = (search[0] > 40) & (search[0] < 160)
        assert grey.sum() > 300
        rows, cols = np.nonzero(grey.numpy())
        assert np.hypot(rows.mean() - 127, cols.mean() - 127) >= 60  # 8 score cells, less rounding
        assert label.sum() == 13  # its cells stay negative
        pasted += 1
    assert pasted > 10


def test_motion_blur_spreads_a_dot_along_a_line():
    image = torch.zeros(3, 41, 41)
    image[:, 20, 20] = 90.0
    blurred = motion_blur(image, 11.0, 0.0)  # horizontal
    assert blurred.shape == image.shape
    assert blurred.sum().item() == pytest.approx(270.0)
    lit = blurred[0].numpy() > 0
    assert lit[20].sum() == 11 and lit.sum() == 11  # one row, 11 pixels long
    vertical = motion_blur(image, 11.0, np.pi / 2)[0].numpy() > 0
    assert vertical[:, 20].sum() == 11 and vertical.sum() == 11


def test_search_frames_stay_within_the_frame_range():
    numbers = np.arange(0, 60, 3)  # every third frame was annotated
    dataset = _uniform_pairs([0] * len(numbers), numbers, 200, STILL, frame_range=7)
    gaps = [abs(numbers[s] - numbers[t]) for t, s in (_items(dataset[i]) for i in range(len(dataset)))]
    assert max(gaps) == 6 and min(gaps) == 0


def test_pairs_depend_only_on_seed_epoch_and_index():
    rng = np.random.default_rng(1)
    cache = _cache(rng.integers(0, 256, (4, 255, 255, 3), dtype=np.uint8), [0, 0, 1, 1], [0, 1, 0, 1])
    a, b = PairDataset(cache, 8, seed=5), PairDataset(cache, 8, seed=5)
    for x, y in zip(a[3], b[3]):
        assert torch.equal(x, y)
    b.set_epoch(1)
    assert not torch.equal(a[3][1], b[3][1])


# --- losses -----------------------------------------------------------------------------------------


def test_balanced_logistic_weighs_positives_and_negatives_equally():
    torch.manual_seed(0)
    logits = torch.randn(2, 1, 17, 17) * 3
    labels = torch.zeros_like(logits)
    labels[:, :, 7:10, 7:10] = 1
    p = torch.sigmoid(logits)
    bce = -(labels * torch.log(p) + (1 - labels) * torch.log(1 - p))
    expected = 0.5 * bce[labels == 1].mean() + 0.5 * bce[labels == 0].mean()
    torch.testing.assert_close(balanced_logistic(logits, labels), expected)


def test_contrastive_distance_is_the_mean_squared_window_difference():
    torch.manual_seed(0)
    z, x = torch.randn(1, 4, 3, 3), torch.randn(1, 4, 6, 6)
    for i in range(4):
        for j in range(4):
            # One positive cell, margin 0 (negatives cost nothing): the loss is d^2 of that cell / 2.
            label = torch.zeros(1, 1, 4, 4)
            label[0, 0, i, j] = 1
            d2 = ((z[0] - x[0, :, i : i + 3, j : j + 3]) ** 2).mean()
            torch.testing.assert_close(2 * contrastive(z, x, label, margin=0.0), d2)


def test_contrastive_is_zero_for_matches_with_distant_negatives():
    torch.manual_seed(0)
    z = torch.rand(2, 4, 3, 3)
    x = torch.full((2, 4, 7, 7), 10.0)
    x[:, :, 2:5, 2:5] = z  # the template itself under the centre cell, far from it elsewhere
    label = torch.zeros(2, 1, 5, 5)
    label[:, :, 2, 2] = 1
    assert contrastive(z, x, label, margin=1.0).item() < 1e-5
    assert contrastive(z, x, label, margin=20.0).item() > 1  # negatives within the margin cost


# --- network ----------------------------------------------------------------------------------------


def test_export_folds_the_score_normalisation_into_the_head():
    torch.manual_seed(0)
    net = TrainingNet()
    with torch.no_grad():
        net.net.head.adjust.weight.fill_(0.7)
        net.net.head.adjust.bias.fill_(-0.3)
        net.train()
        for _ in range(2):  # BN running statistics (backbone and score map) move off their init
            net(torch.rand(2, 3, 127, 127) * 255, torch.rand(2, 3, 159, 159) * 255)
        templates, searches = torch.rand(2, 3, 127, 127) * 255, torch.rand(2, 3, 159, 159) * 255
        net.eval()
        expected = net(templates, searches)[0]
        exported = net.export()
        got = exported(templates, searches)
    assert exported.head.adjust.weight.item() != 0.7
    assert float(net.score_norm.running_var) != 1.0
    assert got.shape == expected.shape == (2, 1, 5, 5)
    assert ((got - expected).abs().max() / expected.abs().max()).item() < 1e-4


def test_start_from_an_exported_network_exports_it_again():
    torch.manual_seed(0)
    trained = TrainingNet()
    with torch.no_grad():
        trained.net.head.adjust.weight.fill_(0.7)
        trained.train()
        trained(torch.rand(2, 3, 127, 127) * 255, torch.rand(2, 3, 159, 159) * 255)  # move BN stats
    exported = trained.eval().export()
    templates, searches = torch.rand(4, 3, 127, 127) * 255, torch.rand(4, 3, 159, 159) * 255

    net = TrainingNet()
    net.start_from(exported, templates, searches)
    again = net.export()
    for name, value in exported.state_dict().items():  # float32: the bias is unfolded and folded back
        torch.testing.assert_close(again.state_dict()[name], value, rtol=1e-4, atol=1e-6)
    # The normalisation now holds statistics of these crops' scores, not its initial 0 and 1.
    with torch.no_grad():
        scores = exported.head.correlate(exported.embed(templates), exported.embed(searches))
    assert float(net.score_norm.running_mean) == pytest.approx(float(scores.mean()), rel=1e-4)
    assert float(net.score_norm.running_var) == pytest.approx(float(scores.var()), rel=1e-4)


def test_start_from_refuses_weights_of_another_layout():
    bgr = TrainingNet().export()
    bgr.channel_order = "BGR"
    with pytest.raises(ValueError, match="RGB weights, not BGR"):
        TrainingNet().start_from(bgr, torch.zeros(1, 3, 127, 127), torch.zeros(1, 3, 159, 159))


# --- siamtrack train --------------------------------------------------------------------------------

TINY = ["--epochs", "2", "--pairs-per-epoch", "2", "--batch-size", "2", "--workers", "0",
        "--device", "cpu", "--seed", "7"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Two short sequences of a bright square moving over a dark frame."""
    root = tmp_path_factory.mktemp("data")
    frames, boxes = _square_frames(6)
    _sequence(root / "a", frames, boxes)
    mirrored = [(80 - x - w, y, w, h) for x, y, w, h in boxes]
    _sequence(root / "b", [f[:, ::-1].copy() for f in frames], mirrored)
    return root


@pytest.fixture(scope="module")
def run(data, tmp_path_factory):
    """A finished two-epoch run."""
    out = tmp_path_factory.mktemp("run")
    assert main(["train", str(data), "--out", str(out), *TINY]) == 0
    return out


def _log(out) -> list[dict]:
    return [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]


def test_train_writes_checkpoint_log_and_weights_per_epoch(run):
    assert (run / "checkpoint.pt").is_file()
    assert [r["epoch"] for r in _log(run)] == [1, 2]
    assert all(r["pairs_seen"] == 2 * r["epoch"] for r in _log(run))
    first = load_file(run / "weights_e001.safetensors")
    second = load_file(run / "weights_e002.safetensors")
    assert any(not torch.equal(first[k], second[k]) for k in first)  # epoch 2 trained on
    loaded = load_weights(run / "weights_e002.safetensors")
    assert loaded.provenance["epochs"] == 2 and loaded.provenance["settings"]["seed"] == 7

    frames, boxes = _square_frames(3)
    tracker = Tracker(run / "weights_e002.safetensors", device="cpu")
    tracker.init(frames[0], boxes[0])
    for frame in frames[1:]:
        box, score = tracker.update(frame)
        assert np.isfinite(box).all() and 0 <= score <= 1


def test_resume_extends_the_run_with_its_own_settings(run, data, tmp_path):
    out = tmp_path / "resumed"
    shutil.copytree(run, out)
    # The pair count, batch size and seed come from the checkpoint; the options given override.
    args = ["--resume", "--epochs", "3", "--weight-decay", "0.001"]
    assert main(["train", str(data), "--out", str(out), *args]) == 0
    assert [r["epoch"] for r in _log(out)] == [1, 2, 3]
    assert _log(out)[2]["pairs_seen"] == 6
    provenance = load_weights(out / "weights_e003.safetensors").provenance
    settings = provenance["settings"]
    assert provenance["epochs"] == 3
    assert (settings["epochs"], settings["seed"], settings["weight_decay"]) == (3, 7, 0.001)
    optimizer = torch.load(out / "checkpoint.pt", weights_only=True)["optimizer"]
    assert optimizer["param_groups"][0]["weight_decay"] == 0.001  # not the checkpoint's


def test_the_same_seed_gives_the_same_weights(run, data, tmp_path, capsys):
    # Epoch 1 does not depend on the number of epochs (its learning rate is lr_start either way).
    out = tmp_path / "again"
    assert main(["train", str(data), "--out", str(out), *TINY, "--epochs", "1"]) == 0
    assert str(out / "weights_e001.safetensors") in capsys.readouterr().out
    again = load_file(out / "weights_e001.safetensors")
    first = load_file(run / "weights_e001.safetensors")
    assert again.keys() == first.keys()
    assert all(torch.equal(again[k], first[k]) for k in first)


def test_init_fine_tunes_existing_weights(run, data, tmp_path):
    out = tmp_path / "tuned"
    init = run / "weights_e002.safetensors"
    args = [*TINY, "--epochs", "1", "--init", str(init), "--distractor", "0.5", "--motion-blur", "0.5"]
    assert main(["train", str(data), "--out", str(out), *args]) == 0
    tuned = load_weights(out / "weights_e001.safetensors")
    assert tuned.provenance["init"]["file"] == "weights_e002.safetensors"
    assert tuned.provenance["init"]["provenance"]["epochs"] == 2
    assert tuned.provenance["settings"]["augmentation"]["distractor"] == 0.5
    before, after = load_file(init), load_file(out / "weights_e001.safetensors")
    weights = [k for k in before if k.endswith(".weight") and before[k].ndim == 4]  # convolutions
    changes = [float((after[k] - before[k]).norm() / before[k].norm()) for k in weights]
    assert 0 < max(changes) < 0.1  # trained on from the given weights, not from random ones


def test_frozen_modules_keep_their_weights_and_statistics(run, data, tmp_path):
    out = tmp_path / "frozen"
    init = run / "weights_e002.safetensors"
    args = [*TINY, "--epochs", "1", "--init", str(init), "--frozen", "conv1,bn1,layer1"]
    assert main(["train", str(data), "--out", str(out), *args]) == 0
    before, after = load_file(init), load_file(out / "weights_e001.safetensors")
    for key in before:
        kept = key.startswith(("backbone.conv1.", "backbone.bn1.", "backbone.layer1."))
        if kept:
            assert torch.equal(before[key], after[key]), key
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("backbone.layer2."))


@pytest.mark.parametrize(
    "args, message",
    [
        (["--frozen", "layer9"], "unknown backbone module(s) layer9"),
        (["--init", "missing.safetensors"], "weights file not found: missing.safetensors"),
        (["--loss", "foo"], "invalid choice: 'foo'"),
        (["--epochs", "0"], "epochs >= 1"),
        (["--batch-size", "1"], "batch_size >= 2"),
        (["--epochs", "x"], "invalid int value"),
        (["--resume", "missing.pt"], "no checkpoint at missing.pt"),
        (["--resume"], "has trained 2 epochs already"),
        (["--resume", "--epochs", "3", "--optimizer", "adamw"], "trained with the sgd optimizer"),
    ],
)
def test_train_rejects_bad_settings(run, data, capsys, args, message):
    log = (run / "log.jsonl").read_text()
    try:
        code = main(["train", str(data), "--out", str(run), *args])
    except SystemExit as exc:  # argparse rejects malformed values itself
        code = exc.code
    assert code == 2
    assert message in capsys.readouterr().err
    assert (run / "log.jsonl").read_text() == log  # the run was left alone
