"""Weights: the project's safetensors format and the published SiamDW checkpoint layout."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import safetensors.torch
import torch

from napari_siamtrack.tracking import weights as weights_mod
from napari_siamtrack.tracking.config import TrackerConfig
from napari_siamtrack.tracking.model import SiamFCPlus, XCorrHead
from napari_siamtrack.tracking.tracker import Tracker
from napari_siamtrack.tracking.weights import WeightsError, load_weights, save_weights

OTB2015 = TrackerConfig.preset("otb2015")


def _model_tensors(model: SiamFCPlus) -> dict[str, torch.Tensor]:
    return {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}


def _official_state_dict(seed: int = 0, loc_adjust: bool = True) -> dict[str, torch.Tensor]:
    """Random tensors in SiamDW's ``CIResNet22.pth`` layout, scaled like a trained network's (so the
    network's outputs stay finite): Kaiming-scaled convolutions, BatchNorm near identity."""
    gen = torch.Generator().manual_seed(seed)
    sd = {}
    for name, value in _model_tensors(SiamFCPlus()).items():
        noise = torch.randn(value.shape, generator=gen)
        if name.endswith("running_var"):
            tensor = 0.5 + torch.rand(value.shape, generator=gen)
        elif value.ndim == 4:  # convolution
            tensor = noise * (2.0 / (value.shape[0] * value.shape[2] * value.shape[3])) ** 0.5
        elif name.endswith("weight"):  # BatchNorm scale
            tensor = 1.0 + 0.1 * noise
        else:  # BatchNorm shift and running mean
            tensor = 0.1 * noise
        sd["features.features." + name.removeprefix("backbone.")] = tensor
    if loc_adjust:
        sd["connect_model.loc_adjust.weight"] = 0.1 + 0.01 * torch.randn(1, 1, 1, 1, generator=gen)
        sd["connect_model.loc_adjust.bias"] = torch.randn(1, generator=gen)
    return sd


def _to_ours(key: str) -> str:
    key = key.removeprefix("module.")
    key = key.replace("features.features.", "backbone.", 1)
    return key.replace("connect_model.loc_adjust.", "head.adjust.", 1)


def _assert_loaded_exactly(model: SiamFCPlus, source: dict[str, torch.Tensor]) -> None:
    loaded = _model_tensors(model)
    expected = {_to_ours(k): v for k, v in source.items()}
    assert set(loaded) == set(expected)
    for key, value in expected.items():
        assert torch.equal(loaded[key], value), key


def _random_model(seed: int, learned: bool, channel_order: str) -> SiamFCPlus:
    model = SiamFCPlus(head=XCorrHead(learned=learned), channel_order=channel_order)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for value in _model_tensors(model).values():
            value.copy_(torch.randn(value.shape, generator=gen))
    return model


@pytest.fixture(scope="module")
def official_sd() -> dict[str, torch.Tensor]:
    return _official_state_dict()


@pytest.fixture(scope="module")
def official_pth(tmp_path_factory, official_sd) -> Path:
    path = tmp_path_factory.mktemp("official") / "CIResNet22.pth"
    torch.save(official_sd, path)
    return path


# --- the published checkpoint layout -----------------------------------------------------------


@pytest.mark.parametrize("form", ["zip", "legacy", "wrapped"])
def test_official_layout_loads_exactly(tmp_path, official_sd, form) -> None:
    path = tmp_path / "CIResNet22.pth"
    if form == "zip":
        source = official_sd
        torch.save(source, path)
    elif form == "legacy":
        source = official_sd
        torch.save(source, path, _use_new_zipfile_serialization=False)
    else:
        source = {"module." + k: v for k, v in official_sd.items()}
        torch.save({"state_dict": source}, path)
    loaded = load_weights(path)
    assert loaded.model.channel_order == "BGR"
    assert loaded.model.head.adjust is not None
    assert not loaded.model.training
    assert loaded.tracker_config is None
    assert loaded.provenance["source"] == "CIResNet22.pth"
    _assert_loaded_exactly(loaded.model, source)


def test_official_layout_without_loc_adjust_has_fixed_head(tmp_path) -> None:
    source = _official_state_dict(seed=1, loc_adjust=False)
    path = tmp_path / "no_adjust.pth"
    torch.save(source, path)
    loaded = load_weights(path)
    assert loaded.model.head.adjust is None
    assert loaded.model.channel_order == "BGR"
    _assert_loaded_exactly(loaded.model, source)


def test_pickle_with_python_objects_needs_trust(tmp_path, official_sd) -> None:
    path = tmp_path / "with_args.pth"
    torch.save({"state_dict": official_sd, "args": argparse.Namespace(a=1)}, path)
    with pytest.raises(WeightsError, match="trust_pickle"):
        load_weights(path)
    loaded = load_weights(path, trust_pickle=True)
    assert loaded.model.channel_order == "BGR"
    _assert_loaded_exactly(loaded.model, official_sd)


# --- errors ---------------------------------------------------------------------------------


def test_missing_file(tmp_path) -> None:
    with pytest.raises(WeightsError, match="not found"):
        load_weights(tmp_path / "nope.safetensors")


@pytest.mark.parametrize("form", ["zip", "legacy"])
@pytest.mark.parametrize("keep", [0.5, 0.01])
def test_truncated_checkpoint(tmp_path, official_sd, form, keep) -> None:
    path = tmp_path / "cut.pth"
    torch.save(official_sd, path, _use_new_zipfile_serialization=form == "zip")
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(WeightsError, match="corrupt or unreadable"):
        load_weights(path)


def test_garbage_and_empty_files(tmp_path) -> None:
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"this is not a checkpoint\n" * 20)
    with pytest.raises(WeightsError, match="corrupt or unreadable"):
        load_weights(garbage)
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    with pytest.raises(WeightsError, match="corrupt or unreadable"):
        load_weights(empty)


