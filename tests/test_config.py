"""Tracker settings (defaults, presets, validation) and the choice of torch device."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from napari_siamtrack.tracking.config import PRESETS, TrackerConfig
from napari_siamtrack.tracking.device import DEVICE_ENV, resolve_device

# --- TrackerConfig ------------------------------------------------------------------------------


def test_defaults_are_siamdw_values() -> None:
    c = TrackerConfig()
    assert c.context_amount == 0.5
    assert c.num_scales == 3
    assert c.scale_step == 1.0375
    assert c.scale_penalty == 0.9745
    assert c.scale_lr == 0.59
    assert c.window_influence == 0.35
    assert c.response_up == 16
    assert c.exemplar_size == 127
    assert c.instance_size == 255
    assert c.total_stride == 8
    assert c.score_size == 17


def test_score_size_follows_sizes() -> None:
    assert TrackerConfig(instance_size=271).score_size == 19
    assert TrackerConfig(exemplar_size=135, instance_size=263).score_size == 17


def test_otb2015_preset() -> None:
    c = TrackerConfig.preset("otb2015")
    assert (c.scale_step, c.scale_lr, c.scale_penalty, c.window_influence) == (
        1.1897,
        0.2226,
        0.9370,
        0.2897,
    )
    # Everything else stays at the defaults.
    tuned = {"scale_step", "scale_lr", "scale_penalty", "window_influence"}
    default = TrackerConfig()
    for f in dataclasses.fields(TrackerConfig):
        if f.name not in tuned:
            assert getattr(c, f.name) == getattr(default, f.name), f.name


def test_preset_names_are_case_insensitive_and_default_is_defaults() -> None:
    assert TrackerConfig.preset("OTB2015") == TrackerConfig.preset("otb2015")
    assert TrackerConfig.preset("default") == TrackerConfig()


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_is_valid(name) -> None:
    c = TrackerConfig.preset(name)
    for key, value in PRESETS[name].items():
        assert getattr(c, key) == value


def test_unknown_preset_is_named() -> None:
    with pytest.raises(ValueError, match=r"unknown preset 'otb2099'.*otb2015"):
        TrackerConfig.preset("otb2099")


def test_unknown_keys_are_named() -> None:
    with pytest.raises(ValueError, match="unknown tracker setting.*: bogus, zoom"):
        TrackerConfig.from_dict({"scale_step": 1.1, "zoom": 2, "bogus": 1})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("exemplar_size", 128),
        ("exemplar_size", 0),
        ("instance_size", 127),
        ("instance_size", 256),
        ("num_scales", 2),
        ("num_scales", 0),
        ("scale_every", 0),
        ("side_scale_cells", 4),
        ("side_scale_cells", 19),
        ("side_scale_cells", -1),
        ("scale_step", 0.99),
        ("scale_penalty", 0.0),
        ("scale_penalty", 1.01),
        ("scale_lr", -0.1),
        ("scale_lr", 1.5),
        ("window_influence", 1.2),
        ("response_up", 0),
        ("total_stride", 0),
        ("context_amount", -0.5),
        ("min_box_size", 0.0),
        ("template_lr", -0.01),
        ("template_lr", 1.5),
        ("template_anchor", -0.5),
        ("template_anchor", 1.01),
        ("motion", -0.1),
        ("motion", 1.5),
        ("motion_min_score", 1.2),
        ("target_model", -1.0),
        ("target_model_lr", 1.5),
        ("unsure_ratio", 1.1),
        ("target_model_channels", 0),
        ("target_model_sigma", 0.0),
        ("distractor", 1.5),
        ("distractor_ratio", 0.0),
        ("distractor_lr", 0.0),
        ("redetect_after", -1),
        ("redetect_size", 255),
        ("redetect_size", 512),
    ],
)
def test_invalid_values_are_named(field, value) -> None:
    with pytest.raises(ValueError, match=f"invalid tracker setting.*{field}={value!r}"):
        TrackerConfig(**{field: value})
    with pytest.raises(ValueError, match=field):
        TrackerConfig.from_dict({field: value})


def test_several_invalid_values_are_all_named() -> None:
    with pytest.raises(ValueError) as info:
        TrackerConfig(num_scales=4, scale_lr=2.0)
    assert "num_scales=4" in str(info.value) and "scale_lr=2.0" in str(info.value)


def test_boundary_values_are_accepted() -> None:
    c = TrackerConfig(num_scales=1, scale_step=1.0, scale_lr=0.0, window_influence=1.0, scale_penalty=1.0)
    assert c.num_scales == 1


def test_dict_round_trip() -> None:
    c = TrackerConfig.preset("vot2017")
    d = c.to_dict()
    assert set(d) == {f.name for f in dataclasses.fields(TrackerConfig)}
    assert TrackerConfig.from_dict(d) == c
    assert TrackerConfig.from_dict(json.loads(json.dumps(d))) == c
    assert TrackerConfig.from_dict({}) == TrackerConfig()


def test_config_is_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        TrackerConfig().scale_lr = 0.1  # type: ignore[misc]


# --- resolve_device -----------------------------------------------------------------------------


@pytest.fixture
def no_accelerator(monkeypatch):
    monkeypatch.delenv(DEVICE_ENV, raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    return monkeypatch


def test_env_var_name() -> None:
    assert DEVICE_ENV == "NAPARI_SIAMTRACK_DEVICE"


def test_auto_is_cpu_without_accelerator(no_accelerator) -> None:
    assert resolve_device(None) == torch.device("cpu")
    assert resolve_device() == torch.device("cpu")


def test_auto_prefers_cuda_then_mps(no_accelerator) -> None:
    no_accelerator.setattr(torch.backends.mps, "is_available", lambda: True)
    assert resolve_device(None) == torch.device("mps")
    no_accelerator.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device(None) == torch.device("cuda")


def test_auto_on_this_machine_is_usable(monkeypatch) -> None:
    monkeypatch.delenv(DEVICE_ENV, raising=False)
    device = resolve_device(None)
    if not torch.cuda.is_available() and not torch.backends.mps.is_available():
        assert device == torch.device("cpu")
    torch.zeros(1, device=device)


@pytest.mark.parametrize("choice", ["cpu", torch.device("cpu")])
def test_explicit_cpu(no_accelerator, choice) -> None:
    assert resolve_device(choice) == torch.device("cpu")


def test_env_var_is_honoured(no_accelerator) -> None:
    no_accelerator.setattr(torch.cuda, "is_available", lambda: True)
    no_accelerator.setenv(DEVICE_ENV, "cpu")
    assert resolve_device(None) == torch.device("cpu")


def test_empty_env_var_means_automatic(no_accelerator) -> None:
    no_accelerator.setenv(DEVICE_ENV, "")
    assert resolve_device(None) == torch.device("cpu")


def test_argument_beats_env_var(no_accelerator) -> None:
    no_accelerator.setenv(DEVICE_ENV, "cuda")
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="CUDA"):
        resolve_device(None)


@pytest.mark.parametrize("choice", ["cuda", "cuda:1", torch.device("cuda")])
def test_cuda_without_gpu(no_accelerator, choice) -> None:
    with pytest.raises(ValueError, match="no CUDA GPU"):
        resolve_device(choice)


def test_mps_without_mps(no_accelerator) -> None:
    with pytest.raises(ValueError, match="MPS is not available"):
        resolve_device("mps")


@pytest.mark.parametrize("choice", ["potato", "cuda:x", ""])
def test_garbage_device(no_accelerator, choice) -> None:
    with pytest.raises(ValueError, match=f"unknown device {choice!r}"):
        resolve_device(choice)


def test_garbage_device_from_env(no_accelerator) -> None:
    no_accelerator.setenv(DEVICE_ENV, "gpu-please")
    with pytest.raises(ValueError, match="unknown device 'gpu-please'"):
        resolve_device(None)
