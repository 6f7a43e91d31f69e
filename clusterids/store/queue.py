"""The work queue between the process that scans the folders and the workers that run the models.

A claim is one UPDATE that takes up to ``n`` unclaimed or expired rows: on PostgreSQL its
subquery locks them ``FOR UPDATE SKIP LOCKED``, so that concurrent workers take different
rows without waiting on each other; on SQLite the UPDATE itself takes the one write lock.
Each claim carries a fresh token and a lease: a worker that dies stops renewing the lease and
its rows go back to the queue when it runs out. A worker writes a photo's faces and deletes its
queue row in one transaction, only while its token is still on the row, so that a photo whose
claim was taken over is stored once, by whoever finishes first with the claim in hand.

Leases are wall-clock epoch seconds of the workers' machines: keep their clocks in step
(NTP), well within the lease.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, func, or_, select, update
from sqlalchemy.orm import Session

from .db import QueueItem, WorkerRow
from .rows import worker_alive

# A photo whose claim ran out this often (its worker died each time) is failed, not retried.
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Claim:
    id: int
    path: str
    size: int
    mtime_ns: int
    attempts: int


def _free(now: float) -> Any:
    return or_(QueueItem.lease_until.is_(None), QueueItem.lease_until < now)


def enqueue(session: Session, path: str, size: int, mtime_ns: int, sha256: str | None) -> bool:
    """Queue a photo for the models; False when it is queued already with this size and mtime."""
    row = session.scalar(select(QueueItem).where(QueueItem.path == path))
    if row is None:
        session.add(QueueItem(path=path, size=size, mtime_ns=mtime_ns, sha256=sha256, attempts=0))
        return True
    if (row.size, row.mtime_ns) == (size, mtime_ns):
        return False
    row.size, row.mtime_ns, row.sha256 = size, mtime_ns, sha256  # changed again: a worker restats it
    return True


def queued(session: Session, paths: list[str]) -> dict[str, tuple[int, int]]:
    """Size and mtime of those of ``paths`` that wait in the queue."""
    out: dict[str, tuple[int, int]] = {}
    for start in range(0, len(paths), 500):
        rows = session.execute(select(QueueItem.path, QueueItem.size, QueueItem.mtime_ns)
                               .where(QueueItem.path.in_(paths[start : start + 500])))
        out.update({p: (size, mtime) for p, size, mtime in rows})
    return out


def claim(engine: Engine, worker: str, n: int, lease_seconds: float) -> tuple[str, list[Claim]]:
    """Take up to ``n`` photos; return the claim's token and its photos (oldest first)."""
    now = time.time()
    token = uuid.uuid4().hex
    free = (select(QueueItem.id).where(_free(now)).order_by(QueueItem.id).limit(n)
            .with_for_update(skip_locked=True).scalar_subquery())
    with Session(engine) as s, s.begin():
        s.execute(update(QueueItem).where(QueueItem.id.in_(free), _free(now))
                  .values(token=token, worker=worker, lease_until=now + lease_seconds,
                          attempts=QueueItem.attempts + 1)
                  .execution_options(synchronize_session=False))
        rows = s.execute(select(QueueItem.id, QueueItem.path, QueueItem.size, QueueItem.mtime_ns,
                                QueueItem.attempts).where(QueueItem.token == token).order_by(QueueItem.id))
        return token, [Claim(*row) for row in rows]


def complete(session: Session, ids: list[int], token: str) -> bool:
    """Delete the claimed rows in the caller's transaction; False when the claim was lost (its
    lease ran out and another worker took it): the caller must then roll back."""
    if not ids:
        return True
    result = session.execute(delete(QueueItem).where(QueueItem.id.in_(ids), QueueItem.token == token)
                             .execution_options(synchronize_session=False))
    return int(result.rowcount) == len(ids)  # type: ignore[attr-defined]


def register(engine: Engine, worker: str, host: str, pid: int, providers: str) -> None:
    now = time.time()
    with Session(engine) as s, s.begin():
        s.merge(WorkerRow(id=worker, host=host, pid=pid, providers=providers, started_at=now, seen_at=now,
                          photos_done=0))


def heartbeat(engine: Engine, worker: str, lease_seconds: float, done: int = 0) -> None:
    """Tell that this worker lives: renew its leases and count the photos it finished."""
    now = time.time()
    with Session(engine) as s, s.begin():
        s.execute(update(WorkerRow).where(WorkerRow.id == worker)
                  .values(seen_at=now, photos_done=WorkerRow.photos_done + done))
        s.execute(update(QueueItem).where(QueueItem.worker == worker, QueueItem.lease_until >= now)
                  .values(lease_until=now + lease_seconds).execution_options(synchronize_session=False))


def unregister(engine: Engine, worker: str) -> None:
    """A worker that stops: its claims go back at once, its row goes."""
    with Session(engine) as s, s.begin():
        s.execute(update(QueueItem).where(QueueItem.worker == worker)
                  .values(lease_until=None, token=None, worker=None).execution_options(synchronize_session=False))
        s.execute(delete(WorkerRow).where(WorkerRow.id == worker))


def state(session: Session, lease_seconds: float) -> dict[str, Any]:
    """The queue (waiting, claimed) and the live workers: seen within one lease, and running
    where this machine can tell."""
    now = time.time()
    claimed = session.scalar(select(func.count(QueueItem.id)).where(QueueItem.lease_until >= now)) or 0
    total = session.scalar(select(func.count(QueueItem.id))) or 0
    workers = [
        {"id": w.id, "host": w.host, "pid": w.pid, "providers": w.providers.split(","),
         "photos_done": w.photos_done, "seen_seconds_ago": round(now - w.seen_at, 1)}
        for w in session.scalars(select(WorkerRow).where(WorkerRow.seen_at >= now - lease_seconds)
                                 .order_by(WorkerRow.id))
        if worker_alive(w.host, w.pid)
    ]
    return {"queue": {"waiting": total - claimed, "claimed": claimed}, "workers": workers}


__all__ = ["Claim", "MAX_ATTEMPTS", "claim", "complete", "enqueue", "heartbeat", "queued", "register",
           "state", "unregister"]
