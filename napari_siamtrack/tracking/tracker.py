"""The SiamFC+ tracker loop (SiamDW's algorithm), for one or several targets at once.

Single target::

    t = Tracker()                      # shipped weights, best device
    t.init(frame0, (x, y, w, h))
    box, score = t.update(frame1)      # box: (x, y, w, h) tuple of floats, score in [0, 1]

Several targets (one batched forward pass per frame)::

    t.init(frame0, [(x1, y1, w1, h1), (x2, y2, w2, h2)])
    boxes, scores = t.update(frame1)   # boxes: (K, 4) float array, scores: (K,) float array

Boxes are 0-based pixel coordinates: x is the column and y the row of the top-left corner, so a box
``(0, 0, W, H)`` covers a W x H frame exactly. Colour frames are RGB; see :mod:`napari_siamtrack.io.frames`
for every frame type accepted and how its intensities are scaled.

Per frame: crop each target's search region at ``num_scales`` scales, correlate with the target's
template, upsample the 17x17 score maps bicubically (16x, to 257x257 with the corner cells kept in
place, so the map centre is a pixel), pick the best scale (penalising the non-unit
ones), blend a cosine window into that map, move the target to its peak and ease its size towards the
chosen scale. ``score`` is the sigmoid of the response at the peak. With ``template_lr`` > 0 a running
average of the features of each new box (that fraction of the way per frame) follows slow changes of
appearance; the template matched is that average blended with the first frame's, which keeps the
``template_anchor`` share, so that the template cannot drift away from what the user drew. With
``motion`` > 0 each search region is first moved ahead by that share of the target's displacement over
the last frame (a constant-velocity guess), unless that frame's score was below ``motion_min_score``.
With ``side_scale_cells`` n > 0 the place is found at the unit scale alone; the other scales are then
scored on small crops centred there (n x n response cells each: 175 px at n = 7, under half a full
crop's pixels), and the size eases towards the best scale. The place is then never taken from a side
scale's map.

Deliberate departures from SiamDW's code: crops are continuous (no rounding of crop sizes or corners)
and taken at every scale directly; the upsampled map has an exact centre (SiamDW's 272x272 map is read
with a half-cell bias); and the peak offset is converted to pixels at the chosen scale (SiamDW uses the
unscaled search size).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..io.frames import FrameError, IntensityWindow, check_frame
from .config import TrackerConfig
from .crops import covering_region, crop_and_resize
from .device import bf16_supported, resolve_device, resolve_precision
from .model import CIResNet22, SiamFCPlus
from .model.inference import InferenceBackbone
from .target_model import CorrelationFilter, FilterState
from .weights import load_weights

#: How fast a target's running score level follows its sure frames.
_LEVEL_RATE = 0.05


class BoxError(ValueError):
    """A box the tracker cannot start from."""


@dataclass
class _State:
    """Everything :meth:`Tracker.update` needs, one row per target."""

    frame_hw: tuple[int, int]
    window: IntensityWindow
    fill: torch.Tensor  # (3,) mean colour of the first frame, in network channel order
    templates: torch.Tensor  # (K, C, h, w) template features the search crops are matched with
    first_templates: torch.Tensor  # (K, C, h, w) those of the boxes given to init
    running_templates: torch.Tensor  # (K, C, h, w) running average of those of the boxes found
    # Geometry lives on the CPU in float64 (cheap, exact, and MPS has no float64).
    centres: torch.Tensor  # (K, 2) cx, cy
    motions: torch.Tensor  # (K, 2) displacement over the last frame (zero when it was not trusted)
    sizes: torch.Tensor  # (K, 2) w, h
    min_sizes: torch.Tensor  # (K, 2)
    search: torch.Tensor  # (K,) side of the search region in frame pixels
    search_limits: torch.Tensor  # (K, 2) min, max of ``search``
    filters: FilterState | None  # the online target models (None: off)
    level: np.ndarray  # (K,) running average of each target's score on sure frames (NaN: none yet)
    misses: np.ndarray  # (K,) unsure frames in a row
    updates: int  # frames tracked since init
    distractors: torch.Tensor  # (K, C, h, w) running average of look-alikes' features (0: none seen)
    single: bool


class Tracker:
    """SiamFC+ tracker. See the module docstring for the single- and multi-target forms."""

    def __init__(
        self,
        weights: str | os.PathLike | None = None,
        device: str | torch.device | None = None,
        config: TrackerConfig | None = None,
        trust_pickle: bool = False,
        precision: str | None = None,
    ) -> None:
        """``weights``: a weights file (``None``: the shipped weights). ``config``: tracker settings
        (``None``: those stored with the weights, else the defaults). ``precision``: see
        :func:`~napari_siamtrack.tracking.device.resolve_precision`."""
        loaded = load_weights(weights, trust_pickle=trust_pickle)
        config = config or loaded.tracker_config or TrackerConfig()
        self._setup(loaded.model, device, config, precision, loaded.int8_ranges)
        self.provenance = loaded.provenance

    @classmethod
    def from_model(
        cls,
        model: SiamFCPlus,
        device: str | torch.device | None = None,
        config: TrackerConfig | None = None,
        precision: str | None = None,
        int8_ranges: dict[str, tuple[float, float]] | None = None,
    ) -> Tracker:
        """A tracker around an existing network (e.g. an untrained one). A CIResNet-22 backbone is
        copied (folded for inference) here; ``int8_ranges`` come from :func:`~napari_siamtrack.tracking.quantize.calibrate`."""
        tracker = cls.__new__(cls)
        tracker._setup(model, device, config or TrackerConfig(), precision, int8_ranges)
        tracker.provenance = {}
        return tracker

    def _setup(self, model: SiamFCPlus, device, config: TrackerConfig, precision, int8_ranges) -> None:
        self.device = resolve_device(device)
        standard = isinstance(model.backbone, CIResNet22)
        self.precision = resolve_precision(
            precision, self.device, int8_calibrated=standard and int8_ranges is not None
        )
        self.model = model.to(self.device).eval()
        self._backbone = _inference_backbone(model, self.precision, int8_ranges)
        # int8 quantises only the search features: templates (one small crop per target) are embedded
        # in bf16 where the hardware runs it natively, else in float32.
        self._template_precision = self.precision
        if self.precision == "int8":
            self._template_precision = "bf16" if bf16_supported(self.device) else "fp32"
        self._template_backbone = self._backbone
        if self._template_precision != self.precision:
            self._template_backbone = _inference_backbone(model, self._template_precision, None)
        self.config = config
        self._state: _State | None = None
        c = config
        exponents = torch.arange(c.num_scales, dtype=torch.float64) - (c.num_scales - 1) / 2
        self._scales = c.scale_step**exponents
        penalties = torch.full((c.num_scales,), c.scale_penalty, dtype=torch.float32)
        penalties[(c.num_scales - 1) // 2] = 1.0
        self._penalties = penalties.to(self.device)
        up = (c.score_size - 1) * c.response_up + 1
        hann = torch.from_numpy(np.outer(np.hanning(up), np.hanning(up))).float()
        self._window = (hann / hann.sum()).to(self.device)
        self._up_size = up
        self._upsample = _bicubic_matrix(c.score_size, up).to(self.device)
        self._side_upsample = None  # for the side scales' small maps, when they are scored apart
        if c.side_scale_cells:
            m = c.side_scale_cells
            self._side_upsample = _bicubic_matrix(m, (m - 1) * c.response_up + 1).to(self.device)
        self._filter = None
        if c.target_model > 0:
            self._filter = CorrelationFilter(
                c.score_size + 4, c.target_model_channels, c.target_model_sigma, device=self.device
            )

    @property
    def learns_from_examples(self) -> bool:
        """Whether :meth:`init` learns from ``examples`` (the online target model is on)."""
        return self._filter is not None

    @property
    def num_targets(self) -> int:
        return 0 if self._state is None else int(self._state.centres.shape[0])

    @torch.inference_mode()
    def init(self, frame: np.ndarray, box, examples=None) -> None:
        """Start tracking ``box`` (x, y, w, h), or several boxes (K, 4), on ``frame``.

        ``examples``: more views of the target(s) that the online target model learns from before the
        first update (e.g. the other keyframes of a track), as ``(frame, box)`` pairs: a list of pairs
        for a single box, or one such list per box (an empty list for none). They change nothing when
        the target model is off (``TrackerConfig.target_model`` 0)."""
        frame = check_frame(frame)
        height, width = frame.shape[:2]
        boxes = np.asarray(box, dtype=np.float64)
        single = boxes.ndim == 1
        boxes = _check_boxes(boxes[None] if single else boxes, width, height)
        per_target = _examples_per_target(examples, len(boxes), single)
        c = self.config
        window = IntensityWindow.for_frame(frame)
        fill = self._to_tensor(window.apply(frame)).mean(dim=(1, 2))
        sizes = torch.as_tensor(boxes[:, 2:])
        centres = torch.as_tensor(boxes[:, :2]) + sizes / 2
        template_side = self._template_sides(sizes)
        search = template_side * (c.instance_size / c.exemplar_size)
        crops = self._crops(frame, window, fill, centres, template_side, c.exemplar_size)
        templates = self._embed_templates(crops)
        filters = None
        if self._filter is not None:
            crops = self._crops(frame, window, fill, centres, search, c.instance_size)
            middle = torch.full((len(boxes), 2), (self._filter.size - 1) / 2)
            filters = self._filter.init(self._search_features(crops, 1), middle)
        self._state = _State(
            frame_hw=(height, width),
            window=window,
            fill=fill,
            templates=templates,
            first_templates=templates,
            running_templates=templates,
            centres=centres,
            motions=torch.zeros_like(centres),
            sizes=sizes,
            min_sizes=torch.clamp(sizes, max=c.min_box_size),
            search=search,
            search_limits=torch.stack((0.2 * search, 5.0 * search), dim=1),
            filters=filters,
            level=np.full(len(boxes), np.nan),
            misses=np.zeros(len(boxes), dtype=np.int64),
            updates=0,
            distractors=torch.zeros_like(templates),
            single=single,
        )
        if filters is not None:
            self._learn_examples(per_target)

    def _learn_examples(self, per_target: list[list]) -> None:
        """Train each target model on its extra examples: all views, the first included, weigh the same."""
        s, c = self._state, self.config
        k = len(per_target)
        middle = torch.full((k, 2), (self._filter.size - 1) / 2)
        for i in range(max(map(len, per_target), default=0)):
            frames = [pairs[i] if i < len(pairs) else None for pairs in per_target]
            chosen = [j for j, pair in enumerate(frames) if pair is not None]
            crops = []
            for j in chosen:
                frame, box = frames[j]
                frame = check_frame(frame)
                if frame.shape[:2] != s.frame_hw:
                    raise FrameError(f"example frame size {frame.shape[:2]} differs from the first frame's {s.frame_hw}")
                (box,) = _check_boxes(np.asarray(box, dtype=np.float64)[None], s.frame_hw[1], s.frame_hw[0])
                size = torch.as_tensor(box[None, 2:])
                side = self._template_sides(size) * (c.instance_size / c.exemplar_size)
                crops.append(self._crops(frame, s.window, s.fill, torch.as_tensor(box[None, :2]) + size / 2, side,
                                         c.instance_size))
            learned = self._search_features(torch.cat(crops), 1).float()
            features = learned.new_zeros((k, *learned.shape[1:]))
            features[chosen] = learned
            rates = torch.zeros(k)
            rates[chosen] = 1.0 / (i + 2)  # the running mean of 1 + (i + 1) views
            self._filter.update(s.filters, self._filter.spectrum(s.filters, features), middle, rates.to(self.device))

    @torch.inference_mode()
    def update(self, frame: np.ndarray):
        """Track into ``frame``: ``(box, score)`` after a single-box init, else ``(boxes, scores)``."""
        s = self._state
        if s is None:
            raise RuntimeError("call init(frame, box) before update(frame)")
        frame = check_frame(frame)
        if frame.shape[:2] != s.frame_hw:
            raise FrameError(
                f"frame size {frame.shape[:2]} differs from the first frame's {s.frame_hw}"
            )
        c = self.config
        s.updates += 1
        scales, penalties = self._scales, self._penalties
        middle = (c.num_scales - 1) // 2
        side_scales = c.num_scales > 1 and s.updates % c.scale_every == 0
        if not side_scales or c.side_scale_cells:  # the place is found at the unit scale alone
            scales, penalties = scales[middle : middle + 1], penalties[middle : middle + 1]
        k, n = s.centres.shape[0], len(scales)
        sides = (s.search[:, None] * scales[None, :]).reshape(-1)  # (K*S,) grouped by target
        height, width = s.frame_hw
        limits = torch.tensor([width, height], dtype=torch.float64)
        ahead = torch.minimum((s.centres + c.motion * s.motions).clamp_min(0.0), limits)
        crop_centres = ahead.repeat_interleave(n, dim=0)
        crops = self._crops(frame, s.window, s.fill, crop_centres, sides, c.instance_size)
        features = self._search_features(crops, n)
        with self._autocast(self.precision):
            # Look-alikes seen so far push the template matched away from them; the score reported
            # stays that of the plain template, so that it means the same with or without them.
            if c.distractor > 0:
                pushed = s.templates - c.distractor * s.distractors
                both = self.model.head(torch.stack((s.templates, pushed), dim=1), features).float()
                response, located = both[:, :1], both[:, 1:]
            else:
                response = located = self.model.head(s.templates, features).float()
        siamese = response
        if s.filters is not None:  # the target model votes, centred so that 0.5 is neutral
            spectra = self._filter.spectrum(s.filters, features)
            learned = c.target_model * (self._filter.respond(s.filters, spectra)[:, None, 2:-2, 2:-2]
                                        .clamp(0.0, 1.0) - 0.5)
            response, located = response + learned, located + learned
        up = self._upsample @ located @ self._upsample.T  # bicubic, as two small products
        up = up.reshape(k, n, self._up_size, self._up_size)

        best = (up.amax(dim=(2, 3)) * penalties).argmax(dim=1)  # (K,)
        maps = up[torch.arange(k, device=up.device), best]  # (K, U, U)
        flat = maps.reshape(k, -1)
        norm = flat - flat.amin(dim=1, keepdim=True)
        norm = norm / norm.sum(dim=1, keepdim=True).clamp_min(1e-12)
        blended = (1 - c.window_influence) * norm + c.window_influence * self._window.reshape(1, -1)
        peak = blended.argmax(dim=1)
        if located is not response:  # the score is the plain one, upsampled at the peak only
            plain = response.reshape(k, n, *response.shape[-2:])[torch.arange(k, device=up.device), best]
            at_row, at_col = self._upsample[peak // self._up_size], self._upsample[peak % self._up_size]
            value = torch.einsum("ka,kab,kb->k", at_row, plain, at_col)
        else:
            value = flat.gather(1, peak[:, None])[:, 0]
        score = torch.sigmoid(value).double().cpu().numpy()
        best, peak = best.cpu(), peak.cpu()
        rows, cols = peak // self._up_size, peak % self._up_size
        offset = torch.stack((cols, rows), dim=1).double() - (self._up_size - 1) / 2
        scale = scales[best]
        frame_px_per_crop_px = (s.search * scale / c.instance_size)[:, None]
        centres = ahead + offset * (c.total_stride / c.response_up) * frame_px_per_crop_px
        centres = torch.minimum(centres.clamp_min(0.0), limits)
        if side_scales and c.side_scale_cells:
            scale = self._scale_at(frame, centres, siamese.reshape(k, *siamese.shape[-2:]), rows, cols)

        # Ease the size towards the chosen scale, then keep everything inside sane limits.
        factor = (1 - c.scale_lr) + c.scale_lr * scale
        s.search = torch.clamp(s.search * factor, s.search_limits[:, 0], s.search_limits[:, 1])
        s.sizes = torch.minimum(torch.maximum(s.sizes * factor[:, None], s.min_sizes), limits)
        trusted = torch.from_numpy(score >= c.motion_min_score)[:, None]
        s.motions = torch.where(trusted, centres - s.centres, 0.0)
        if c.distractor > 0:
            self._remember_distractors(located.reshape(k, n, *located.shape[-2:]), features, best, rows, cols)
        # A frame is unsure when its score falls well below the track's usual level: it then teaches
        # neither the template nor the target model, and a run of them starts the wide search.
        level = np.where(np.isnan(s.level), score, s.level)
        sure = score >= c.unsure_ratio * level
        s.misses = np.where(sure, 0, s.misses + 1)
        jumped = np.zeros(k, dtype=bool)
        if c.redetect_after > 0:
            # A wide-search find must be surer than a sure frame: halfway between that bar and the level.
            jumped = self._redetect(frame, centres, score, (1 + c.unsure_ratio) / 2 * level)
            sure |= jumped
        s.level = np.where(sure, level + _LEVEL_RATE * (score - level), level)
        s.centres = centres
        if s.filters is not None:
            chosen = spectra[torch.arange(k, device=spectra.device) * n + best.to(spectra.device)]
            cells = (self._filter.size - 1) / 2 + offset / c.response_up
            learn = sure & ~jumped  # a jump's place is not where ``cells`` says
            rates = torch.from_numpy(np.where(learn, c.target_model_lr, 0.0))
            self._filter.update(s.filters, chosen, cells, rates.to(self.device))
        if c.template_lr > 0:
            if c.template_from_search:
                found = self._features_at(features, n, best, offset, s.templates.shape[-1])
            else:
                sides = self._template_sides(s.sizes)
                crops = self._crops(frame, s.window, s.fill, s.centres, sides, c.exemplar_size)
                found = self._embed_templates(crops)
            rate = torch.from_numpy(np.where(sure & ~jumped, c.template_lr, 0.0)).float().to(found.device)
            s.running_templates = torch.lerp(s.running_templates, found.float(), rate[:, None, None, None])
            s.templates = torch.lerp(s.running_templates, s.first_templates, c.template_anchor)
        boxes = _clip_to_frame(s.centres, s.sizes, width, height).numpy()
        if s.single:
            return tuple(float(v) for v in boxes[0]), float(score[0])
        return boxes, score

    def _scale_at(self, frame: np.ndarray, centres: torch.Tensor, unit: torch.Tensor, rows, cols) -> torch.Tensor:
        """Each target's scale factor, chosen where it was just found (``centres``): the other scales'
        template responses on ``side_scale_cells`` square cells centred there (one small crop each)
        against the unit scale's response ``unit`` (K, 17, 17) on as many cells around its peak
        (``rows``, ``cols``: upsampled cells); the best of each upsampled map, non-unit ones
        penalised, as in the full search."""
        s, c = self._state, self.config
        k, m = centres.shape[0], c.side_scale_cells
        middle = (c.num_scales - 1) // 2
        others = [i for i in range(c.num_scales) if i != middle]
        crop = c.exemplar_size + c.total_stride * (m - 1)  # a crop whose response is m x m cells
        sides = (s.search[:, None] * self._scales[others][None, :] * (crop / c.instance_size)).reshape(-1)
        crops = self._crops(frame, s.window, s.fill, centres.repeat_interleave(len(others), dim=0), sides, crop)
        features = self._search_features(crops, len(others))
        with self._autocast(self.precision):
            side = self.model.head(s.templates, features).float()
        side = (self._side_upsample @ side @ self._side_upsample.T).reshape(k, len(others), -1).amax(dim=2)
        up = (self._upsample @ unit @ self._upsample.T)  # (K, U, U)
        reach = (m // 2) * c.response_up
        grid = torch.arange(self._up_size)
        near = ((grid[None, :, None] - rows[:, None, None]).abs() <= reach) \
            & ((grid[None, None, :] - cols[:, None, None]).abs() <= reach)
        at_unit = torch.where(near.to(up.device), up, torch.full_like(up, -torch.inf)).reshape(k, -1).amax(dim=1)
        values = torch.empty(k, c.num_scales, device=up.device)
        values[:, middle], values[:, others] = at_unit, side
        best = (values * self._penalties).argmax(dim=1).cpu()
        return self._scales[best]

    def _features_at(self, features, n: int, best, offset, side: int) -> torch.Tensor:
        """The ``side`` x ``side`` cells of each target's chosen search features around where it was
        found (``offset``: upsampled score cells from the middle), resampled bilinearly between cells:
        the features a template crop of the new box would have, without a second backbone pass."""
        k = best.shape[0]
        chosen = features[torch.arange(k, device=features.device) * n + best.to(features.device)].float()
        cells = chosen.shape[-1]
        centre = (cells - 1) / 2 + offset.to(torch.float32) / self.config.response_up  # (K, 2) x, y
        steps = torch.arange(side, dtype=torch.float32) - (side - 1) / 2
        gx = centre[:, 0:1] + steps[None, :]
        gy = centre[:, 1:2] + steps[None, :]
        grid = torch.stack(torch.broadcast_tensors(gx[:, None, :], gy[:, :, None]), dim=-1)
        grid = (grid * (2.0 / (cells - 1)) - 1.0).to(chosen.device)
        return F.grid_sample(chosen, grid, mode="bilinear", align_corners=True, padding_mode="border")

    def _remember_distractors(self, response, features, best, rows, cols) -> None:
        """Fold the features of each target's strongest second peak (a local maximum of its chosen
        scale's map scoring at least ``distractor_ratio`` of the chosen place's, 3 or more cells from
        it) into its running average of look-alikes, which the template matched is then pushed away from."""
        s, c = self._state, self.config
        k, n, size = response.shape[:3]
        device = response.device
        index = torch.arange(k, device=device)
        maps = response[index, best.to(device)]  # (K, 17, 17) logits
        peaks = maps == F.max_pool2d(maps[:, None], 3, stride=1, padding=1)[:, 0]
        r0 = torch.round(rows.double() / c.response_up).long().to(device)
        c0 = torch.round(cols.double() / c.response_up).long().to(device)
        grid = torch.arange(size, device=device)
        near = ((grid[None, :, None] - r0[:, None, None]).abs() < 3) & ((grid[None, None, :] - c0[:, None, None]).abs() < 3)
        chosen = torch.sigmoid(maps[index, r0, c0])
        strength = torch.where(peaks & ~near, torch.sigmoid(maps), torch.zeros_like(maps))
        value, place = strength.reshape(k, -1).max(dim=1)
        for i in torch.nonzero(value >= c.distractor_ratio * chosen).flatten().tolist():
            r, q = divmod(int(place[i]), size)
            h, w = s.templates.shape[-2:]
            look_alike = features[i * n + int(best[i]), :, r : r + h, q : q + w].float()
            seen = bool(s.distractors[i].any())
            s.distractors[i] = torch.lerp(s.distractors[i], look_alike, c.distractor_lr) if seen else look_alike

    def _redetect(self, frame: np.ndarray, centres: torch.Tensor, score: np.ndarray, accept_above: np.ndarray) -> np.ndarray:
        """Search wide around the targets that have been unsure for ``redetect_after`` frames in a row:
        one crop of ``redetect_size`` pixels at the usual pixel scale, scored by the template and the
        target model without a window. Where its best place scores above ``accept_above`` and
        beats the usual search, the target moves there (``centres``, ``score`` and
        the motion change in place). Returns which targets moved so."""
        s, c = self._state, self.config
        lost = np.flatnonzero(s.misses >= c.redetect_after)
        jumped = np.zeros(len(score), dtype=bool)
        if lost.size == 0:
            return jumped
        index = torch.from_numpy(lost)
        sides = s.search[index] * (c.redetect_size / c.instance_size)
        crops = self._crops(frame, s.window, s.fill, centres[index], sides, c.redetect_size)
        features = self._search_features(crops, 1)
        with self._autocast(self.precision):
            response = self.model.head(s.templates[index.to(s.templates.device)], features).float()[:, 0]
        if s.filters is not None:
            learned = self._filter.respond_wide(s.filters.select(index.to(self.device)), features)[:, 2:-2, 2:-2]
            response = response + c.target_model * (learned.clamp(0.0, 1.0) - 0.5)
        m = response.shape[-1]
        flat = response.reshape(len(lost), -1)
        peak = flat.argmax(dim=1)
        found = torch.sigmoid(flat.gather(1, peak[:, None])[:, 0]).double().cpu().numpy()
        cells = torch.stack((peak % m, peak // m), dim=1).cpu().double() - (m - 1) / 2
        where = centres[index] + cells * c.total_stride * (sides / c.redetect_size)[:, None]
        limits = torch.tensor([s.frame_hw[1], s.frame_hw[0]], dtype=torch.float64)
        where = torch.minimum(where.clamp_min(0.0), limits)
        better = (found >= accept_above[lost]) & (found > score[lost])
        for i in np.flatnonzero(better):
            j = lost[i]
            centres[j], score[j] = where[i], found[i]
            s.motions[j] = 0.0
            s.misses[j] = 0
            jumped[j] = True
        return jumped

    def select_targets(self, indices) -> None:
        """Go on tracking only the targets at ``indices``, in that order (e.g. when the others are done)."""
        s = self._state
        if s is None:
            raise RuntimeError("call init(frame, box) before select_targets(indices)")
        index = torch.as_tensor(list(indices), dtype=torch.long)
        if index.numel() == 0 or not bool(((index >= 0) & (index < self.num_targets)).all()):
            raise ValueError(f"indices must be a non-empty subset of 0…{self.num_targets - 1}, got {indices}")
        for name in ("templates", "first_templates", "running_templates", "distractors"):
            setattr(s, name, getattr(s, name)[index.to(s.templates.device)])
        for name in ("centres", "motions", "sizes", "min_sizes", "search", "search_limits"):
            setattr(s, name, getattr(s, name)[index])
        if s.filters is not None:
            s.filters = s.filters.select(index.to(self.device))
        s.misses, s.level = s.misses[index.numpy()], s.level[index.numpy()]

    def _crops(self, frame, window, fill, centres, sides, out_size: int) -> torch.Tensor:
        """Crops of ``frame`` (see :func:`crop_and_resize`); only the region they read is converted
        to float, which keeps large frames cheap."""
        height, width = frame.shape[:2]
        x0, y0, x1, y1 = covering_region(centres, sides, out_size, width, height)
        region = self._to_tensor(window.apply(frame[y0:y1, x0:x1])) - fill[:, None, None]
        offset = torch.tensor([x0, y0], dtype=centres.dtype)
        return crop_and_resize(region, centres - offset, sides, out_size, fill)

    def _template_sides(self, sizes: torch.Tensor) -> torch.Tensor:
        """Side of each target's template crop in frame pixels: its box plus SiamFC's context margin."""
        context = self.config.context_amount * sizes.sum(dim=1, keepdim=True)
        return torch.sqrt((sizes + context).prod(dim=1))

    def _embed_templates(self, crops: torch.Tensor) -> torch.Tensor:
        """Template features (float32), one target per backbone call on the CPU (see :meth:`_search_features`)."""
        crops = self._for_backbone(crops, self._template_precision)
        chunks = crops.split(1) if self.device.type == "cpu" else (crops,)
        with self._autocast(self._template_precision):
            return torch.cat([self._template_backbone(chunk) for chunk in chunks]).float()

    def _search_features(self, crops: torch.Tensor, per_call: int) -> torch.Tensor:
        """Backbone features of search crops. On the CPU the backbone takes ``per_call`` crops (one
        target's scales) per call, which keeps activations small enough for the caches (one batch of
        many crops ran up to 2x slower per crop); elsewhere all crops go through in one batch."""
        crops = self._for_backbone(crops, self.precision)
        with self._autocast(self.precision):
            if self.device.type != "cpu":
                return self._backbone(crops)
            return torch.cat([self._backbone(x) for x in crops.split(per_call)])

    @staticmethod
    def _for_backbone(crops: torch.Tensor, precision: str) -> torch.Tensor:
        """Crops in the memory layout a backbone of ``precision`` runs fastest with."""
        if precision in ("bf16", "fp16"):
            return crops.contiguous(memory_format=torch.channels_last)
        return crops

    def _autocast(self, precision: str):
        dtype = torch.bfloat16 if precision == "bf16" else torch.float16
        return torch.autocast(self.device.type, dtype=dtype, enabled=precision in ("bf16", "fp16"))

    def _to_tensor(self, rgb: np.ndarray) -> torch.Tensor:
        """(H, W, 3) RGB float array -> (3, H, W) tensor in the network's channel order."""
        image = torch.from_numpy(rgb).to(self.device).permute(2, 0, 1)
        return image.flip(0) if self.model.channel_order == "BGR" else image