def test_truncated_safetensors(tmp_path) -> None:
    path = save_weights(_random_model(0, learned=False, channel_order="RGB"), tmp_path / "w.safetensors")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsError, match="corrupt weights file"):
        load_weights(path)


def test_checkpoint_with_missing_key(tmp_path, official_sd) -> None:
    source = dict(official_sd)
    del source["features.features.layer2.4.bn3.running_var"]
    path = tmp_path / "missing.pth"
    torch.save(source, path)
    with pytest.raises(WeightsError, match=r"does not match .*1 missing.*layer2\.4\.bn3\.running_var"):
        load_weights(path)


def test_checkpoint_with_wrong_shape(tmp_path, official_sd) -> None:
    source = dict(official_sd)
    source["features.features.conv1.weight"] = torch.zeros(64, 3, 5, 5)
    path = tmp_path / "shape.pth"
    torch.save(source, path)
    with pytest.raises(WeightsError, match=r"backbone\.conv1\.weight has shape \(64, 3, 5, 5\)"):
        load_weights(path)


def test_checkpoint_of_another_head(tmp_path, official_sd) -> None:
    path = tmp_path / "rpn.pth"
    torch.save({**official_sd, "connect_model.cls.weight": torch.zeros(10, 256, 3, 3)}, path)
    with pytest.raises(WeightsError, match="unexpected key 'connect_model.cls.weight'"):
        load_weights(path)


def test_checkpoint_with_extra_backbone_layer(tmp_path, official_sd) -> None:
    path = tmp_path / "deeper.pth"
    torch.save({**official_sd, "features.features.layer3.0.conv1.weight": torch.zeros(1)}, path)
    with pytest.raises(WeightsError, match="1 unexpected"):
        load_weights(path)


def test_checkpoint_that_is_not_a_state_dict(tmp_path) -> None:
    path = tmp_path / "list.pth"
    torch.save([torch.zeros(3)], path)
    with pytest.raises(WeightsError, match="state dict of tensors"):
        load_weights(path)


def test_safetensors_without_our_metadata(tmp_path) -> None:
    path = tmp_path / "foreign.safetensors"
    safetensors.torch.save_file({"x": torch.zeros(2)}, str(path))
    with pytest.raises(WeightsError, match="not napari-siamtrack weights"):
        load_weights(path)


def _metadata(**overrides: str) -> dict[str, str]:
    meta = {
        "format": weights_mod.FORMAT,
        "version": weights_mod.VERSION,
        "architecture": weights_mod.ARCHITECTURE,
        "input": json.dumps({"channel_order": "RGB", "value_range": [0, 255]}),
        "head": json.dumps({"out_scale": 0.1, "learned": False}),
    }
    meta.update(overrides)
    return meta


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"architecture": "siamrpn/alexnet"}, "holds architecture 'siamrpn/alexnet'"),
        ({"version": "2"}, "format version '2'"),
        ({"input": "not json"}, "bad metadata"),
        ({"input": json.dumps({"channel_order": "CMYK"})}, "bad metadata"),
        ({"tracker": json.dumps({"warp_speed": 9})}, "bad metadata.*warp_speed"),
    ],
)
def test_safetensors_with_bad_metadata(tmp_path, overrides, message) -> None:
    path = tmp_path / "bad.safetensors"
    safetensors.torch.save_file({"x": torch.zeros(2)}, str(path), metadata=_metadata(**overrides))
    with pytest.raises(WeightsError, match=message):
        load_weights(path)


