"""int8 inference: calibration, the rebuilt int8 backbone, the precision choice and ``siamtrack calibrate``."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from skimage import data as images

from napari_siamtrack.cli import main
from napari_siamtrack.io.sample import make_sample
from napari_siamtrack.metrics import iou
from napari_siamtrack.tracking import device
from napari_siamtrack.tracking.crops import crop_and_resize
from napari_siamtrack.tracking.model.inference import InferenceBackbone
from napari_siamtrack.tracking.quantize import ENGINE, calibrate, int8_supported, quantized_backbone
from napari_siamtrack.tracking.tracker import Tracker
from napari_siamtrack.tracking.weights import SHIPPED_WEIGHTS, load_weights, save_weights

needs_engine = pytest.mark.skipif(
    ENGINE not in torch.backends.quantized.supported_engines, reason="torch has no oneDNN int8 engine"
)
needs_vnni = pytest.mark.skipif(not int8_supported(), reason="this CPU has no VNNI int8 instructions")


def _crops(seed: int, n: int, side: int) -> torch.Tensor:
    """Crops of photographs at random places and scales, 0-255 floats."""
    rng = np.random.default_rng(seed)
    out = []
    for picture in (images.astronaut(), images.coffee(), images.chelsea()):
        frame = torch.from_numpy(picture).permute(2, 0, 1).float()
        fill = frame.mean(dim=(1, 2))
        height, width = picture.shape[:2]
        centres = torch.from_numpy(rng.uniform((0, 0), (width, height), size=(n, 2)))
        sides = torch.from_numpy(rng.uniform(60, 300, size=n))
        out.append(crop_and_resize(frame - fill[:, None, None], centres, sides, side, fill))
    return torch.cat(out)


@pytest.fixture(scope="module")
def backbone():
    return load_weights(None).model.backbone


@pytest.fixture(scope="module")
def ranges(backbone):
    return calibrate(backbone, [_crops(0, 4, 255), _crops(1, 4, 127)])


@needs_engine
def test_int8_features_point_the_same_way_as_float(backbone, ranges):
    held_out = _crops(2, 2, 255)
    with torch.no_grad():
        expected = InferenceBackbone(backbone)(held_out)
        found = quantized_backbone(backbone, ranges)(held_out)
    assert found.dtype == torch.float32 and found.shape == expected.shape
    similarity = F.cosine_similarity(found.flatten(1), expected.flatten(1))
    assert similarity.min() > 0.99, similarity


@needs_engine
def test_ranges_name_every_quantised_operation_and_must_all_be_there(backbone, ranges):
    assert {"quant", "conv1", "layer1.0.conv2", "layer1.0.conv3", "layer2.4.conv3"} <= set(ranges)
    assert all(low <= 0.0 < high for low, high in ranges.values())
    partial = dict(ranges)
    del partial["layer1.0.conv3"]
    with pytest.raises(ValueError, match="calibrate again"):
        quantized_backbone(backbone, partial)


def test_int8_ranges_are_saved_with_the_weights(tmp_path, ranges):
    loaded = load_weights(None)
    path = save_weights(loaded.model, tmp_path / "w.safetensors", loaded.tracker_config, {}, ranges)
    assert load_weights(path).int8_ranges == ranges
    bare = save_weights(loaded.model, tmp_path / "bare.safetensors")
    assert load_weights(bare).int8_ranges is None


@needs_engine
def test_shipped_weights_carry_a_calibration_for_their_network(backbone):
    shipped = load_weights(None)
    assert shipped.int8_ranges is not None
    assert shipped.provenance["int8_calibration"]["data"] == ["train"]
    quantized_backbone(backbone, shipped.int8_ranges)  # raises when the names do not match


def test_precision_auto_prefers_int8_only_where_it_is_calibrated_and_native(monkeypatch):
    cpu = torch.device("cpu")
    monkeypatch.setattr(device, "int8_supported", lambda: True)
    monkeypatch.setattr(device, "bf16_supported", lambda _: True)
    assert device.resolve_precision("auto", cpu, int8_calibrated=True) == "int8"
    assert device.resolve_precision("auto", cpu, int8_calibrated=False) == "bf16"
    monkeypatch.setattr(device, "int8_supported", lambda: False)
    assert device.resolve_precision("auto", cpu, int8_calibrated=True) == "bf16"
    monkeypatch.setattr(device, "bf16_supported", lambda _: False)
    assert device.resolve_precision("auto", cpu, int8_calibrated=True) == "fp32"


@pytest.mark.parametrize(
    ("where", "calibrated", "supported", "message"),
    [
        ("cpu", False, True, "siamtrack calibrate"),
        ("cuda", True, True, "int8 runs on the CPU"),
        ("cpu", True, False, "no VNNI"),
    ],
)
def test_int8_asked_for_where_it_cannot_run(monkeypatch, where, calibrated, supported, message):
    monkeypatch.setattr(device, "int8_supported", lambda: supported)
    with pytest.raises(ValueError, match=message):
        device.resolve_precision("int8", torch.device(where), int8_calibrated=calibrated)


def test_int8_needs_the_standard_backbone():
    """A network with another backbone has nothing to quantise: int8 is refused, auto falls back."""
    from analytic import AnalyticFeatures

    from napari_siamtrack.tracking.model import SiamFCPlus

    model = SiamFCPlus(backbone=AnalyticFeatures())
    with pytest.raises(ValueError, match="calibrat"):
        Tracker.from_model(model, device="cpu", precision="int8", int8_ranges={"quant": (0.0, 255.0)})
    assert Tracker.from_model(model, device="cpu", int8_ranges={}).precision != "int8"


@needs_vnni
def test_int8_tracker_follows_the_sample_like_fp32():
    sample = make_sample(n_frames=40)
    found = {}
    for precision in ("fp32", "int8"):
        tracker = Tracker(device="cpu", precision=precision)
        assert tracker.precision == precision
        tracker.init(sample.frames[0], sample.boxes[0])
        found[precision] = np.array([tracker.update(f)[0] for f in sample.frames[1:]])
    truth = sample.boxes[1:]
    # The online parts (target model, look-alikes) carry small differences forward: allow 0.03 of mean IoU.
    assert iou(found["int8"], truth).mean() >= iou(found["fp32"], truth).mean() - 0.03
    assert np.median(iou(found["int8"], found["fp32"])) > 0.9


@needs_engine
def test_calibrate_command_adds_ranges_and_keeps_the_network(tmp_path, capsys):
    from test_training import _sequence

    picture = images.astronaut()
    frames = [np.roll(picture, (3 * i, 2 * i), axis=(0, 1)) for i in range(4)]
    boxes = [(150 + 2 * i, 40 + 3 * i, 120, 140) for i in range(4)]
    _sequence(tmp_path / "data" / "walk", frames, boxes)
    source = tmp_path / "w.safetensors"
    shutil.copy(SHIPPED_WEIGHTS, source)
    before = source.read_bytes()

    out = tmp_path / "calibrated.safetensors"
    assert main(["calibrate", str(source), str(tmp_path / "data"), "--frames", "3", "--out", str(out)]) == 0
    assert "int8 ranges of" in capsys.readouterr().out
    assert source.read_bytes() == before  # --out leaves the input alone
    calibrated, original = load_weights(out), load_weights(source)
    for (name, a), b in zip(calibrated.model.state_dict().items(), original.model.state_dict().values()):
        assert torch.equal(a, b), name
    assert calibrated.tracker_config == original.tracker_config
    assert calibrated.provenance["int8_calibration"] == {"data": ["data"], "frames": 3, "seed": 0}
    assert set(calibrated.int8_ranges) == set(original.int8_ranges)
