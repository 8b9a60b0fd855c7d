from __future__ import annotations

import inspect
import random
from pathlib import Path

import av
import imageio.v3 as iio
import numpy as np
import pytest
import tifffile

from napari_siamtrack.io import sources
from napari_siamtrack.io.sources import (
    FolderSource,
    FrameSourceError,
    TiffSource,
    VideoSource,
    open_frames,
)

N_FRAMES, HEIGHT, WIDTH = 12, 48, 64


def moving_square(n: int = N_FRAMES) -> np.ndarray:
    """(n, H, W, 3) uint8 frames: a bright square moving right over a background whose blue level changes."""
    frames = np.zeros((n, HEIGHT, WIDTH, 3), np.uint8)
    for i in range(n):
        frames[i, ..., 2] = 8 * i
        frames[i, 16:32, 4 * i : 4 * i + 16] = 255
    return frames


def write_video(path: Path, frames: np.ndarray) -> Path:
    """Encode ``frames`` with a keyframe every 4 frames, so that random access has to seek."""
    for codec in ("libx264", "mpeg4"):
        try:
            with iio.imopen(path, "w", plugin="pyav") as out:
                out.init_video_stream(codec, fps=10, max_keyframe_interval=4)
                for frame in frames:
                    out.write_frame(frame)
            return path
        except Exception:  # noqa: BLE001 - whatever the failure, this encoder is unusable here
            path.unlink(missing_ok=True)
    pytest.skip("no usable video encoder")


