"""The training loop: SGD or AdamW with log-spaced learning rates, a checkpoint per epoch, resume, and
a weights file per epoch in the tracker's own format."""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from ..io.atomic import atomic_path
from ..io.sequences import find_sequences
from ..tracking.device import bf16_supported, resolve_device
from ..tracking.weights import LoadedWeights, load_weights, save_weights
from .cache import build_cache
from .losses import balanced_logistic, contrastive
from .network import TrainingNet
from .pairs import PairDataset
from .settings import TrainSettings


def checkpoint_settings(path: str | Path) -> TrainSettings:
    """The settings a checkpoint was trained with (the base for resuming it)."""
    return TrainSettings.from_dict(_load_checkpoint(path, torch.device("cpu"))["settings"])


def train(settings: TrainSettings, resume: str | Path | None = None, progress=True) -> Path:
    """Train; returns the weights file of the last epoch. ``resume``: a checkpoint to continue from
    (its weights, optimiser state and epoch). ``settings`` apply from there on: more epochs extend
    the run, other hyperparameters take effect for the remaining epochs."""
    from tqdm import tqdm

    out = Path(settings.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(settings.seed)
    device = resolve_device(settings.device)
    state = _resume_state(resume, settings, device) if resume is not None else None
    init = load_weights(settings.init) if settings.init and state is None else None
    # What the weights started from, for the provenance; a resumed run keeps its checkpoint's record.
    origin = {"file": Path(settings.init).name, "provenance": init.provenance} if init else None
    if state is not None:
        origin = state.get("init")
    sequences = [seq for root in settings.data for seq in find_sequences(root)]
    cache = build_cache(
        sequences,
        out / "cache",
        progress=(lambda it: tqdm(it, desc="cropping", unit="frame")) if progress else None,
    )
    dataset = PairDataset(
        cache,
        settings.pairs_per_epoch,
        settings.augmentation,
        frame_range=settings.frame_range,
        radius=settings.radius,
        seed=settings.seed,
    )
    model = TrainingNet()
    if init is not None:
        _start_from(model, init, dataset)
    model = model.to(device).to(memory_format=torch.channels_last)
    for name in settings.frozen_modules:
        getattr(model.net.backbone, name).requires_grad_(False)
    optimizer = _optimizer(settings, model)
    start_epoch, pairs_seen, seconds = 0, 0, 0.0
    if state is None:
        (out / "log.jsonl").unlink(missing_ok=True)  # a fresh run starts a fresh log
    else:
        model.load_state_dict(state["model"])
        _load_optimizer_state(optimizer, state["optimizer"])
        start_epoch, pairs_seen, seconds = state["epoch"], state["pairs_seen"], state["seconds"]
    amp = settings.amp and bf16_supported(device)
    weights = None
    for epoch in range(start_epoch, settings.epochs):
        dataset.set_epoch(epoch)
        lr = settings.learning_rate(epoch)
        for group in optimizer.param_groups:
            group["lr"] = lr
        loader = torch.utils.data.DataLoader(
            dataset,
            batch_size=settings.batch_size,
            shuffle=False,
            drop_last=True,
            num_workers=settings.workers,
            worker_init_fn=_one_thread,
            pin_memory=device.type == "cuda",
        )
        model.train()
        for name in settings.frozen_modules:  # frozen BatchNorms keep their statistics too
            getattr(model.net.backbone, name).eval()
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{settings.epochs}", disable=not progress)
        losses, started = [], time.perf_counter()
        for templates, searches, labels in bar:
            loss = _step(model, optimizer, settings, device, amp, templates, searches, labels)
            if loss is not None:
                losses.append(loss)
            pairs_seen += len(labels)
            rate = len(losses) * settings.batch_size / (time.perf_counter() - started)
            bar.set_postfix(loss=f"{np.mean(losses[-50:]):.4f}" if losses else "-", pairs_s=f"{rate:.1f}")
        seconds += time.perf_counter() - started
        record = {
            "epoch": epoch + 1,
            "lr": lr,
            "loss": float(np.mean(losses)) if losses else None,
            "pairs_seen": pairs_seen,
            "seconds": round(seconds, 1),
        }
        with open(out / "log.jsonl", "a") as log:
            log.write(json.dumps(record) + "\n")
        _atomic_save(
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "epoch": epoch + 1,
                "pairs_seen": pairs_seen,
                "seconds": seconds,
                "settings": settings.to_dict(),
                "init": origin,
            },
            out / "checkpoint.pt",
        )
        provenance = {
            "trained_by": "siamtrack train",
            "epochs": epoch + 1,
            "pairs_seen": pairs_seen,
            "steps": pairs_seen // settings.batch_size,
            "train_seconds": round(seconds),
            "hardware": _hardware(device),
            "data": [Path(d).name for d in settings.data],
            **({"init": origin} if origin else {}),
            "settings": settings.to_dict(),
        }
        weights = save_weights(
            model.export(), out / f"weights_e{epoch + 1:03d}.safetensors", provenance=provenance
        )
    return weights


