"""The command line: parse, call one operation, print (a table, or --json).

``core`` holds the group and how a command runs, ``render`` how results are printed; the
commands live by family in ``library``, ``people``, ``processes`` and ``xmp``.
"""

from __future__ import annotations

from . import backups, library, people, processes, xmp  # noqa: F401 - each registers its commands
from .core import cli


def main() -> None:
    cli(obj={})


__all__ = ["cli", "main"]
