"""Hostile input: files a person might feed the plugin (damaged, foreign, odd), each made on the spot and
tiny, and what reading them must do: read them, or stop with one clear line.

:data:`CASES` lists the named cases per reader; :func:`mutants` makes random damaged copies of a good
file; :func:`attempt` reads a file the way the plugin does and says what happened. Used by
``test_hostile_input.py`` and by ``benchmarks/fuzz.py`` (the README's fuzz table).
"""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

HEADER = "frame,track_id,x,y,w,h,score,source,keyframe"
GOOD_ROWS = ["0,1,10.0,5.0,8.0,6.0,1.0,manual,true", "1,1,11.5,5.25,8.0,6.0,0.75,tracked,false"]
#: A file that a pickle in a weights case would create if loading it ran the pickle's code.
PAYLOAD_MARK = "siamtrack-pickle-ran"


@dataclass(frozen=True)
class Case:
    """One hostile file: ``make(folder)`` writes it and returns its path; ``readable`` says whether the
    reader must read it (else it must refuse it with one clear line)."""

    reader: str
    name: str
    make: Callable[[Path], Path]
    readable: bool


# --- boxes CSV ---------------------------------------------------------------------------------------


def _csv(name: str, text: str | bytes, readable: bool = False, encoding: str = "utf-8") -> Case:
    def make(folder: Path) -> Path:
        path = folder / f"{name}.boxes.csv"
        path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
        return path

    return Case("boxes CSV", name, make, readable)


def _lines(*lines: str, end: str = "\n") -> str:
    return end.join(lines) + end


