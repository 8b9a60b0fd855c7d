"""Frames: every accepted image type becomes 3-channel float 0-255, with one intensity window per video."""

from __future__ import annotations

import numpy as np
import pytest

from napari_siamtrack.io.frames import FrameError, IntensityWindow, check_frame

H, W = 20, 30


def _rgb_u8(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (H, W, 3), dtype=np.uint8)


def _convert(frame: np.ndarray) -> np.ndarray:
    return IntensityWindow.for_frame(frame).apply(frame)


def test_uint8_rgb_passes_through_exactly() -> None:
    frame = _rgb_u8()
    window = IntensityWindow.for_frame(frame)
    assert window == IntensityWindow(0.0, 255.0)
    out = window.apply(frame)
    assert out.dtype == np.float32 and out.shape == (H, W, 3)
    assert np.array_equal(out, frame.astype(np.float32))


def test_uint8_keeps_full_range_even_for_a_dim_first_frame() -> None:
    frame = np.full((H, W, 3), 40, np.uint8)
    frame[0, 0] = 60
    assert IntensityWindow.for_frame(frame) == IntensityWindow(0.0, 255.0)
    assert np.array_equal(_convert(frame), frame.astype(np.float32))


@pytest.mark.parametrize("shape", [(H, W), (H, W, 1)])
def test_single_channel_becomes_three_equal_channels(shape) -> None:
    grey = _rgb_u8()[..., 0]
    out = _convert(grey.reshape(shape))
    assert out.shape == (H, W, 3)
    for c in range(3):
        assert np.array_equal(out[..., c], grey.astype(np.float32))


def test_single_channel_uint16_becomes_three_equal_channels() -> None:
    grey = np.random.default_rng(1).integers(100, 4000, (H, W, 1), dtype=np.uint16)
    out = _convert(grey)
    assert out.shape == (H, W, 3)
    assert np.array_equal(out[..., 0], out[..., 1]) and np.array_equal(out[..., 0], out[..., 2])
    assert out.min() == 0.0 and out.max() == 255.0


def test_rgba_drops_alpha() -> None:
    rgb = _rgb_u8()
    alpha = np.random.default_rng(2).integers(0, 256, (H, W, 1), dtype=np.uint8)
    rgba = np.concatenate((rgb, alpha), axis=-1)
    assert np.array_equal(_convert(rgba), rgb.astype(np.float32))


def test_rgba_alpha_does_not_influence_the_window() -> None:
    rgb = np.random.default_rng(3).integers(1000, 2000, (H, W, 3), dtype=np.uint16)
    rgba = np.concatenate((rgb, np.full((H, W, 1), 65535, np.uint16)), axis=-1)
    assert IntensityWindow.for_frame(rgba) == IntensityWindow.for_frame(rgb)
    assert np.array_equal(_convert(rgba), _convert(rgb))


def _ramp_u16(low: int, high: int) -> np.ndarray:
    """(40, 100): every integer from low to high appears (for a range of up to 4000)."""
    return np.linspace(low, high, 4000).round().astype(np.uint16).reshape(40, 100)


def test_uint16_maps_to_0_255() -> None:
    frame = _ramp_u16(1000, 5000)
    window = IntensityWindow.for_frame(frame)
    assert 1000 <= window.low < 1010 and 4990 < window.high <= 5000
    out = window.apply(frame)
    assert out.dtype == np.float32
    assert out.min() == 0.0 and out.max() == 255.0
    expected = (frame.astype(np.float64) - 1000) / 4000 * 255
    np.testing.assert_allclose(out[..., 0], expected, atol=1.0)


def test_window_of_first_frame_is_kept_for_brighter_frames() -> None:
    first = _ramp_u16(1000, 5000)
    later = first + np.uint16(2000)  # 3000 .. 7000
    window = IntensityWindow.for_frame(first)
    out_first, out_later = window.apply(first), window.apply(later)
    # The same raw value gives the same output in both frames: nothing is rescaled per frame.
    common = np.intersect1d(first, later)
    assert common.size > 50
    for value in common[::25]:
        seen = np.concatenate((out_first[first == value].ravel(), out_later[later == value].ravel()))
        assert np.all(seen == seen[0]), value
    expected = np.clip((later - window.low) * (255 / (window.high - window.low)), 0, 255)
    np.testing.assert_allclose(out_later[..., 0], expected, rtol=1e-5, atol=1e-3)
    # What the first frame's window cannot show saturates.
    assert np.all(out_later[later >= 5000] == 255.0)
    assert np.mean(out_later == 255.0) > 0.45
    # A window fitted to the later frame would have rescaled it instead.
    assert IntensityWindow.for_frame(later) != window


