"""Load torch's core library without holding Python's interpreter lock.

Importing torch loads ``libtorch_cpu``, a library of several hundred MB whose loading (and the
initialisers it runs) takes 0.3–0.5 s. Python loads an extension module while holding its interpreter
lock, so a thread that imports torch stops every other thread for that long, the viewer's included.
:func:`preload_torch` loads the library first through the C library's ``dlopen`` called by
:mod:`ctypes`, which lets go of the lock during the call; the import that follows finds it loaded.
Nothing is imported from torch here; where there is no ``dlopen`` (Windows) nothing is done.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import sys
from pathlib import Path


def torch_core_library() -> Path | None:
    """Where torch's core library is, without importing torch (None if it cannot be found)."""
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return None
    suffix = ".dylib" if sys.platform == "darwin" else ".so"
    path = Path(spec.submodule_search_locations[0]) / "lib" / f"libtorch_cpu{suffix}"
    return path if path.is_file() else None


def preload_torch() -> bool:
    """Load torch's core library with the interpreter lock released; True if it is loaded now.

    Does nothing once torch is imported. Whatever fails here is left to the import of torch to report."""
    if "torch" in sys.modules or os.name != "posix":
        return False
    path = torch_core_library()
    if path is None:
        return False
    try:
        dlopen = ctypes.CDLL(None).dlopen
    except (OSError, AttributeError):
        return False
    dlopen.argtypes, dlopen.restype = [ctypes.c_char_p, ctypes.c_int], ctypes.c_void_p
    return bool(dlopen(os.fsencode(path), os.RTLD_NOW))