_CSV = [
    _csv("valid", _lines(HEADER, *GOOD_ROWS), True),
    _csv("byte-order mark", "\ufeff" + _lines(HEADER, *GOOD_ROWS), True),
    _csv("Windows line ends", _lines(HEADER, *GOOD_ROWS, end="\r\n"), True),
    _csv("mark and Windows line ends", "\ufeff" + _lines(HEADER, *GOOD_ROWS, end="\r\n"), True),
    _csv("old Mac line ends", _lines(HEADER, *GOOD_ROWS, end="\r"), True),
    _csv("no final line end", HEADER + "\n" + GOOD_ROWS[0], True),
    _csv("columns reordered", _lines("keyframe,source,score,h,w,y,x,track_id,frame",
                                      "true,manual,1.0,6.0,8.0,5.0,10.0,1,0"), True),
    _csv("extra column", _lines(HEADER + ",note", GOOD_ROWS[0] + ",hello"), True),
    _csv("quoted fields", _lines(HEADER, '"0","1","10.0","5.0","8.0","6.0","1.0","manual","true"'), True),
    _csv("blank lines", _lines(HEADER, "", GOOD_ROWS[0], "", "", GOOD_ROWS[1]), True),
    _csv("header only", _lines(HEADER), True),
    _csv("spaces around names", _lines(HEADER.replace(",", " , "), GOOD_ROWS[0]), True),
    _csv("keyframe as 1 and TRUE", _lines(HEADER, "0,1,1,2,3,4,1,manual,TRUE", "1,1,1,2,3,4,.5,tracked,0"),
         True),
    _csv("empty file", b""),
    _csv("truncated in a row", (_lines(HEADER, *GOOD_ROWS))[:-20]),
    _csv("truncated in the header", HEADER[:20]),
    _csv("missing column", _lines("frame,track_id,x,y,w,h,source,keyframe", "0,1,10,5,8,6,manual,true")),
    _csv("renamed column", _lines(HEADER.replace("frame", "frame_id"), GOOD_ROWS[0])),
    _csv("repeated column", _lines(HEADER + ",x", GOOD_ROWS[0] + ",3")),
    _csv("too few fields", _lines(HEADER, "0,1,10.0,5.0")),
    _csv("too many fields", _lines(HEADER, GOOD_ROWS[0] + ",1,2")),
    _csv("NaN coordinate", _lines(HEADER, "0,1,nan,5.0,8.0,6.0,1.0,manual,true")),
    _csv("infinite size", _lines(HEADER, "0,1,1.0,5.0,inf,6.0,1.0,manual,true")),
    _csv("huge coordinate", _lines(HEADER, "0,1,1e308,5.0,8.0,6.0,1.0,manual,true")),
    _csv("huge size", _lines(HEADER, "0,1,1.0,5.0,8.0,1e300,1.0,manual,true")),
    _csv("huge frame", _lines(HEADER, "100000000000000000000,1,1.0,5.0,8.0,6.0,1.0,manual,true")),
    _csv("huge track id", _lines(HEADER, "0,99999999999999999999,1.0,5.0,8.0,6.0,1.0,manual,true")),
    _csv("a thousand-digit number", _lines(HEADER, "0,1," + "9" * 1000 + ",5.0,8.0,6.0,1.0,manual,true")),
    _csv("negative frame", _lines(HEADER, "-1,1,1.0,5.0,8.0,6.0,1.0,manual,true")),
    _csv("zero width", _lines(HEADER, "0,1,1.0,5.0,0,6.0,1.0,manual,true")),
    _csv("score above 1", _lines(HEADER, "0,1,1.0,5.0,8.0,6.0,1.5,tracked,false")),
    _csv("fractional frame", _lines(HEADER, "1.5,1,1.0,5.0,8.0,6.0,1.0,manual,true")),
    _csv("text for a number", _lines(HEADER, "0,one,1.0,5.0,8.0,6.0,1.0,manual,true")),
    _csv("empty fields", _lines(HEADER, ",,,,,,,,")),
    _csv("unknown source", _lines(HEADER, "0,1,1.0,5.0,8.0,6.0,1.0,auto,true")),
    _csv("unknown keyframe", _lines(HEADER, "0,1,1.0,5.0,8.0,6.0,1.0,manual,maybe")),
    _csv("duplicate rows", _lines(HEADER, GOOD_ROWS[0], GOOD_ROWS[0])),
    _csv("two boxes for one track and frame",
         _lines(HEADER, GOOD_ROWS[0], GOOD_ROWS[0].replace("10.", "12."))),
    _csv("two files concatenated", _lines(HEADER, GOOD_ROWS[0], HEADER, GOOD_ROWS[1])),
    _csv("semicolons", _lines(HEADER.replace(",", ";"), GOOD_ROWS[0].replace(",", ";"))),
    _csv("decimal commas", _lines(HEADER, '0,1,"10,5",5.0,8.0,6.0,1.0,manual,true')),
    _csv("UTF-16 text", _lines(HEADER, *GOOD_ROWS), encoding="utf-16"),
    _csv("Latin-1 text", _lines(HEADER, GOOD_ROWS[0]) + "é\n", encoding="latin-1"),
    _csv("NUL bytes", (_lines(HEADER, *GOOD_ROWS)).replace("10.0", "1\x000")),
    _csv("a megabyte field", _lines(HEADER, "0,1," + "1" * 2**20 + ",5.0,8.0,6.0,1.0,manual,true")),
    _csv("binary", bytes(range(256)) * 8),
    _csv("unclosed quote", _lines(HEADER, '0,1,"10.0,5.0,8.0,6.0,1.0,manual,true')),
]


# --- ground truth text (training and benchmark sequences) --------------------------------------------


def _gt(name: str, text: str | bytes, readable: bool, encoding: str = "utf-8") -> Case:
    def make(folder: Path) -> Path:
        path = folder / f"{name}.groundtruth.txt"
        path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
        return path

    return Case("ground truth", name, make, readable)


_GT = [
    _gt("commas", "1,2,30,40\n5,6,30,40\n", True),
    _gt("tabs and spaces", "1\t2 30  40\n5 6\t30 40\n", True),
    _gt("Windows line ends", "1,2,30,40\r\n5,6,30,40\r\n", True),
    _gt("byte-order mark", "\ufeff1,2,30,40\n", True),
    _gt("NaN row and blank line", "1,2,30,40\nNaN,NaN,NaN,NaN\n\n5,6,30,40\n", True),
    _gt("polygon", "1,2,31,2,31,42,1,42\n", True),
    _gt("huge values", "1e400,2,30,40\n", True),
    _gt("empty file", b"", True),
    _gt("five values", "1,2,30,40,5\n", False),
    _gt("words", "left,top,width,height\n", False),
    _gt("UTF-16 text", "1,2,30,40\n", False, encoding="utf-16"),
    _gt("binary", bytes(range(256)) * 4, False),
]


