"""The marks that derived state follows: what a write changed, recorded in its own transaction.

The database is the source of truth; the vector index, the album folders and the sidecars are
derived from it. A write that changes what they show adds outbox rows inside its transaction
(they commit, or not, with the change itself). The one catch-up (upkeep/catchup.py) reads the
rows, brings the derived state in step, then deletes the rows it carried out, so that a crash
anywhere in between leaves exactly the work still to do, and nothing else is ever redone.

Rows are appended, never updated: a face changed twice has two rows until the catch-up takes
both; the catch-up deletes only rows up to the last id it read, so a change made meanwhile
keeps its row. Names read from a photo's XMP are applied the same way (kind NAMES): the
indexer marks the photo, the catch-up makes the names corrections.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from .db import Outbox, get_meta, set_meta

VECTOR = "vector"  # face id: write its point (vector and payload), or remove it when the face is gone
PAYLOAD = "payload"  # face id: its person changed; the vector did not
ASSIGN = "assign"  # face id: a new face, to offer to the known persons (the instant assignment)
ALBUMS = "albums"  # 0: the album folders must follow the persons
SIDECAR = "sidecar"  # photo id: its XMP sidecar must follow its faces' names
NAMES = "names"  # photo id: names its XMP gives are to be made corrections (i20, xmp/names.py)
KINDS = (VECTOR, PAYLOAD, ASSIGN, ALBUMS, SIDECAR, NAMES)
WAITING = {VECTOR: "faces whose vector is not yet written or removed",
           PAYLOAD: "faces whose person is not yet in the vector index",
           ASSIGN: "new faces not yet offered to known persons",
           ALBUMS: "changes not yet in the album folders",
           SIDECAR: "photos whose sidecar is not yet written",
           NAMES: "photos whose XMP names are not yet applied"}  # what each kind's rows mean, in words

# 0.3 kept generation counters instead: a library whose counters say it was behind is
# reconciled in full once (see legacy_behind).
_LEGACY = ("vectors_wanted", "vectors_done", "albums_wanted", "albums_done", "assign_from", "vectors_dirty")
CHUNK = 2000


def mark(session: Session, kind: str, refs: Iterable[int] = (0,)) -> None:
    """Inside the transaction of a change: derived state of ``kind`` must follow ``refs``."""
    rows = [{"kind": kind, "ref": int(r)} for r in refs]
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(Outbox), rows[start : start + CHUNK])


def take(session: Session, kind: str, limit: int = CHUNK) -> tuple[int, list[int]]:
    """Up to ``limit`` outbox rows of ``kind``, oldest first: (the last row id read, the refs)."""
    rows = session.execute(select(Outbox.id, Outbox.ref).where(Outbox.kind == kind)
                           .order_by(Outbox.id).limit(limit)).all()
    if not rows:
        return 0, []
    return int(rows[-1][0]), list(dict.fromkeys(int(r) for _, r in rows))


def done(session: Session, kind: str, upto: int) -> None:
    """The rows of ``kind`` up to id ``upto`` are carried out."""
    session.execute(delete(Outbox).where(Outbox.kind == kind, Outbox.id <= upto))


def waiting(session: Session) -> dict[str, int]:
    """How many rows of each kind wait (for status and doctor)."""
    return {k: int(n) for k, n in session.execute(select(Outbox.kind, func.count(Outbox.id)).group_by(Outbox.kind))}


def legacy_behind(session: Session) -> dict[str, Any]:
    """What 0.3's counters (or a 0.3 worker's flag) say was not yet done; {} when nothing."""
    meta = {k: get_meta(session, k) for k in _LEGACY}
    out: dict[str, Any] = {}
    if (meta["vectors_wanted"] or "0") != (meta["vectors_done"] or "0") or meta["vectors_dirty"] == "1":
        out["vectors"] = True
    if (meta["albums_wanted"] or "0") != (meta["albums_done"] or "0"):
        out["albums"] = True
    if meta["assign_from"]:
        out["assign_from"] = int(meta["assign_from"])
    return out


def forget_legacy(session: Session) -> None:
    for key in _LEGACY:
        if get_meta(session, key) is not None:
            set_meta(session, key, "")
