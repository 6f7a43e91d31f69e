"""The command line: parse, call one operation, print (a table, or --json).

``core`` holds the group and how a command runs, ``render`` how results are printed; the
commands live by family in ``library``, ``people``, ``processes`` and ``xmp``.
"""

from __future__ import annotations

import contextlib

from . import backups, library, people, processes, xmp  # noqa: F401 - each registers its commands
from .core import cli


def main() -> None:
    import faulthandler

    # a crash in native code (a decoder, the models, the vector engine) prints where each thread
    # was instead of dying silently: the daemon's log then says what to report
    with contextlib.suppress(RuntimeError, ValueError, OSError):  # no stderr to write to
        faulthandler.enable()
    cli(obj={})


__all__ = ["cli", "main"]