# --- videos ------------------------------------------------------------------------------------------


def _frames(n: int, height: int = 48, width: int = 64) -> np.ndarray:
    """A bright square moving right, and a bright mark at the top-left corner of every frame."""
    frames = np.zeros((n, height, width, 3), np.uint8)
    for i in range(n):
        frames[i, height // 3 : height // 3 + 8, (2 * i) % (width - 8) : (2 * i) % (width - 8) + 8] = 200
    frames[:, :6, :6] = 255
    return frames


def encode(path: Path, frames: np.ndarray, codec: str = "libx264", pts: list[int] | None = None,
           rotation: int = 0, faststart: bool = False, pix_fmt: str = "yuv420p") -> Path:
    """Write ``frames`` with PyAV: a keyframe every 4 frames, optional timestamps in ms (variable frame
    rate), display rotation (counter-clockwise degrees) and the index at the front."""
    import av

    with av.open(str(path), "w", options={"movflags": "+faststart"} if faststart else {}) as container:
        stream = container.add_stream(codec, rate=10, options={"g": "4"} if codec == "libx264" else {})
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], pix_fmt
        if pts is not None:
            stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
        if rotation:
            stream.set_display_rotation(rotation)
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            if pts is not None:
                frame.pts, frame.time_base = pts[i], Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _video(name: str, suffix: str, readable: bool, build: Callable[[Path], None]) -> Case:
    def make(folder: Path) -> Path:
        path = folder / f"{name}{suffix}"
        build(path)
        return path

    return Case("video", name, make, readable)


def _cut(fraction: float, faststart: bool = False) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        whole = encode(path.with_suffix(".whole.mp4"), _frames(20), faststart=faststart)
        data = whole.read_bytes()
        path.write_bytes(data[: int(len(data) * fraction)])
        whole.unlink()

    return build


def _renamed(suffix: str) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        encode(path.with_suffix(suffix), _frames(12)).rename(path)

    return build


def _audio_only(path: Path) -> None:
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 8000
        for packet in [*stream.encode(frame), *stream.encode()]:
            container.mux(packet)


def _png_as_video(path: Path) -> None:
    import imageio.v3 as iio

    path.write_bytes(iio.imwrite("<bytes>", _frames(1)[0], extension=".png"))


_VFR = [0, 10, 15, 100, 101, 200, 400, 401, 402, 403, 500, 800, 801, 900, 1000, 1001]

_VIDEO = [
    _video("valid mp4", ".mp4", True, lambda p: encode(p, _frames(12))),
    _video("valid mkv", ".mkv", True, lambda p: encode(p, _frames(12))),
    _video("valid avi", ".avi", True, lambda p: encode(p, _frames(12))),
    _video("variable frame rate", ".mp4", True, lambda p: encode(p, _frames(len(_VFR)), pts=_VFR)),
    _video("rotated 90 (phone)", ".mp4", True, lambda p: encode(p, _frames(8), rotation=-90)),
    _video("rotated 270", ".mp4", True, lambda p: encode(p, _frames(8), rotation=90)),
    _video("rotated 180", ".mp4", True, lambda p: encode(p, _frames(8), rotation=180)),
    _video("one frame", ".mp4", True, lambda p: encode(p, _frames(1))),
    _video("odd size 33x17", ".mp4", True, lambda p: encode(p, _frames(6, 17, 33), pix_fmt="yuv444p")),
    _video("odd size, MPEG-4 part 2", ".avi", True, lambda p: encode(p, _frames(6, 17, 33), codec="mpeg4")),
    _video("mp4 named .avi", ".avi", True, _renamed(".mp4")),
    _video("mkv named .mp4", ".mp4", True, _renamed(".mkv")),
    _video("PNG named .mp4", ".mp4", True, _png_as_video),
    _video("zero bytes", ".mp4", False, lambda p: p.write_bytes(b"")),
    _video("text named .mp4", ".mp4", False, lambda p: p.write_text("not a video\n")),
    _video("random bytes", ".mov", False, lambda p: p.write_bytes(np.random.default_rng(0).bytes(20000))),
    _video("audio only", ".mp4", False, _audio_only),
    _video("truncated, index at the end", ".mp4", False, _cut(0.5)),
    _video("truncated to 1 kB", ".mp4", False, _cut(0.03)),
    _video("truncated, index at the front", ".mp4", False, _cut(0.5, faststart=True)),
    _video("last bytes missing, index at the front", ".mp4", False, _cut(0.9, faststart=True)),
]


