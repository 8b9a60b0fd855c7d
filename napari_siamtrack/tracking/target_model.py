"""The online target model: one discriminative correlation filter per target, on the backbone's search
features, learned from this video's own frames.

The Siamese score compares the search region with one template and cannot tell this target from things
that look like it. The filter learns, as the video goes on, what separates the target from everything
else in its search region (look-alikes included): it is trained to answer a narrow Gaussian on the
target's cell and zero on every other cell, so whatever sits elsewhere in the region is a negative.

Per target, in the feature grid of a search crop (21 x 21 cells for 255 px, stride 8):

- the features are projected to ``channels`` dimensions by the principal components of the first
  search region's cells (fixed per target, so that the filter always sees the same space), then
  multiplied by a Hann window;
- the filter is the closed-form multi-channel solution (MOSSE / DSST form) kept as running averages of
  its numerator and denominator in the Fourier domain: each training example moves them ``rate`` of
  the way (keyframes and extra examples at full weight at the start);
- the response of a search crop is the filter's correlation with its features: about 1 where the
  target is, about 0 elsewhere. Response cell ``(i, j)`` means "the target is centred on feature cell
  ``(i, j)``", so its central ``(n - 4)`` square lines up with the Siamese score map (a 5 x 5 template
  over ``n`` cells gives ``n - 4`` scores, score cell ``j`` centred on feature cell ``j + 2``).

Everything is batched over targets; the work per frame is a few FFTs of ``channels`` x 21 x 21 maps.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class FilterState:
    """The filters of K targets (all tensors have K first)."""

    projection: torch.Tensor  # (K, C, D) feature projection
    mean: torch.Tensor  # (K, C) feature mean removed before projecting
    numerator: torch.Tensor  # (K, D, h, w // 2 + 1) complex, running average of conj(Y) X
    denominator: torch.Tensor  # (K, h, w // 2 + 1) running average of sum_d |X_d|^2

    def select(self, index: torch.Tensor) -> FilterState:
        return FilterState(*(t[index] for t in (self.projection, self.mean, self.numerator, self.denominator)))


class CorrelationFilter:
    """Builds, applies and updates :class:`FilterState` for feature maps of one size."""

    def __init__(self, size: int, channels: int = 64, sigma: float = 0.5, regularisation: float = 0.01,
                 device: torch.device | str = "cpu") -> None:
        self.size = size
        self.channels = channels
        self.sigma = sigma
        self.regularisation = regularisation
        hann = torch.hann_window(size + 2, periodic=False, dtype=torch.float32)[1:-1]
        self.window = (hann[:, None] * hann[None, :]).to(device)
        self.cells = torch.arange(size, dtype=torch.float32, device=device)

    def init(self, features: torch.Tensor, centres: torch.Tensor) -> FilterState:
        """Filters for K targets from their first search features (K, C, n, n), the targets centred on
        feature cells ``centres`` (K, 2) as (column, row)."""
        k, c = features.shape[:2]
        cells = features.float().reshape(k, c, -1)
        mean = cells.mean(dim=2)
        centred = cells - mean[:, :, None]
        d = min(self.channels, c, centred.shape[2])
        # Principal directions of the cells: left singular vectors of the centred (C, cells) matrix.
        u, _, _ = torch.linalg.svd(centred, full_matrices=False)
        projection = u[:, :, :d].contiguous()
        state = FilterState(projection, mean, None, None)
        x = self.spectrum(state, features)
        state.numerator, state.denominator = self._terms(x, centres)
        return state

    def spectrum(self, state: FilterState, features: torch.Tensor) -> torch.Tensor:
        """The spectra of search features (K * S, C, n, n), S per target, grouped by target: what
        :meth:`respond` and :meth:`update` take (one of them serves both)."""
        n, c = features.shape[:2]
        projection, mean = state.projection, state.mean
        repeat = n // projection.shape[0]
        if repeat > 1:
            projection = projection.repeat_interleave(repeat, dim=0)
            mean = mean.repeat_interleave(repeat, dim=0)
        cells = features.float().reshape(n, c, -1) - mean[:, :, None]
        projected = torch.bmm(projection.transpose(1, 2), cells).reshape(n, -1, self.size, self.size)
        return torch.fft.rfft2(projected * self.window)

    def respond(self, state: FilterState, x: torch.Tensor) -> torch.Tensor:
        """Responses (K * S, n, n) of each target's filter to the :meth:`spectrum` ``x`` of its S search
        feature maps."""
        s = x.shape[0] // state.projection.shape[0]
        numerator = state.numerator.repeat_interleave(s, dim=0)
        denominator = state.denominator.repeat_interleave(s, dim=0)
        lam = self.regularisation * denominator.mean(dim=(1, 2), keepdim=True)
        spectrum = (numerator.conj() * x).sum(dim=1) / (denominator + lam)
        return torch.fft.irfft2(spectrum, s=(self.size, self.size))

    def respond_wide(self, state: FilterState, features: torch.Tensor) -> torch.Tensor:
        """Responses (K, m, m) of each target's filter over a larger feature map (K, C, m, m), one per
        target, by direct correlation (no window, no wrap-around); cell meanings as in :meth:`respond`."""
        k, c, m, _ = features.shape
        lam = self.regularisation * state.denominator.mean(dim=(1, 2), keepdim=True)
        filters = torch.fft.irfft2(state.numerator / (state.denominator + lam)[:, None], s=(self.size, self.size))
        filters = torch.fft.fftshift(filters, dim=(-2, -1))  # offset 0 in the middle, for conv2d
        cells = features.float().reshape(k, c, -1) - state.mean[:, :, None]
        projected = torch.bmm(state.projection.transpose(1, 2), cells).reshape(1, -1, m, m)
        out = torch.nn.functional.conv2d(projected, filters, padding=self.size // 2, groups=k)
        return out[0]

    def update(self, state: FilterState, x: torch.Tensor, centres: torch.Tensor, rates: torch.Tensor) -> None:
        """Move each target's filter ``rates`` (K,) of the way towards one example each, the
        :meth:`spectrum` ``x`` of its features with the target centred on ``centres`` (K, 2); a rate of
        0 leaves that filter as it is."""
        numerator, denominator = self._terms(x, centres)
        r = rates.to(numerator.real.dtype)
        state.numerator = torch.lerp(state.numerator, numerator, r[:, None, None, None].to(numerator.dtype))
        state.denominator = torch.lerp(state.denominator, denominator, r[:, None, None])

    def _terms(self, x: torch.Tensor, centres: torch.Tensor):
        """Numerator conj(Y) X and denominator sum |X|^2 of one example per target."""
        centres = centres.to(self.cells.device, torch.float32)
        gx = torch.exp(-0.5 * ((self.cells[None, :] - centres[:, 0:1]) / self.sigma) ** 2)
        gy = torch.exp(-0.5 * ((self.cells[None, :] - centres[:, 1:2]) / self.sigma) ** 2)
        label = torch.fft.rfft2(gy[:, :, None] * gx[:, None, :])
        return label.conj()[:, None] * x, (x.real**2 + x.imag**2).sum(dim=1)
