"""Giving an idle process's memory back to the system once the models are unloaded.

Two kinds of pages stay resident after the models' sessions are dropped: freed heap that glibc
keeps in its arenas (``malloc_trim`` returns it), and clean file-backed pages: the code of
onnxruntime, OpenCV and the rest, read in by the first search. ``MADV_PAGEOUT`` (Linux 5.4)
asks the kernel to reclaim the latter now; their contents are kept (the file), and a page used
again is read back in on touch. Everything here is best effort: where the system lacks a call
(not Linux, not glibc, an older kernel) it does nothing, and it never raises.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from pathlib import Path

MADV_PAGEOUT = 21  # linux/mman-common.h


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None


def trim_heap() -> bool:
    """Return freed heap pages to the system (glibc keeps the ONNX sessions' arenas otherwise);
    True if glibc's ``malloc_trim`` ran."""
    libc = _libc()
    trim = getattr(libc, "malloc_trim", None) if libc is not None else None
    if trim is None:  # not glibc (musl, macOS)
        return False
    trim(0)
    return True


def read_only_file_mappings(maps: str) -> list[tuple[int, int]]:
    """The address ranges of ``/proc/PID/maps`` text that map a file without write access:
    code and read-only data of the libraries (their pages are clean, the file holds them)."""
    ranges = []
    for line in maps.splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) < 6 or "w" in parts[1] or not parts[5].startswith("/"):
            continue  # writable (may be dirty), anonymous, or a pseudo-mapping ([vdso], [stack])
        start, end = (int(v, 16) for v in parts[0].split("-"))
        ranges.append((start, end - start))
    return ranges


def page_out_files() -> int:
    """Ask the kernel to reclaim the process's clean file-backed pages (``MADV_PAGEOUT``);
    returns the bytes of the ranges it accepted (0 off Linux or before 5.4)."""
    if not sys.platform.startswith("linux"):
        return 0
    libc = _libc()
    madvise = getattr(libc, "madvise", None) if libc is not None else None
    if madvise is None:
        return 0
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    madvise.restype = ctypes.c_int
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return 0
    done = 0
    for start, length in read_only_file_mappings(maps):
        if madvise(start, length, MADV_PAGEOUT) == 0:  # EINVAL before Linux 5.4: nothing done
            done += length
    return done