# --- TIFF stacks -------------------------------------------------------------------------------------


def _tiff(name: str, readable: bool, build: Callable[[Path], None]) -> Case:
    def make(folder: Path) -> Path:
        path = folder / f"{name}.tif"
        build(path)
        return path

    return Case("TIFF stack", name, make, readable)


def _stack(array: np.ndarray, **kwargs) -> Callable[[Path], None]:
    import tifffile

    return lambda path: tifffile.imwrite(path, array, **kwargs)


def _damaged_tiff(keep: int) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        _stack(np.arange(6 * 24 * 32, dtype=np.uint16).reshape(6, 24, 32))(path)
        path.write_bytes(path.read_bytes()[:keep])

    return build


def _mixed_pages(path: Path) -> None:
    import tifffile

    with tifffile.TiffWriter(path) as tif:
        tif.write(np.zeros((24, 32), np.uint16))
        tif.write(np.zeros((12, 16), np.uint16))


_rng = np.random.default_rng(0)
_float = _rng.normal(0, 1, (5, 24, 32)).astype(np.float32)
_float[0, :2, :2] = [[np.nan, np.inf], [-np.inf, 0.0]]

_TIFF = [
    _tiff("16-bit", True, _stack(_rng.integers(0, 65535, (5, 24, 32), dtype=np.uint16))),
    _tiff("12-bit in 16", True, _stack(_rng.integers(0, 4096, (5, 24, 32), dtype=np.uint16))),
    _tiff("float32 with NaN and inf", True, _stack(_float)),
    _tiff("float64", True, _stack(_float.astype(np.float64))),
    _tiff("signed 16-bit", True, _stack(_rng.integers(-3000, 3000, (5, 24, 32), dtype=np.int16))),
    _tiff("RGB 8-bit", True, _stack(_frames(4, 24, 32), photometric="rgb")),
    _tiff("one page", True, _stack(np.zeros((24, 32), np.uint8))),
    _tiff("ImageJ hyperstack", True, _stack(np.zeros((4, 24, 32), np.uint16), imagej=True)),
    _tiff("pages of two sizes", True, _mixed_pages),
    _tiff("zero bytes", False, lambda p: p.write_bytes(b"")),
    _tiff("8 bytes", False, _damaged_tiff(8)),
    _tiff("header only", False, _damaged_tiff(100)),
    _tiff("truncated", False, _damaged_tiff(3000)),
    _tiff("5-D (time, depth, channel)", False, _stack(np.zeros((2, 3, 2, 24, 32), np.uint16))),
    _tiff("text named .tif", False, lambda p: p.write_text("not an image\n")),
]


# --- weights -----------------------------------------------------------------------------------------


def _weights(name: str, build: Callable[[Path], None]) -> Case:
    def make(folder: Path) -> Path:
        path = folder / f"{name}.weights"
        build(path)
        return path

    return Case("weights", name, make, False)


def _shipped() -> bytes:
    from napari_siamtrack.tracking.weights import SHIPPED_WEIGHTS

    return SHIPPED_WEIGHTS.read_bytes()


def _retensored(change: Callable[[dict], None]) -> Callable[[Path], None]:
    """The shipped weights with their tensors changed by ``change`` (metadata kept)."""

    def build(path: Path) -> None:
        from safetensors import safe_open
        from safetensors.torch import save_file

        from napari_siamtrack.tracking.weights import SHIPPED_WEIGHTS

        with safe_open(str(SHIPPED_WEIGHTS), framework="pt") as fh:
            meta = fh.metadata()
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 (not a dict)
        change(tensors)
        save_file(tensors, str(path), metadata=meta)

    return build