def _start_from(model: TrainingNet, init: LoadedWeights, dataset: PairDataset, pairs: int = 32) -> None:
    """Start ``model`` from ``init`` (see :meth:`TrainingNet.start_from`), measuring the score
    statistics on the first ``pairs`` training pairs. A pretrained backbone (``siamtrack pretrain``)
    comes alone: its head was never trained, so the head starts as in a fresh run."""
    if init.provenance.get("trained_by") == "siamtrack pretrain":
        model.net.backbone.load_state_dict(init.model.backbone.state_dict())
        return
    pairs = min(pairs, len(dataset))
    templates, searches, _ = (torch.stack(parts) for parts in zip(*(dataset[i] for i in range(pairs))))
    model.start_from(init.model, templates, searches)


def _step(model, optimizer, settings, device, amp, templates, searches, labels):
    templates = templates.to(device, non_blocking=True).contiguous(memory_format=torch.channels_last)
    searches = searches.to(device, non_blocking=True).contiguous(memory_format=torch.channels_last)
    labels = labels.to(device, non_blocking=True)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
        logits, z, x = model(templates, searches)
    if settings.loss == "logistic":
        loss = balanced_logistic(logits, labels)
    else:
        loss = contrastive(z, x, labels, settings.margin)
    optimizer.zero_grad(set_to_none=True)
    if not torch.isfinite(loss) or loss.item() > 1e4:  # SiamDW skips such steps
        return None
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), settings.grad_clip)
    optimizer.step()
    return loss.item()


def _load_checkpoint(path: str | Path, device: torch.device) -> dict:
    if not Path(path).is_file():
        raise ValueError(f"no checkpoint at {path}")
    return torch.load(path, map_location=device, weights_only=True)


def _resume_state(path: str | Path, settings: TrainSettings, device: torch.device) -> dict:
    """A checkpoint's contents, checked against the settings the run is to continue with."""
    state = _load_checkpoint(path, device)
    trained_with = state["settings"]["optimizer"]
    if trained_with != settings.optimizer:
        raise ValueError(f"{path} was trained with the {trained_with} optimizer; resume it with that one")
    if state["epoch"] >= settings.epochs:
        raise ValueError(f"{path} has trained {state['epoch']} epochs already; ask for more to continue")
    return state


def _load_optimizer_state(optimizer: torch.optim.Optimizer, saved: dict) -> None:
    """Restore the optimiser's running state (momentum, moments) but keep its current hyperparameters."""
    current = [{k: v for k, v in group.items() if k != "params"} for group in optimizer.param_groups]
    optimizer.load_state_dict(saved)
    for group, hyper in zip(optimizer.param_groups, current):
        group.update(hyper)


def _optimizer(settings: TrainSettings, model: torch.nn.Module):
    params = [p for p in model.parameters() if p.requires_grad]
    if settings.optimizer == "sgd":
        return torch.optim.SGD(
            params,
            lr=settings.lr_start,
            momentum=settings.momentum,
            weight_decay=settings.weight_decay,
        )
    return torch.optim.AdamW(params, lr=settings.lr_start, weight_decay=settings.weight_decay)


def _one_thread(_worker: int) -> None:
    torch.set_num_threads(1)


def _hardware(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{platform.processor() or platform.machine()} CPU, {torch.get_num_threads()} threads"


def _atomic_save(obj, path: Path) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)
