"""``clusterids worker``: a stateless process that runs the models for a library on a database
server. Any number of them, on any machines, claim photos from the queue (see
``store/queue.py``), read them by path (``path_map`` says where this machine sees the
library's folders), run the models and store faces: the database first, in the transaction
that closes the claim; then the vectors, straight into a Qdrant server when the library has
one. With the embedded Qdrant Edge, which only the library's owner may open, a worker writes
the database only and leaves the ``vectors_dirty`` mark, so that the owner's next open (or
``rebuild-index``) restores the vectors from the database.

Moves, copies, removals, persons, corrections and albums stay with the process that scans
the folders (``index --enqueue`` or the daemon): a worker only turns photos into faces.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .app import open_for_worker
from .config import Settings, map_path, path_map_pairs
from .indexer.embed import detect_and_embed
from .indexer.scan import Found
from .indexer.writer import Writer
from .media.imaging import BadImage, Decoded, content_hash, decode, read_capped
from .store import mirror, queue
from .store.db import get_meta, set_meta
from .store.vectors import DeferredIndex


class ClaimWriter(Writer):
    """The writer of one claim: everything in one transaction, which also closes the claim."""

    def _tick(self) -> None:
        self.pending += 1

    def finish(self, ids: list[int], token: str) -> bool:
        if not queue.complete(self.session, ids, token):
            self.session.rollback()
            self.new_faces, self.dropped, self.pending = [], [], 0
            return False
        if isinstance(self.lib.index, DeferredIndex):
            if self.pending and get_meta(self.session, mirror.LEGACY_DIRTY) != "1":
                set_meta(self.session, mirror.LEGACY_DIRTY, "1")
            self.commit()
            return True
        # A server index: the new points go in before the commit (ids are known once flushed),
        # so that a worker killed in between leaves at worst points the owner's repair removes,
        # never faces without their vectors; the owner's reconcile is not asked for every claim.
        self.session.flush()
        self.lib.push_vectors(self.new_faces)
        if self.new_faces or self.dropped or self.pending:
            mirror.mark(self.session, vectors=False,
                        first_new_face=min((f.id for f in self.new_faces), default=None))
        self.session.commit()
        if self.dropped:
            self.lib.index.delete(self.dropped)
        self.new_faces, self.dropped, self.pending = [], [], 0
        return True


@dataclass
class Loaded:
    claim: queue.Claim
    found: Found | None = None
    sha256: str | None = None
    decoded: Decoded | None = None
    error: str | None = None


@dataclass
class WorkerReport:
    worker: str = ""
    providers: list[str] = field(default_factory=list)
    photos: int = 0
    faces: int = 0
    failed: int = 0
    lost: int = 0  # photos of claims taken over after the lease ran out (stored by the other worker)
    seconds: float = 0.0


def _load(claim: queue.Claim, pairs: list[tuple[str, str]], settings: Settings) -> Loaded:
    if claim.attempts > queue.MAX_ATTEMPTS:
        return Loaded(claim, error=f"a worker died {claim.attempts - 1} times while processing it")
    local = map_path(claim.path, pairs)
    try:
        st = os.stat(local)
        data = read_capped(local, settings.max_file_bytes)
    except BadImage as exc:
        return Loaded(claim, error=str(exc))
    except FileNotFoundError:
        return Loaded(claim)  # gone: the next scan forgets it
    except OSError as exc:
        return Loaded(claim, error=f"cannot read {local}: {exc.strerror or exc}")
    found = Found(claim.path, st.st_size, st.st_mtime_ns)
    sha = content_hash(data)
    try:
        decoded = decode(data, settings.decode_max_side, settings.max_pixels)
    except BadImage as exc:
        return Loaded(claim, found, sha, error=str(exc))
    return Loaded(claim, found, sha, decoded)


def run(settings: Settings, should_stop: Callable[[], bool] | None = None, once: bool = False,
        poll_seconds: float = 2.0, on_notice: Callable[[str], None] | None = None) -> WorkerReport:
    """Claim and process photos until ``should_stop`` (or, with ``once``, until none is left to claim)."""
    started = time.monotonic()
    pairs = path_map_pairs(settings.path_map)
    lib = open_for_worker(settings)
    report = WorkerReport(worker=f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}")
    try:
        model = lib.model()
        report.providers = model.providers_in_use()
        for notice in model.notices:
            if on_notice:
                on_notice(notice)
        queue.register(lib.engine, report.worker, socket.gethostname(), os.getpid(), ",".join(report.providers))
        beat = time.monotonic()
        with ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="decode") as pool:
            while not (should_stop and should_stop()):
                token, claims = queue.claim(lib.engine, report.worker, settings.claim_batch, settings.lease_seconds)
                if not claims:
                    if once:
                        break
                    queue.heartbeat(lib.engine, report.worker, settings.lease_seconds)
                    time.sleep(poll_seconds)
                    continue
                writer = ClaimWriter(lib)
                try:
                    done = faces = failed = 0
                    for loaded in pool.map(lambda c: _load(c, pairs, settings), claims):
                        path = loaded.claim.path
                        if loaded.error is not None:
                            writer.fail(path, loaded.found, loaded.error, loaded.sha256)
                            failed += 1
                        elif loaded.decoded is not None and loaded.found and loaded.sha256:
                            records = detect_and_embed(model, settings, loaded.decoded)
                            writer.store(loaded.found, loaded.sha256, loaded.decoded, records)
                            faces += len(records)
                        done += 1
                        if time.monotonic() - beat > settings.lease_seconds / 4:
                            queue.heartbeat(lib.engine, report.worker, settings.lease_seconds)
                            beat = time.monotonic()
                    if writer.finish([c.id for c in claims], token):
                        report.photos += done
                        report.faces += faces
                        report.failed += failed
                        queue.heartbeat(lib.engine, report.worker, settings.lease_seconds, done)
                        beat = time.monotonic()
                    else:
                        report.lost += len(claims)
                finally:
                    writer.session.close()
        queue.unregister(lib.engine, report.worker)
    finally:
        lib.close()
    report.seconds = round(time.monotonic() - started, 3)
    return report
