"""Giving an idle process's memory back to the system once the models are unloaded.

Two kinds of pages stay resident after the models' sessions are dropped: freed heap that glibc
keeps in its arenas (``malloc_trim`` returns it), and file-backed pages: the code of
onnxruntime, OpenCV and the rest, read in by the first search, and the vector engine's mapped
segments (at 100k faces more than half of the idle daemon's file-backed memory). ``MADV_PAGEOUT``
(Linux 5.4) asks the kernel to reclaim the latter now; their contents are kept (the file), and a
page used again is read back in on touch. Everything here is best effort: where the system lacks a call
(not Linux, not glibc, an older kernel) it does nothing, and it never raises.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from pathlib import Path

MADV_DONTNEED = 4  # linux/mman-common.h
MADV_PAGEOUT = 21


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


def file_mappings(maps: str, shared_only: bool = False) -> list[tuple[int, int]]:
    """The address ranges of ``/proc/PID/maps`` text whose pages the file holds: read-only
    mappings (the libraries' code and constants) and shared ones (the vector engine's segments
    and log, whose written pages the kernel writes back before it reclaims them). Private
    writable mappings are left: their written pages are the process's own, not the file's.
    ``shared_only``: the shared ones alone."""
    ranges = []
    for line in maps.splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) < 6 or not parts[5].startswith("/"):
            continue  # anonymous, or a pseudo-mapping ([vdso], [stack])
        if "s" not in parts[1] and ("w" in parts[1] or shared_only):
            continue  # private and writable: copied-on-write pages are not in the file
        start, end = (int(v, 16) for v in parts[0].split("-"))
        ranges.append((start, end - start))
    return ranges


def page_out_files() -> int:
    """Ask the kernel to reclaim the process's file-backed pages (``MADV_PAGEOUT``), then let go
    of the shared mappings' pages (``MADV_DONTNEED``); returns the bytes of the ranges the
    page-out accepted (0 off Linux or before 5.4).

    The page-out passes over a page mapped twice, and the vector engine maps its segments twice
    (a read-only and a writable view): their pages stay resident until this process lets go of
    them. For a shared mapping that is safe at any moment (mmap(2)): written pages stay in the
    file's cache, marked for writing, and a later touch maps the file's current page again.
    Private mappings are never let go of this way: their written pages would be lost."""
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
    for start, length in file_mappings(maps):
        if madvise(start, length, MADV_PAGEOUT) == 0:  # EINVAL before Linux 5.4: nothing done
            done += length
    if done:
        for start, length in file_mappings(maps, shared_only=True):
            madvise(start, length, MADV_DONTNEED)
    return done
