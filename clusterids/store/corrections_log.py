"""The plain journal of corrections beside the database (``corrections.jsonl``): one JSON line
per correction, appended and fsync'd once its transaction committed, so that a database put back
from an older copy (store/backup.py) gets every correction made since.

Each line carries a sequence number; the database remembers the last one it holds (meta
``journal_seq``, written in the correction's own transaction), so a restored copy replays
exactly the lines after its own. A crash between the commit and the append loses that one
line from the file, never from the database. On PostgreSQL there is no file: the server's
backups hold the corrections.
"""

from __future__ import annotations

import contextvars
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from ..errors import UserError
from .db import get_meta, set_meta
from .journal_tail import LOG_FILE, last_seq

__all__ = ["LOG_FILE", "last_seq", "lines_after", "log_path", "record", "replaying"]
_replaying: contextvars.ContextVar[int | None] = contextvars.ContextVar("replaying", default=None)


def log_path(session: Session) -> Path | None:
    bind = session.get_bind()
    url = bind.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).with_name(LOG_FILE)


def record(session: Session, op: str, args: dict[str, Any], **extra: Any) -> None:
    """Journal the correction ``op`` of this transaction (``extra``: what a replay needs beyond
    its arguments, e.g. the name of a person it created)."""
    path = log_path(session)
    if path is None:
        return
    replayed = _replaying.get()
    # after the file's last too: a database that lost its WAL (store/wal.py) and went on holds an
    # older number, and a line reusing one would hide the new correction from a later replay
    seq = replayed if replayed is not None else max(int(get_meta(session, "journal_seq") or 0), last_seq(path)) + 1
    set_meta(session, "journal_seq", str(seq))
    if replayed is not None:
        return  # the line is in the file already
    line = json.dumps({"seq": seq, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "op": op,
                       "args": args, **extra}, ensure_ascii=False) + "\n"
    event.listen(session, "after_commit", lambda _s: _append(path, line), once=True)


def _append(path: Path, line: str) -> None:
    try:
        _write_line(path, line)
    except OSError as exc:  # committed already: say so, and what it costs
        raise UserError(f"the correction is made, but the journal of corrections could not take its line ({path}: "
                        f"{exc.strerror or exc})", "a restore from an older copy cannot replay it: move the file "
                        "aside or free some space, then make a copy now ('clusterids backup')") from exc


def _write_line(path: Path, line: str) -> None:
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        size = os.fstat(fd).st_size
        # a line cut short (a crash during its append) must not swallow this one: start anew
        torn = size > 0 and os.pread(fd, 1, size - 1) != b"\n"
        os.write(fd, (b"\n" if torn else b"") + line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def lines_after(root: Path, seq: int) -> list[dict[str, Any]]:
    """The journal's lines after ``seq``, in order (a torn last line is left out)."""
    path = root / LOG_FILE
    if not path.is_file():
        return []
    out: dict[int, dict[str, Any]] = {}
    for raw in path.read_bytes().splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if isinstance(line, dict) and isinstance(line.get("seq"), int) and line["seq"] > seq:
            out.setdefault(line["seq"], line)
    return [out[k] for k in sorted(out)]


@contextmanager
def replaying(seq: int) -> Iterator[None]:
    """Corrections made inside are the replay of line ``seq``: the database takes its number,
    and no new line is written."""
    token = _replaying.set(seq)
    try:
        yield
    finally:
        _replaying.reset(token)