def test_flat_frame_is_mid_grey() -> None:
    out = _convert(np.full((H, W), 1234, np.uint16))
    np.testing.assert_allclose(out, 127.5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_float_images(dtype) -> None:
    frame = np.linspace(0.0, 1.0, H * W * 3).reshape(H, W, 3).astype(dtype)
    out = _convert(frame)
    assert out.dtype == np.float32 and out.shape == (H, W, 3)
    assert out.min() == 0.0 and out.max() == 255.0
    np.testing.assert_allclose(out, frame.astype(np.float64) * 255, atol=1.5)


def test_signed_integer_images() -> None:
    frame = np.linspace(-300, 300, H * W).round().astype(np.int16).reshape(H, W)
    out = _convert(frame)
    assert out.min() == 0.0 and out.max() == 255.0
    assert np.all(np.diff(out[..., 0].ravel()) >= 0)  # monotonic


def test_nan_pixels_are_handled() -> None:
    frame = np.linspace(0.0, 1.0, H * W).reshape(H, W).astype(np.float32)
    nan_mask = np.zeros((H, W), bool)
    nan_mask[::4, ::5] = True
    frame[nan_mask] = np.nan
    window = IntensityWindow.for_frame(frame)
    assert np.isfinite(window.low) and np.isfinite(window.high) and window.high > window.low
    out = window.apply(frame)
    assert np.all(np.isfinite(out))
    assert np.all(out[nan_mask] == 0.0)
    np.testing.assert_allclose(out[~nan_mask][:, 0], frame[~nan_mask] * 255, atol=1.0)


def test_infinite_pixels_saturate() -> None:
    frame = np.linspace(0.0, 1.0, H * W).reshape(H, W)
    frame[0, 0], frame[0, 1] = np.inf, -np.inf
    window = IntensityWindow.for_frame(frame)
    assert np.isfinite(window.high)
    out = window.apply(frame)
    assert out[0, 0, 0] == 255.0 and out[0, 1, 0] == 0.0


def test_all_nan_frame_is_refused() -> None:
    with pytest.raises(FrameError, match="no finite pixel values"):
        IntensityWindow.for_frame(np.full((H, W), np.nan, np.float32))


@pytest.mark.parametrize(
    "frame",
    [
        np.zeros((H, W), bool),
        np.zeros((H, W, 3), np.complex64),
        np.zeros((H, W), object),
        np.array([["a", "b"], ["c", "d"]]),
    ],
    ids=["bool", "complex", "object", "str"],
)
def test_unsupported_dtypes(frame) -> None:
    with pytest.raises(FrameError, match=r"unsupported frame dtype .*integer or floating-point"):
        check_frame(frame)
    with pytest.raises(FrameError, match="unsupported frame dtype"):
        IntensityWindow.for_frame(frame)
    with pytest.raises(FrameError, match="unsupported frame dtype"):
        IntensityWindow(0.0, 255.0).apply(frame)


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((H, W, 2), r"\(20, 30, 2\).*last axis must be 1, 3 or 4"),
        ((H, W, 5), r"last axis must be 1, 3 or 4"),
        ((4, H, W, 3), r"\(4, 20, 30, 3\).*expected \(H, W\) or \(H, W, C\)"),
        ((W,), r"expected \(H, W\) or \(H, W, C\)"),
        ((), r"expected \(H, W\) or \(H, W, C\)"),
        ((1, W), "too small"),
        ((H, 1, 3), "too small"),
    ],
)
def test_bad_shapes(shape, message) -> None:
    frame = np.zeros(shape, np.uint8)
    with pytest.raises(FrameError, match=message):
        check_frame(frame)
    with pytest.raises(FrameError, match=message):
        IntensityWindow.for_frame(frame)


def test_frame_error_is_a_value_error() -> None:
    assert issubclass(FrameError, ValueError)


def test_check_frame_accepts_lists_and_returns_arrays() -> None:
    out = check_frame([[1, 2], [3, 4]])
    assert isinstance(out, np.ndarray) and out.shape == (2, 2)
