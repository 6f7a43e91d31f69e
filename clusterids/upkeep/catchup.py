"""The one catch-up: bring everything derived from the database in step with it, driven by the
outbox rows that each write left (store/outbox.py).

Run by whoever owns the library after each write (the daemon's writer after each job, a command
after its operation) and once at open, where it also finds what a crash or a damaged file left
out of step that no row names (a vector index that lost points or holds strays). In order:
the vectors (written or removed), the names read from photos' XMP made corrections (i20: before
the instant assignment, so a named face is not offered to someone else; the faces made from
named regions get their vectors), the instant assignment of new faces (which needs their
vectors and moves payloads) and the incremental step that makes new persons of the rest
(upkeep/arrivals.py), the payloads, the XMP sidecars (``xmp_write``), then the album folders.
Each kind's rows are deleted only once carried out, so a crash at any point leaves exactly the
rest to do.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from .. import faults
from ..store import outbox, reads
from ..store.db import get_meta, set_meta
from ..store.library import WAL_LOST, Library

LAST_REPAIR = "last_repair"
log = logging.getLogger("clusterids")


@dataclass
class CaughtUp:
    vectors_written: int = 0
    vectors_removed: int = 0
    payloads: int = 0
    faces_assigned: int = 0
    persons_found: int = 0  # new persons the incremental step made (upkeep/arrivals.py)
    albums_written: int = 0
    albums_removed: int = 0
    reconciled: int = 0  # points rewritten or removed by a full comparison (after damage or a crash of 0.3)
    faces_named: int = 0  # i20: faces named from their photos' XMP, as corrections
    faces_from_metadata: int = 0  # i20: faces made from named XMP regions the detector missed
    persons_created: list[str] = field(default_factory=list)  # i20: by names read from XMP
    names_skipped: list[tuple[str, str, str]] = field(default_factory=list)  # i20: (photo, name, why)
    sidecars_written: int = 0  # i20: XMP sidecars brought in step (xmp_write = "sidecar")

    def done(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if v and isinstance(v, int)}

    def add(self, other: CaughtUp) -> None:
        """Count ``other`` in too (the catch-ups of one index run)."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


def catch_up(lib: Library, at_open: bool = False, full: bool = False, albums: bool = True) -> CaughtUp:
    """Carry out what the outbox holds. ``at_open`` also compares the vector index with the
    database when they do not hold the same number of faces, and takes over the marks of a 0.3
    library; ``full`` compares every payload whatever the marks say (``doctor --repair``);
    ``albums=False`` leaves the album folders for later (between two commits of an index run)."""
    out = CaughtUp()
    if at_open or full:
        _take_over_legacy(lib, out, full)
    _vectors(lib, out)
    if _names(lib, out):
        _vectors(lib, out)  # the faces made from named regions
    for ids in _batches(lib, outbox.ASSIGN):
        from .arrivals import place_new_faces  # numpy and the clustering rule: only with new faces
        from .assign import assign_new_faces

        faults.point("index.before_assign")
        out.faces_assigned += assign_new_faces(lib, ids)
        arrived = place_new_faces(lib, ids)  # new people: their faces form a core (upkeep/arrivals.py)
        out.faces_assigned += arrived.faces_moved
        out.persons_found += len(arrived.persons_created)
    _payloads(lib, out)
    _sidecars(lib, out)
    if albums:
        _albums(lib, out, "open.before_albums" if at_open else "catchup.before_albums")
    if out.vectors_written or out.vectors_removed or out.payloads:
        lib.index.flush()
    if out.reconciled:
        record_repair(lib, out.done())
    return out


def _take_over_legacy(lib: Library, out: CaughtUp, full: bool) -> None:
    with lib.db.read() as s:
        legacy = outbox.legacy_behind(s)
        n_faces = reads.face_count(s)
        wal_lost = bool(get_meta(s, WAL_LOST))
    # a lost WAL (store/wal.py) took faces and corrections whose vectors stayed: the counts may agree
    if full or wal_lost or legacy.get("vectors") or n_faces != lib.index.count():
        out.reconciled += reconcile(lib)
    with lib.db.transaction() as s:
        if wal_lost:
            set_meta(s, WAL_LOST, "")
            outbox.mark(s, outbox.ALBUMS)
        if legacy.get("assign_from"):
            ids = [f.id for f in reads.faces(s, unknown=True) if f.id >= legacy["assign_from"]]
            outbox.mark(s, outbox.ASSIGN, ids)
        if legacy.get("albums") or full:
            outbox.mark(s, outbox.ALBUMS)
        if legacy:
            outbox.forget_legacy(s)


