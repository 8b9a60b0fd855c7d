"""Generated hard cases for validation: a look-alike that crosses the target, and a target hidden for a
while. Each is a (T, H, W, 3) uint8 video with the target's true box on every frame (also while it is
hidden, as OTB annotates occlusions), built from image patches so that any set of photographs (the
training crops, say) gives new cases.

``write_sequence`` stores a case in the OTB layout that ``siamtrack bench`` reads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def crossing(target: np.ndarray, look_alike: np.ndarray, background: np.ndarray, frames: int = 80,
             size: tuple[int, int] = (360, 480), gap: float = 0.5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The target walks left to right across the middle; the look-alike walks right to left ``gap``
    target heights lower (below 1: in front of part of it) and passes it half-way."""
    height, width = size
    rng = np.random.default_rng(seed)
    h, w = target.shape[:2]
    t = np.linspace(0.0, 1.0, frames)
    tx = 0.15 * width + t * 0.6 * width
    lx = 0.85 * width - t * 0.6 * width
    ty = 0.45 * height + 4 * np.sin(6 * np.pi * t)
    ly = ty + gap * h
    video = np.empty((frames, height, width, 3), np.uint8)
    boxes = np.empty((frames, 4))
    back = _fit(background, height, width)
    for i in range(frames):
        frame = back.copy()
        _paste(frame, target, tx[i], ty[i])
        _paste(frame, look_alike, lx[i], ly[i])
        video[i] = np.clip(frame + rng.normal(0, 2.0, frame.shape), 0, 255)
        boxes[i] = (round(tx[i] - w / 2), round(ty[i] - h / 2), w, h)
    return video, boxes


def hidden(target: np.ndarray, occluder: np.ndarray, background: np.ndarray, frames: int = 80,
           size: tuple[int, int] = (360, 480), seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The target moves across the frame and passes behind ``occluder`` (a still patch, larger than the
    target) for about a fifth of the video."""
    height, width = size
    rng = np.random.default_rng(seed)
    h, w = target.shape[:2]
    t = np.linspace(0.0, 1.0, frames)
    tx = 0.15 * width + t * 0.7 * width
    ty = 0.5 * height + 0.15 * height * np.sin(2 * np.pi * t)
    back = _fit(background, height, width)
    video = np.empty((frames, height, width, 3), np.uint8)
    boxes = np.empty((frames, 4))
    for i in range(frames):
        frame = back.copy()
        _paste(frame, target, tx[i], ty[i])
        _paste(frame, occluder, 0.5 * width, 0.5 * height)
        video[i] = np.clip(frame + rng.normal(0, 2.0, frame.shape), 0, 255)
        boxes[i] = (round(tx[i] - w / 2), round(ty[i] - h / 2), w, h)
    return video, boxes


def write_sequence(folder: str | Path, video: np.ndarray, boxes: np.ndarray) -> Path:
    """Store a case as an OTB sequence: ``img/00001.jpg …`` and ``groundtruth_rect.txt`` (1-based)."""
    import imageio.v3 as iio

    folder = Path(folder)
    (folder / "img").mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(video):
        iio.imwrite(folder / "img" / f"{i + 1:05d}.jpg", frame, quality=92)
    lines = [f"{x + 1:.2f},{y + 1:.2f},{w:.2f},{h:.2f}" for x, y, w, h in boxes]
    (folder / "groundtruth_rect.txt").write_text("\n".join(lines) + "\n")
    return folder


def _fit(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """``image`` resized to cover height x width (float RGB), then slightly blurred."""
    from skimage.filters import gaussian
    from skimage.transform import resize

    image = image[..., :3] if image.ndim == 3 else np.repeat(image[..., None], 3, axis=2)
    out = resize(image.astype(np.float64), (height, width), preserve_range=True, anti_aliasing=True)
    return gaussian(out, sigma=1.5, channel_axis=-1, preserve_range=True)


def _paste(frame: np.ndarray, patch: np.ndarray, cx: float, cy: float) -> None:
    """Paste ``patch`` centred on (cx, cy), to the nearest pixel, clipped to the frame."""
    h, w = patch.shape[:2]
    x0, y0 = round(cx - w / 2), round(cy - h / 2)
    fx0, fy0 = max(x0, 0), max(y0, 0)
    fx1, fy1 = min(x0 + w, frame.shape[1]), min(y0 + h, frame.shape[0])
    if fx1 > fx0 and fy1 > fy0:
        frame[fy0:fy1, fx0:fx1] = patch[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0, :3]