def _inference_backbone(model: SiamFCPlus, precision: str, int8_ranges) -> torch.nn.Module:
    """The network the tracker runs: CIResNet-22 folded for inference (int8 when asked), any other
    backbone as it is."""
    if not isinstance(model.backbone, CIResNet22):
        return model.backbone
    if precision == "int8":
        from .quantize import quantized_backbone

        return quantized_backbone(model.backbone, int8_ranges)
    device = next(model.backbone.parameters()).device
    backbone = InferenceBackbone(model.backbone).to(device)
    if precision in ("bf16", "fp16"):
        backbone = backbone.to(memory_format=torch.channels_last)
    return backbone


def _bicubic_matrix(size: int, up: int) -> torch.Tensor:
    """(up, size) matrix ``A`` with ``A @ m @ A.T`` equal to ``F.interpolate(m, (up, up), mode="bicubic",
    align_corners=True)`` for a size x size map ``m`` (bicubic interpolation is separable)."""
    basis = torch.eye(size, dtype=torch.float64).reshape(1, size, size, 1)  # channel j: e_j down the rows
    columns = F.interpolate(basis, size=(up, 1), mode="bicubic", align_corners=True)
    return columns[0, :, :, 0].T.float()


def _examples_per_target(examples, k: int, single: bool) -> list[list]:
    """``examples`` as given to :meth:`Tracker.init`, as one list of (frame, box) pairs per target."""
    if examples is None:
        return [[] for _ in range(k)]
    per_target = [list(examples)] if single else [list(pairs) for pairs in examples]
    if len(per_target) != k:
        raise ValueError(f"examples: expected one list of (frame, box) pairs per box ({k}), got {len(per_target)}")
    for pairs in per_target:
        if any(len(pair) != 2 for pair in pairs):
            raise ValueError("examples: each example is a (frame, box) pair")
    return per_target