def _batches(lib: Library, kind: str, limit: int = outbox.CHUNK) -> Iterator[list[int]]:
    """The refs of the outbox rows of ``kind``, a batch at a time; a batch's rows are done once
    the caller has carried it out and asks for the next (a fault in between leaves them)."""
    while True:
        with lib.db.read() as s:
            upto, ids = outbox.take(s, kind, limit)
        if not ids:
            return
        yield ids
        with lib.db.transaction() as s:
            outbox.done(s, kind, upto)


def _vectors(lib: Library, out: CaughtUp) -> None:
    for ids in _batches(lib, outbox.VECTOR):
        with lib.db.read() as s:
            rows = reads.points(s, ids)
        present = {r[0] for r in rows}
        gone = [i for i in ids if i not in present]
        if gone:
            from ..outputs.thumbs import forget_faces  # imaging (numpy, PIL): only with faces gone

            lib.index.delete(gone)
            forget_faces(lib, gone)
        if rows:
            import numpy as np  # only when there are vectors to write: a catch-up with none stays light

            lib.index.upsert([r[0] for r in rows], np.stack([np.frombuffer(r[3], np.float32) for r in rows]),
                             [r[2] for r in rows], [r[1] for r in rows])
        out.vectors_written += len(rows)
        out.vectors_removed += len(gone)


def _payloads(lib: Library, out: CaughtUp) -> None:
    for ids in _batches(lib, outbox.PAYLOAD):
        with lib.db.read() as s:
            now = reads.payloads(s, ids)
        by_person: dict[int | None, list[int]] = defaultdict(list)
        for fid, (_photo, person) in now.items():
            by_person[person].append(fid)
        for person, fids in by_person.items():
            lib.index.set_person(fids, person)
        out.payloads += len(now)


def _names(lib: Library, out: CaughtUp) -> bool:
    """i20: names read from photos' XMP made corrections (xmp/names.py); whether faces were made."""
    made, retry = out.faces_from_metadata, []
    for ids in _batches(lib, outbox.NAMES):
        from ..xmp import names  # imaging and numpy: only with photos to read names from

        done = names.apply(lib, ids)
        faults.point("names.after_apply")
        retry += done.retry
        out.faces_named += done.faces_named
        out.faces_from_metadata += done.faces_made
        out.persons_created += done.persons_created
        out.names_skipped += done.skipped
        for path, name, why in done.skipped:
            log.info("name not used: %s: %r: %s", path, name, why)
    if retry:  # photos that could not be read now: the next catch-up tries again
        with lib.db.transaction() as s:
            outbox.mark(s, outbox.NAMES, retry)
    return out.faces_from_metadata > made


def _sidecars(lib: Library, out: CaughtUp) -> None:
    """i20: the XMP sidecars of the photos whose names changed, when ``xmp_write`` is "sidecar"
    (xmp/export.py); otherwise the marks are dropped. A sidecar that cannot be written is one line
    in the log, and the change it follows stands."""
    from ..errors import UserError

    for ids in _batches(lib, outbox.SIDECAR, limit=1_000_000):
        if lib.settings.xmp_write != "sidecar":
            continue
        from ..xmp import export

        try:
            done = export.sync(lib, ids)
        except UserError as exc:  # Exempi is missing: one line, and the change stands
            log.warning("sidecars not written: %s", exc)
            continue
        out.sidecars_written += done.written
        for line in done.problems:
            log.warning("sidecar not written: %s", line)


def _albums(lib: Library, out: CaughtUp, point: str) -> None:
    from ..outputs import albums

    with lib.db.read() as s:
        upto, ids = outbox.take(s, outbox.ALBUMS, limit=1_000_000)
    if not ids:
        return
    faults.point(point)
    result = albums.sync(lib)
    with lib.db.transaction() as s:
        outbox.done(s, outbox.ALBUMS, upto)
    out.albums_written += result["written"]
    out.albums_removed += result["removed"]


def reconcile(lib: Library) -> int:
    """Make the vector index equal the database, id for id and payload for payload: drop stray
    points, restore missing ones, rewrite points whose photo or person differ. Returns how many
    points it touched."""
    with lib.db.read() as s:
        db = reads.payloads(s)
    held = {pid: (photo, person) for pid, photo, person in lib.index.points()}
    stray = sorted(held.keys() - db.keys())
    todo = sorted(db.keys() - held.keys()) + sorted(i for i in db.keys() & held.keys() if db[i] != held[i])
    lib.index.delete(stray)
    with lib.db.transaction() as s:  # the vector stage writes them, now or after a crash
        outbox.mark(s, outbox.VECTOR, todo)
    return len(stray) + len(todo)


def record_repair(lib: Library, what: dict[str, Any]) -> None:
    """Remember the last repair, for ``status``."""
    import json

    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    lib.db.set_meta(**{LAST_REPAIR: json.dumps({"at": stamp, **what}, sort_keys=True)})


def last_repair(lib: Library) -> dict[str, Any] | None:
    import json

    text = lib.db.meta(LAST_REPAIR)
    return json.loads(text) if text else None
