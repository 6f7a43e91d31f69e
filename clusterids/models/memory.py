"""Giving an idle process's memory back to the system once the models are unloaded.

Two kinds of pages stay resident after the models' sessions are dropped: freed heap that glibc
keeps in its arenas (``malloc_trim`` returns it), and file-backed pages: the code of
onnxruntime, OpenCV and the rest, read in by the first search, and the vector engine's mapped
segments (at 100k faces more than half of the idle daemon's file-backed memory). ``MADV_PAGEOUT``
(Linux 5.4) asks the kernel to reclaim the latter now; their contents are kept (the file), and a
page used again is read back in on touch. The page-out passes over pages mapped twice, as the
vector engine maps its segments; ``let_go_of_shared`` unmaps those. ``give_back`` does all of
it, in that order, for the daemon once the models are unloaded. Everything here is best effort:
where the system lacks a call (not Linux, not glibc, an older kernel) it does nothing, and it
never raises.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
from collections.abc import Callable, Iterator
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


def _mappings(maps: str) -> Iterator[tuple[int, int, str, str]]:
    """Each file mapping of ``/proc/PID/maps`` text: (start, length, permissions, path)."""
    for line in maps.splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) < 6 or not parts[5].startswith("/"):
            continue  # anonymous, or a pseudo-mapping ([vdso], [stack])
        start, end = (int(v, 16) for v in parts[0].split("-"))
        yield start, end - start, parts[1], parts[5]


def file_mappings(maps: str) -> list[tuple[int, int]]:
    """The address ranges of ``/proc/PID/maps`` text whose pages the file holds: read-only
    mappings (the libraries' code and constants) and shared ones (the vector engine's segments
    and log, whose written pages the kernel writes back before it reclaims them). Private
    writable mappings are left: their written pages are the process's own, not the file's."""
    return [(start, length) for start, length, perms, _ in _mappings(maps) if "s" in perms or "w" not in perms]


def _madvise() -> Callable[[int, int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    libc = _libc()
    madvise = getattr(libc, "madvise", None) if libc is not None else None
    if madvise is None:
        return None
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    madvise.restype = ctypes.c_int
    return madvise


def _maps() -> str | None:
    try:
        return Path("/proc/self/maps").read_text()
    except OSError:
        return None


def page_out_files() -> int:
    """Ask the kernel to reclaim the process's file-backed pages (``MADV_PAGEOUT``); returns
    the bytes of the ranges it accepted (0 off Linux or before 5.4). Harmless on any range, even
    one mapped anew meanwhile: nothing is dropped, pages are written back or left."""
    madvise, maps = _madvise(), _maps()
    if madvise is None or maps is None:
        return 0
    done = 0
    for start, length in file_mappings(maps):
        if madvise(start, length, MADV_PAGEOUT) == 0:  # EINVAL before Linux 5.4: nothing done
            done += length
    return done


def let_go_of_shared(folder: Path) -> int:
    """Unmap the pages of the shared mappings of files inside ``folder`` (``MADV_DONTNEED``);
    returns the bytes of the ranges let go of (0 off Linux).

    The page-out passes over a page mapped twice, and the vector engine maps its segments twice
    (a read-only and a writable view), so their pages stay resident until the process lets go of
    them. For a shared mapping that is safe (mmap(2)): written pages stay in the file's cache,
    marked for writing, and a later touch maps the file's page again. But a range unmapped and
    mapped anew as private memory after /proc/self/maps was read would be zeroed: so only the
    files of ``folder``, and only from the thread that alone maps and unmaps them (the daemon's
    writer, which owns the vector index), and on a fresh read of the maps."""
    madvise, maps = _madvise(), _maps()
    if madvise is None or maps is None:
        return 0
    inside = str(folder.resolve()).rstrip("/") + "/"
    done = 0
    for start, length, perms, path in _mappings(maps):
        if "s" in perms and path.startswith(inside) and madvise(start, length, MADV_DONTNEED) == 0:
            done += length
    return done


def give_back(index_folder: Path | None = None) -> None:
    """Give an idle process's memory back once its models are unloaded: the freed heap, the
    file-backed pages, and, where the caller owns it, the vector index's (``let_go_of_shared``)."""
    gc.collect()  # the sessions' last references, before their arenas are trimmed
    trim_heap()
    page_out_files()
    if index_folder is not None:
        let_go_of_shared(index_folder)