def test_safetensors_for_another_architecture(tmp_path) -> None:
    path = tmp_path / "other.safetensors"
    safetensors.torch.save_file({"backbone.conv1.weight": torch.zeros(1)}, str(path), metadata=_metadata())
    with pytest.raises(WeightsError, match="does not match the SiamFC\\+ CIResNet-22 architecture"):
        load_weights(path)


def test_shipped_weights_missing_is_reported(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(weights_mod, "SHIPPED_WEIGHTS", tmp_path / "missing.safetensors")
    with pytest.raises(WeightsError, match="shipped"):
        load_weights(None)


# --- the project's format ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("learned", "channel_order", "config"), [(True, "BGR", OTB2015), (False, "RGB", None)]
)
def test_save_load_round_trip(tmp_path, learned, channel_order, config) -> None:
    model = _random_model(7, learned=learned, channel_order=channel_order)
    provenance = {"data": "synthetic", "steps": 3, "nested": {"lr": 0.01}}
    path = save_weights(model, tmp_path / "w.safetensors", tracker_config=config, provenance=provenance)
    assert path == tmp_path / "w.safetensors"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.safetensors"]
    loaded = load_weights(path)
    assert loaded.model.channel_order == channel_order
    assert (loaded.model.head.adjust is not None) is learned
    assert loaded.model.head.out_scale == model.head.out_scale
    assert loaded.tracker_config == config
    assert loaded.provenance == provenance
    assert not loaded.model.training
    original = _model_tensors(model)
    restored = _model_tensors(loaded.model)
    assert set(restored) == set(original)
    for key, value in original.items():
        assert torch.equal(restored[key], value), key


def test_save_overwrites_existing_file(tmp_path) -> None:
    path = tmp_path / "w.safetensors"
    save_weights(_random_model(1, learned=False, channel_order="RGB"), path)
    second = _random_model(2, learned=True, channel_order="BGR")
    save_weights(second, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.safetensors"]
    loaded = load_weights(path)
    assert loaded.model.channel_order == "BGR"
    assert torch.equal(loaded.model.backbone.conv1.weight, second.backbone.conv1.weight)


def test_failed_save_leaves_old_file_untouched(tmp_path, monkeypatch) -> None:
    path = tmp_path / "w.safetensors"
    save_weights(_random_model(1, learned=False, channel_order="RGB"), path)
    before = path.read_bytes()

    def failing_save_file(tensors, filename, metadata=None):
        Path(filename).write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(safetensors.torch, "save_file", failing_save_file)
    with pytest.raises(OSError, match="disk full"):
        save_weights(_random_model(2, learned=True, channel_order="BGR"), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.safetensors"]


# --- the tracker's use of weights files ---------------------------------------------------------


def test_tracker_runs_on_converted_official_checkpoint(tmp_path, official_pth, official_sd) -> None:
    converted = save_weights(
        load_weights(official_pth).model, tmp_path / "converted.safetensors", provenance={"source": "pth"}
    )
    tracker = Tracker(weights=converted, device="cpu")
    assert tracker.model.channel_order == "BGR"
    assert tracker.model.head.adjust is not None
    assert tracker.config == TrackerConfig()
    assert tracker.provenance == {"source": "pth"}
    _assert_loaded_exactly(tracker.model, official_sd)

    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    tracker.init(frame, (20, 15, 16, 12))
    box, score = tracker.update(frame)
    assert len(box) == 4 and all(np.isfinite(box))
    x, y, w, h = box
    assert x >= 0 and y >= 0 and w > 0 and h > 0 and x + w <= 64 and y + h <= 48
    assert 0.0 <= score <= 1.0


def test_tracker_loads_official_checkpoint_directly(official_pth) -> None:
    tracker = Tracker(weights=official_pth, device="cpu")
    assert tracker.model.channel_order == "BGR"
    assert tracker.config == TrackerConfig()
    assert tracker.provenance == {"source": "CIResNet22.pth", "layout": "SiamDW"}


def test_tracker_uses_config_stored_with_weights(tmp_path) -> None:
    path = save_weights(
        _random_model(3, learned=False, channel_order="RGB"), tmp_path / "w.safetensors", OTB2015
    )
    assert Tracker(weights=path, device="cpu").config == OTB2015
    vot = TrackerConfig.preset("vot2016")
    assert Tracker(weights=path, device="cpu", config=vot).config == vot
