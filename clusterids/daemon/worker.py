"""``clusterids worker``: a stateless process that runs the models for a library on a database
server. Any number of them, on any machines, claim photos from the queue (see
``store/queue.py``), read them by path (``path_map`` says where this machine sees the
library's folders), and run the indexer's stages over them (indexer/stages.py, the same as an
index run): read, metadata, decode, detect and embed, store. A claim is stored in one
transaction, which also closes it; its faces' vectors (and the names its XMP gives) are left in
the outbox, and the library's owner (the daemon, or the next command) carries them out.

Moves, copies, removals, persons, corrections and albums stay with the process that scans
the folders (``index --enqueue`` or the daemon): a worker only turns photos into faces.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..app import open_for_worker
from ..config import Settings, map_path, path_map_pairs
from ..indexer import stages
from ..indexer.scan import sidecar_of
from ..indexer.task import Report, Task
from ..store import queue
from ..store.photos import Gone, PhotoWriter, Seen

if TYPE_CHECKING:
    from ..models.base import FaceModel
    from ..store.library import Library


@dataclass
class WorkerReport:
    worker: str = ""
    providers: list[str] = field(default_factory=list)
    photos: int = 0
    faces: int = 0
    failed: int = 0
    lost: int = 0  # photos of claims taken over after the lease ran out (stored by the other worker)
    seconds: float = 0.0


def _task(claim: queue.Claim, pairs: list[tuple[str, str]], settings: Settings) -> Task | None:
    """A claim as a task: stat where this machine sees it, read and decode. None: the file is
    gone (the next scan forgets it)."""
    local = map_path(claim.path, pairs)
    task = Task(Seen(claim.path, claim.size, claim.mtime_ns), known=True, claim=claim.id, local_path=local)
    if claim.attempts > queue.MAX_ATTEMPTS:
        task.error = f"a worker died {claim.attempts - 1} times while processing it"
        return task
    try:
        st = os.stat(local)
    except FileNotFoundError:
        return None
    except OSError as exc:
        task.error = f"cannot read {local}: {exc.strerror or exc}"
        return task
    sidecar = sidecar_of(local) if settings.xmp_read else (None, None)  # i20: read where this machine sees it
    task.seen = Seen(claim.path, st.st_size, st.st_mtime_ns, *sidecar)
    return stages.decode_stage(stages.metadata(stages.read(task, settings), settings), settings)


def _models(task: Task | None, model: FaceModel, settings: Settings) -> Task | None:
    return None if task is None else stages.detect_embed(task, model, settings)


def _beat(engine: Any, worker: str, lease: float, stop: threading.Event) -> None:
    """Renew this worker's claims every quarter lease, whatever the models are doing: only a
    worker that died loses them."""
    while not stop.wait(lease / 4):
        try:
            queue.heartbeat(engine, worker, lease)
        except Exception:  # noqa: BLE001 - a missed beat is renewed by the next one
            continue


def run(settings: Settings, should_stop: Callable[[], bool] | None = None, once: bool = False,
        poll_seconds: float = 2.0, on_notice: Callable[[str], None] | None = None) -> WorkerReport:
    """Claim and process photos until ``should_stop`` (or, with ``once``, until none is left to claim)."""
    started = time.monotonic()
    pairs = path_map_pairs(settings.path_map)
    lib = open_for_worker(settings)
    report = WorkerReport(worker=f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}")
    engine = lib.db.engine
    try:
        model = lib.model()
        report.providers = model.providers_in_use()
        for notice in model.notices:
            if on_notice:
                on_notice(notice)
        queue.register(engine, report.worker, socket.gethostname(), os.getpid(), ",".join(report.providers))
        stop_beating = threading.Event()
        beats = threading.Thread(target=_beat, args=(engine, report.worker, settings.lease_seconds, stop_beating),
                                 daemon=True, name="heartbeat")
        beats.start()
        try:
            _work(lib, settings, report, model, pairs, should_stop, once, poll_seconds)
        finally:  # stopped however it stops (Ctrl-C, SIGTERM, an error): no longer a live worker
            stop_beating.set()
            beats.join()
            queue.unregister(engine, report.worker)
    finally:
        lib.close()
    report.seconds = round(time.monotonic() - started, 3)
    return report


def _work(lib: Library, settings: Settings, report: WorkerReport, model: FaceModel, pairs: list[tuple[str, str]],
          should_stop: Callable[[], bool] | None, once: bool, poll_seconds: float) -> None:
    """Claim, run the models, store: until told to stop (or, with ``once``, nothing is left)."""
    engine = lib.db.engine
    pool: ThreadPoolExecutor | None = None
    try:
        while not (should_stop and should_stop()):
            token, claims = queue.claim(engine, report.worker, settings.claim_batch, settings.lease_seconds)
            if not claims:
                if once:
                    break
                if pool is not None:  # idle: its threads end, and with them the memory each decodes into
                    pool.shutdown()
                    pool = None
                time.sleep(poll_seconds)
                continue
            if pool is None:
                pool = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="photo")
            # the models first, a photo a thread: no write lock is held while they run
            done = [t for t in pool.map(lambda c: _models(_task(c, pairs, settings), model, settings), claims)
                    if t is not None]
            counts = Report()
            with PhotoWriter(lib.db, commit_every=0) as writer:  # one transaction stores the claim
                for task in done:
                    stages.store(task, writer, Gone(), counts)
                kept = writer.close_claim([c.id for c in claims], token)
            if kept:
                report.photos += len(claims)
                report.faces += counts.faces_added
                report.failed += counts.photos_failed
                queue.heartbeat(engine, report.worker, settings.lease_seconds, len(claims))
            else:
                report.lost += len(claims)
    finally:
        if pool is not None:
            pool.shutdown()
