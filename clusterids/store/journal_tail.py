"""The journal of corrections' last number, read from the file's tail alone: the standard
library only, so that the quick reads (store/quick.py) can compare it with the database's."""

from __future__ import annotations

import json
import os
from pathlib import Path

LOG_FILE = "corrections.jsonl"


def last_seq(path: Path) -> int:
    """The number of the file's last whole line (0: none); reads only its tail."""
    try:
        with path.open("rb") as fh:
            fh.seek(max(0, fh.seek(0, os.SEEK_END) - 8192))
            tail = fh.read()
    except OSError:
        return 0
    for raw in reversed(tail.splitlines()):
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if isinstance(line, dict) and isinstance(line.get("seq"), int):
            return int(line["seq"])
    return 0
