"""Named fault points for the fault-injection suite (tests/faults/); inert unless asked for.

``CLUSTERIDS_CRASH_AT=NAME`` ends the process at once (``os._exit``, like a SIGKILL: nothing is
flushed or cleaned up) when it reaches the point NAME. ``CLUSTERIDS_FAULT=NAME:ERR[:N]`` raises
``OSError(ERR)`` (ENOSPC, EIO, ...) at the point NAME, the first N times (default: always).
Both are read on each pass, so a test can arm them in its own process with monkeypatch.
"""

from __future__ import annotations

import errno
import os

CRASH_ENV = "CLUSTERIDS_CRASH_AT"
FAULT_ENV = "CLUSTERIDS_FAULT"
CRASH_EXIT = 86  # the exit status of a crash point, so a test tells it from a real failure

# Every point, in the order a write passes them: database commit, then the catch-up (vectors,
# names from XMP, assignment, payloads, albums), and the graph.
POINTS = (
    "index.after_commit",  # photos and faces committed, their vectors not yet written
    "names.after_apply",  # i20: names read from XMP made corrections, their outbox rows not yet done
    "index.before_assign",  # vectors written, the new faces not yet given to known persons
    "recluster.after_commit",  # persons committed, vector payloads not yet updated
    "correct.after_commit",  # a correction committed, vector payloads not yet updated
    "catchup.before_albums",  # payloads updated, albums not yet in step
    "open.before_albums",  # the same, in the catch-up a command runs when it opens the library
    "albums.mid_sync",  # some albums switched, others not
    "graph.before_save",
    "restore.copying",  # the copy being made beside the database (a full disk)
    "restore.before_swap",  # the copy made whole beside the database, the database not yet moved aside
    "restore.before_replay",  # the copy in the database's place, the photos and corrections not yet again
)

_fired: dict[str, int] = {}


def point(name: str) -> None:
    """A place where a crash or an I/O error can be injected (see the module docstring)."""
    if os.environ.get(CRASH_ENV) == name:
        os._exit(CRASH_EXIT)
    spec = os.environ.get(FAULT_ENV, "")
    if not spec.startswith(name + ":"):
        return
    parts = spec.split(":")
    code = getattr(errno, parts[1], errno.EIO)
    times = int(parts[2]) if len(parts) > 2 else -1
    fired = _fired.get(spec, 0)
    if times < 0 or fired < times:
        _fired[spec] = fired + 1
        raise OSError(code, f"{os.strerror(code)} (injected at {name})")