def _remetadata(key: str, value: str) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        from safetensors import safe_open
        from safetensors.torch import save_file

        from napari_siamtrack.tracking.weights import SHIPPED_WEIGHTS

        with safe_open(str(SHIPPED_WEIGHTS), framework="pt") as fh:
            meta = fh.metadata()
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 (not a dict)
        save_file(tensors, str(path), metadata={**meta, key: value})

    return build


class _Payload:
    """Unpickling this creates :data:`PAYLOAD_MARK` in the working folder: a stand-in for harmful code."""

    def __init__(self, folder: Path) -> None:
        self.folder = str(folder)

    def __reduce__(self):
        return (os.makedirs, (os.path.join(self.folder, PAYLOAD_MARK), 0o755, True))


def _torch_save(obj_of: Callable[[Path], object], legacy: bool = False) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        import torch

        buffer = io.BytesIO()
        torch.save(obj_of(path), buffer, _use_new_zipfile_serialization=not legacy)
        path.write_bytes(buffer.getvalue())

    return build


def _truncated_header(path: Path) -> None:
    data = _shipped()
    (length,) = struct.unpack("<Q", data[:8])
    path.write_bytes(data[: 8 + length // 2])


def _huge_header(path: Path) -> None:
    path.write_bytes(struct.pack("<Q", 2**62) + _shipped()[8:400])


def _zip_not_torch(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "hello")


_WEIGHTS = [
    _weights("zero bytes", lambda p: p.write_bytes(b"")),
    _weights("text", lambda p: p.write_text("weights\n" * 10)),
    _weights("random bytes", lambda p: p.write_bytes(np.random.default_rng(1).bytes(4096))),
    _weights("JSON", lambda p: p.write_text(json.dumps({"weights": [1, 2, 3]}) + " " * 16)),
    _weights("safetensors truncated in the header", _truncated_header),
    _weights("safetensors truncated in the data", lambda p: p.write_bytes(_shipped()[:1_000_000])),
    _weights("safetensors missing its last bytes", lambda p: p.write_bytes(_shipped()[:-64])),
    _weights("safetensors header length 2**62", _huge_header),
    _weights("safetensors of another model", lambda p: p.write_bytes(_safetensors_other())),
    _weights("wrong shape", _retensored(lambda t: t.update(_halved(t)))),
    _weights("missing tensor", _retensored(lambda t: t.pop(min(t)))),
    _weights("extra tensor", _retensored(lambda t: t.update({"extra.weight": t[min(t)].clone()}))),
    _weights("bad metadata", _remetadata("input", "{not json")),
    _weights("other architecture", _remetadata("architecture", "siamrpn/alexnet")),
    _weights("format version 2", _remetadata("version", "2")),
    _weights("plain pickle running code", lambda p: p.write_bytes(pickle.dumps({"w": _Payload(p.parent)}))),
    _weights("torch file running code", _torch_save(lambda p: {"w": _Payload(p.parent)})),
    _weights("legacy torch file running code", _torch_save(lambda p: {"w": _Payload(p.parent)}, True)),
    _weights("torch file of another model", _torch_save(lambda p: {"fc.weight": _zeros(3, 3)})),
    _weights("SiamDW layout, wrong shape",
             _torch_save(lambda p: {"features.features.conv1.weight": _zeros(3)})),
    _weights("torch file holding a list", _torch_save(lambda p: [_zeros(2)])),
    _weights("zip that is not torch", _zip_not_torch),
]


def _halved(tensors: dict) -> dict:
    """The largest tensor, with its first axis cut to one entry."""
    name = max(tensors, key=lambda k: tensors[k].numel())
    return {name: tensors[name][:1]}


def _zeros(*shape: int):
    import torch

    return torch.zeros(*shape)


def _safetensors_other() -> bytes:
    from safetensors.numpy import save

    return save({"w": np.zeros((2, 2), np.float32)})


CASES: list[Case] = [*_CSV, *_GT, *_VIDEO, *_TIFF, *_WEIGHTS]
READERS = ("boxes CSV", "ground truth", "video", "TIFF stack", "weights")


# --- reading -----------------------------------------------------------------------------------------


def _read_csv(path: Path, exact: bool) -> int:
    from napari_siamtrack.io.box_csv import read_csv

    return len(read_csv(path))


def _read_groundtruth(path: Path, exact: bool) -> int:
    from napari_siamtrack.io.sequences import read_groundtruth

    return len(read_groundtruth(path, one_based=False))


def _read_frames(path: Path, exact: bool) -> int:
    """Open a video or TIFF, read every frame in order and then backwards by index: the frames must have
    the source's shape and dtype, and (``exact``) be the same both ways. A damaged video may decode
    differently after a seek (the decoder conceals damage from whatever it decoded before), so damaged
    copies are not held to that."""
    from napari_siamtrack.io.sources import open_frames

    with open_frames(path) as source:
        ahead = [frame for _, frame in source.iter_frames()]
        behind = [source[i] for i in reversed(range(len(source)))][::-1]
        assert len(ahead) == len(behind) == len(source)
        for a, b in zip(ahead, behind):
            assert a.shape == b.shape == source.frame_shape and a.dtype == b.dtype == source.dtype
            if exact:
                np.testing.assert_array_equal(a, b)
    return len(ahead)


def _read_weights(path: Path, exact: bool) -> int:
    from napari_siamtrack.tracking.weights import load_weights

    load_weights(path)
    return 1


READ: dict[str, Callable[[Path, bool], int]] = {
    "boxes CSV": _read_csv,
    "ground truth": _read_groundtruth,
    "video": _read_frames,
    "TIFF stack": _read_frames,
    "weights": _read_weights,
}


class Crash(AssertionError):
    """Reading raised something other than the reader's one-line error (the traceback is attached)."""


def attempt(reader: str, path: Path, exact: bool = True) -> str | None:
    """Read ``path`` as ``reader`` does: None when it reads, else the one-line error. Raises
    :class:`Crash` for any other exception, a message of several lines, or code a pickle ran.
    ``exact=False`` for damaged copies (see :func:`_read_frames`)."""
    try:
        READ[reader](path, exact)
    except ValueError as exc:  # every user-facing error of the package is a ValueError
        message = str(exc)
        if "\n" in message or not message.strip() or len(message) > 1000:
            raise Crash(f"{reader} {path.name}: not a one-line message: {message[:2000]!r}") from exc
        return message
    except Exception as exc:
        raise Crash(f"{reader} {path.name}: {type(exc).__name__}: {exc}") from exc
    finally:
        if (path.parent / PAYLOAD_MARK).exists():
            raise Crash(f"{reader} {path.name}: loading it ran the code in the file")
    return None


# --- random damage -----------------------------------------------------------------------------------


def mutants(data: bytes, count: int, seed: int) -> Iterator[bytes]:
    """``count`` randomly damaged copies of ``data``: cut short, bytes overwritten, bytes inserted, a
    stretch deleted or repeated (one to three of these each)."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        out = bytearray(data)
        for _ in range(int(rng.integers(1, 4))):
            n = len(out)
            kind = int(rng.integers(5))
            at = int(rng.integers(0, max(n, 1)))
            span = int(rng.integers(1, 64))
            if kind == 0:
                del out[at:]
            elif kind == 1:
                out[at : at + span] = rng.bytes(len(out[at : at + span]))
            elif kind == 2:
                out[at:at] = rng.bytes(span)
            elif kind == 3:
                del out[at : at + span]
            else:
                out[at:at] = out[at : at + span]
        yield bytes(out)


def good_file(reader: str, folder: Path) -> Path:
    """A valid file of ``reader``'s kind, to damage."""
    name = {"boxes CSV": "valid", "ground truth": "commas", "video": "valid mp4", "TIFF stack": "16-bit"}
    if reader == "weights":
        from napari_siamtrack.tracking.weights import SHIPPED_WEIGHTS

        return SHIPPED_WEIGHTS
    (case,) = [c for c in CASES if c.reader == reader and c.name == name[reader]]
    return case.make(folder)

