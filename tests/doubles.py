"""A test double for the tracker: exact, instant (or deliberately slow) and frame-aware.

Frames made by :func:`numbered_frames` carry their index in every pixel. :class:`StepTracker` moves each
box ``dx`` pixels right per frame away from the frame it started on (left when going backwards), so a
test can tell from a box alone which frame it was tracked into and from which keyframe.
"""

from __future__ import annotations

import time

import numpy as np


def numbered_frames(n: int, height: int = 48, width: int = 64) -> np.ndarray:
    """(n, H, W) uint16 frames; every pixel of frame ``i`` is ``i``."""
    return np.broadcast_to(np.arange(n, dtype=np.uint16)[:, None, None], (n, height, width)).copy()


class StepTracker:
    """``score``: the score of every box, or a function of the frame index."""

    def __init__(self, dx: float = 1.0, score=0.9, delay: float = 0.0) -> None:
        self.dx, self.score, self.delay = dx, score, delay
        self.inits: list[tuple[int, np.ndarray]] = []  # (frame index, boxes)
        self.updates: list[int] = []

    def init(self, frame, boxes) -> None:
        self.start = int(np.asarray(frame).flat[0])
        self.boxes = np.array(boxes, dtype=np.float64)
        self.inits.append((self.start, self.boxes.copy()))

    def update(self, frame):
        time.sleep(self.delay)
        index = int(np.asarray(frame).flat[0])
        self.updates.append(index)
        out = self.boxes.copy()
        out[:, 0] += self.dx * abs(index - self.start)
        score = self.score(index) if callable(self.score) else self.score
        return out, np.full(len(out), score)

    def select_targets(self, indices) -> None:
        self.boxes = self.boxes[list(indices)]


class LearningStepTracker(StepTracker):
    """A :class:`StepTracker` that, like the tracker with its target model on, takes examples in ``init``;
    ``examples`` records them per init as (frame index, box) lists per target."""

    learns_from_examples = True

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.examples: list[list[list[tuple[int, tuple]]]] = []

    def init(self, frame, boxes, examples=None) -> None:
        super().init(frame, boxes)
        per_target = examples if examples is not None else [[] for _ in self.boxes]
        self.examples.append([[(int(image.flat[0]), tuple(box)) for image, box in pairs] for pairs in per_target])


class RunScoreTracker(StepTracker):
    """A :class:`StepTracker` whose score is ``score(index, start)``: it may depend on the frame the run
    started on, e.g. fall with the distance from the keyframe."""

    def __init__(self, score, dx: float = 1.0) -> None:
        super().__init__(dx, score=lambda index: score(index, self.start))