@pytest.fixture(scope="module", params=["mp4", "mkv", "avi"])
def video(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Videos whose frame count comes from the container (mp4), from counting packets (mkv), and whose packet
    timestamps do not follow the decoded frame order (H.264 in AVI)."""
    return write_video(tmp_path_factory.mktemp("video") / f"clip.{request.param}", moving_square())


def test_video_properties(video: Path) -> None:
    with open_frames(video) as src:
        assert isinstance(src, VideoSource)
        assert src.path == video
        assert len(src) == N_FRAMES
        assert src.frame_shape == (HEIGHT, WIDTH, 3)
        assert src.dtype == np.uint8


def test_video_frames_match_originals(video: Path) -> None:
    originals = moving_square().astype(float)
    with open_frames(video) as src:
        for i, frame in src.iter_frames():
            assert frame.shape == (HEIGHT, WIDTH, 3) and frame.dtype == np.uint8
            errors = np.abs(originals - frame).mean(axis=(1, 2, 3))
            assert errors[i] < 6
            assert np.argmin(errors) == i


def test_video_random_access_equals_sequential(video: Path) -> None:
    with open_frames(video) as src:
        sequential = list(src.iter_frames())
        assert [i for i, _ in sequential] == list(range(N_FRAMES))
        order = list(range(N_FRAMES)) * 2
        random.Random(0).shuffle(order)
        for i in order + list(range(N_FRAMES))[::-1]:
            np.testing.assert_array_equal(src[i], sequential[i][1])
        np.testing.assert_array_equal(src[-1], sequential[-1][1])
        for start, stop in [(5, 9), (10, None), (0, 3), (-3, None)]:
            part = list(src.iter_frames(start, stop))
            assert [i for i, _ in part] == list(range(N_FRAMES))[start:stop]
            for i, frame in part:
                np.testing.assert_array_equal(frame, sequential[i][1])


def test_video_iteration_is_lazy(video: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    decoded = []
    read = sources._VideoCursor.read

    def counting_read(self: sources._VideoCursor, index: int) -> np.ndarray:
        decoded.append(index)
        return read(self, index)

    monkeypatch.setattr(sources._VideoCursor, "read", counting_read)
    with open_frames(video) as src:
        frames = src.iter_frames(2)
        assert inspect.isgenerator(frames)
        assert decoded == []
        assert next(frames)[0] == 2
        assert decoded == [2]
        assert next(frames)[0] == 3
        assert decoded == [2, 3]
        frames.close()


def test_video_interleaved_iterators_and_random_access(video: Path) -> None:
    with open_frames(video) as src:
        expected = [frame for _, frame in src.iter_frames()]
        first, second = src.iter_frames(), src.iter_frames(6)
        for _ in range(3):
            i, frame = next(first)
            np.testing.assert_array_equal(frame, expected[i])
            np.testing.assert_array_equal(src[N_FRAMES - 1 - i], expected[N_FRAMES - 1 - i])
            j, frame = next(second)
            np.testing.assert_array_equal(frame, expected[j])


def test_index_errors(video: Path) -> None:
    with open_frames(video) as src:
        for index in (N_FRAMES, -N_FRAMES - 1):
            with pytest.raises(IndexError, match="out of range"):
                src[index]
        with pytest.raises(TypeError):
            src[1.0]


@pytest.fixture
def tiff_stack(tmp_path: Path) -> tuple[Path, np.ndarray]:
    data = np.random.default_rng(0).integers(0, 65535, (5, 40, 30), dtype=np.uint16)
    path = tmp_path / "stack.TIF"
    tifffile.imwrite(path, data, photometric="minisblack")
    return path, data


def test_tiff_stack(tiff_stack: tuple[Path, np.ndarray]) -> None:
    path, data = tiff_stack
    with open_frames(path) as src:
        assert isinstance(src, TiffSource)
        assert (len(src), src.frame_shape, src.dtype) == (5, (40, 30), np.uint16)
        for i in [3, 0, 4, -1, 1]:
            np.testing.assert_array_equal(src[i], data[i])
        frames = src.iter_frames(1, 4)
        assert inspect.isgenerator(frames)
        assert [i for i, _ in frames] == [1, 2, 3]
        for i, frame in src.iter_frames():
            np.testing.assert_array_equal(frame, data[i])


def test_tiff_rgb_and_single_page(tmp_path: Path) -> None:
    rgb = np.random.default_rng(1).integers(0, 255, (3, 20, 30, 3), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "rgb.tiff", rgb, photometric="rgb")
    with open_frames(tmp_path / "rgb.tiff") as src:
        assert (len(src), src.frame_shape, src.dtype) == (3, (20, 30, 3), np.uint8)
        np.testing.assert_array_equal(src[2], rgb[2])
    single = np.linspace(0, 1, 20 * 30, dtype=np.float32).reshape(20, 30)
    tifffile.imwrite(tmp_path / "single.tif", single)
    with open_frames(tmp_path / "single.tif") as src:
        assert (len(src), src.frame_shape, src.dtype) == (1, (20, 30), np.float32)
        np.testing.assert_array_equal(src[0], single)


def test_tiff_hyperstack_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "hyper.tif"
    tifffile.imwrite(path, np.zeros((2, 3, 20, 30), np.uint8), imagej=True, metadata={"axes": "TCYX"})
    with pytest.raises(FrameSourceError, match=r"hyper\.tif: .*is not one \(H, W\) or \(H, W, C\) page"):
        open_frames(path)


def write_folder(folder: Path, names: list[str], shape: tuple[int, ...] = (10, 12)) -> Path:
    """One grayscale PNG per name, filled with 10 * (its position in ``names``)."""
    folder.mkdir()
    for i, name in enumerate(names):
        iio.imwrite(folder / name, np.full(shape, 10 * i, np.uint8))
    return folder


def test_folder_natural_sort_and_filtering(tmp_path: Path) -> None:
    names = ["img10.png", "img2.png", "IMG1.PNG", "img9.png", "img100.png"]
    folder = write_folder(tmp_path / "frames", names)
    (folder / "notes.txt").write_text("not an image")
    (folder / ".img0.png").write_bytes(b"hidden, not an image")
    (folder / "img5.png.bak").write_bytes(b"backup")
    with open_frames(folder) as src:
        assert isinstance(src, FolderSource)
        assert [p.name for p in src.files] == ["IMG1.PNG", "img2.png", "img9.png", "img10.png", "img100.png"]
        assert (len(src), src.frame_shape, src.dtype) == (5, (10, 12), np.uint8)
        values = [int(frame[0, 0]) for _, frame in src.iter_frames()]
        assert values == [20, 10, 30, 0, 40]
        assert [int(src[i][0, 0]) for i in (4, 0, -2)] == [40, 20, 0]
        assert [i for i, _ in src.iter_frames(1, 3)] == [1, 2]


def test_folder_frame_with_other_shape(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "frames", ["a1.png", "a2.png"])
    iio.imwrite(folder / "a3.png", np.zeros((11, 12), np.uint8))
    with open_frames(folder) as src:
        assert len(src) == 3
        assert src[1].shape == (10, 12)
        with pytest.raises(FrameSourceError, match=r"a3\.png: frame 2 has shape \(11, 12\)"):
            src[2]
        with pytest.raises(FrameSourceError, match="a3.png"):
            list(src.iter_frames())


def test_folder_unreadable_image(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "frames", ["a1.png"])
    (folder / "a2.png").write_bytes(b"not a png")
    with open_frames(folder) as src, pytest.raises(FrameSourceError, match=r"a2\.png: cannot read image"):
        src[1]


def assert_open_fails(path: Path, problem: str) -> None:
    with pytest.raises(FrameSourceError, match=problem) as info:
        open_frames(path)
    assert str(path) in str(info.value)


def test_missing_path(tmp_path: Path) -> None:
    assert_open_fails(tmp_path / "missing.mp4", "no such file or directory")


def test_unknown_extension(tmp_path: Path) -> None:
    path = tmp_path / "clip.xyz"
    path.write_text("x")
    assert_open_fails(path, "unsupported file type '.xyz'")


def test_folder_without_images(tmp_path: Path) -> None:
    assert_open_fails(write_folder(tmp_path / "empty", []), "has no frames")
    (tmp_path / "empty" / "notes.txt").write_text("x")
    assert_open_fails(tmp_path / "empty", "has no frames")


@pytest.mark.parametrize(
    ("name", "problem"), [("bad.mp4", "cannot open video"), ("bad.tif", "cannot open TIFF")]
)
def test_unreadable_file(tmp_path: Path, name: str, problem: str) -> None:
    (tmp_path / name).write_text("not a video or image")
    assert_open_fails(tmp_path / name, problem)


def test_video_without_frames(tmp_path: Path) -> None:
    path = tmp_path / "empty.avi"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height = WIDTH, HEIGHT
        out.start_encoding()
    assert_open_fails(path, "has no frames")