def _check_boxes(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """Validate (K, 4) x, y, w, h boxes and clip them to the frame."""
    if boxes.ndim != 2 or boxes.shape[1] != 4 or boxes.shape[0] == 0:
        raise BoxError(f"expected a box (x, y, w, h) or a (K, 4) array of boxes, got shape {boxes.shape}")
    out = boxes.copy()
    for i, (x, y, w, h) in enumerate(boxes):
        label = f"box {i} ({x:g}, {y:g}, {w:g}, {h:g})"
        if not np.all(np.isfinite(boxes[i])):
            raise BoxError(f"{label} has a non-finite value")
        if w <= 0 or h <= 0:
            raise BoxError(f"{label} must have a positive width and height")
        x0, y0, x1, y1 = max(x, 0.0), max(y, 0.0), min(x + w, width), min(y + h, height)
        if x1 <= x0 or y1 <= y0:
            raise BoxError(f"{label} lies outside the {width}x{height} frame")
        out[i] = (x0, y0, x1 - x0, y1 - y0)
    return out


def _clip_to_frame(centres: torch.Tensor, sizes: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """(K, 4) x, y, w, h boxes clipped to the frame."""
    low = (centres - sizes / 2).clamp_min(0.0)
    high = torch.minimum(centres + sizes / 2, torch.tensor([width, height], dtype=centres.dtype))
    high = torch.maximum(high, low)
    return torch.cat((low, high - low), dim=1)
