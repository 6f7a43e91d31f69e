"""The indexer as explicit stages over a per-photo task.

scan (stat only, scan.py) -> plan (against the database) -> read (one read: bytes and hash)
-> decode -> detect and embed (embed.py) -> store (writer.py). Reading and decoding run in a
thread pool ahead of the models; the models and the store run on the calling thread, the
library's one writer.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserError
from ..media.imaging import BadImage, Decoded, content_hash, decode, read_capped
from ..store import queue, reads
from ..store.library import Library
from .embed import detect_and_embed
from .scan import Found, Problem, scan
from .writer import Gone, Writer

Progress = Callable[[int, int], None]  # (photos done, faces found so far)


@dataclass
class Report:
    photos_new: int = 0
    photos_changed: int = 0
    photos_unchanged: int = 0
    photos_reused: int = 0
    photos_removed: int = 0
    photos_failed: int = 0
    photos_queued: int = 0  # left to 'clusterids worker' processes (index --enqueue)
    faces_added: int = 0
    seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)
    new_face_ids: list[int] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)  # written too recently: maybe still being written

    @property
    def changed_anything(self) -> bool:
        return any(v for k, v in self.counts().items() if k != "photos_unchanged")

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if k.startswith(("photos_", "faces_"))}


@dataclass
class Job:
    found: Found
    known: bool  # the path is in the library already (a changed file)


@dataclass
class Loaded:
    job: Job
    sha256: str | None = None
    decoded: Decoded | None = None
    reuse: bool = False  # the content is known: no decode, no models
    error: str | None = None


# -- stage: plan ------------------------------------------------------------------------------

def plan(lib: Library, roots: list[str], report: Report,
         settle: float = 0.0) -> tuple[list[Job], Gone, list[Problem]]:
    """Split what is on disk into jobs; return the jobs, the library's photos no longer there
    and the problems met while scanning."""
    with lib.session() as s:
        rows = {p: (i, size, mtime, status, sha) for i, p, size, mtime, status, sha in reads.photos_under(s, roots)}
    jobs: list[Job] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    young = time.time_ns() - int(settle * 1e9)
    for hit in scan([Path(r) for r in roots], skip=lib.private_dirs()):
        if hit.path in seen:  # a file given both as itself and inside a folder given
            continue
        if isinstance(hit, Problem):
            problems.append(hit)
            seen.add(hit.path)
            continue
        seen.add(hit.path)
        row = rows.get(hit.path)
        if row and row[3] == "ok" and row[1] == hit.size and row[2] == hit.mtime_ns:
            report.photos_unchanged += 1
        elif settle and hit.mtime_ns > young:
            report.deferred.append(hit.path)
        else:
            jobs.append(Job(hit, known=row is not None))
    gone = Gone()
    for p, row in rows.items():
        if p not in seen:
            gone.add(p, row[0], row[4] if row[3] == "ok" else None)
    return jobs, gone, problems


# -- stages: read and decode (worker threads) ------------------------------------------------

def load(lib: Library, job: Job, check_known: bool = True, decode_it: bool = True) -> Loaded:
    """Read the file once; hash it; decode it unless its content is already in the library
    (or the models are left to workers)."""
    path = job.found.path
    try:
        data = read_capped(path, lib.settings.max_file_bytes)
    except BadImage as exc:
        return Loaded(job, error=str(exc))
    except FileNotFoundError:
        return Loaded(job, error="vanished before it could be read")
    except IsADirectoryError:
        return Loaded(job, error="is a folder")
    except OSError as exc:
        return Loaded(job, error=f"cannot read: {exc.strerror or exc}")
    sha = content_hash(data)
    with lib.session() as s:
        if check_known and reads.content_known(s, sha):
            return Loaded(job, sha256=sha, reuse=True)
    if not decode_it:
        return Loaded(job, sha256=sha)
    try:
        decoded = decode(data, lib.settings.decode_max_side, lib.settings.max_pixels)
    except BadImage as exc:
        return Loaded(job, sha256=sha, error=str(exc))
    return Loaded(job, sha256=sha, decoded=decoded)


def ahead(items: Iterable[Job], fn: Callable[[Job], Loaded], workers: int) -> Iterator[Loaded]:
    """Map ``fn`` over ``items`` in a thread pool, in order, with a bounded number in flight."""
    limit = workers * 2 + 1
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decode") as pool:
        pending: deque[Future[Loaded]] = deque()
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= limit:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


# -- the whole run ----------------------------------------------------------------------------

def index_paths(lib: Library, paths: Iterable[Path], progress: Progress | None = None,
                on_plan: Callable[[int], None] | None = None, missing_ok: bool = False,
                should_stop: Callable[[], bool] | None = None,
                after_commit: Callable[[], None] | None = None, enqueue: bool = False,
                settle: float = 0.0) -> Report:
    """Bring the library in step with ``paths``: new, changed, copied, moved and gone photos.
    With ``enqueue`` the photos that need the models go to the work queue instead.
    ``settle``: files modified less than this many seconds ago are left out (``deferred``)."""
    started = time.monotonic()
    roots = []
    for p in paths:
        if not os.path.lexists(p) and not missing_ok:
            raise UserError(f"no such file or folder ({p})", "check the path")
        roots.append(os.path.abspath(p))
    report = Report()
    jobs, gone, problems = plan(lib, roots, report, settle)
    if enqueue:  # queued already as they are: not read again
        with lib.session() as s:
            waiting = queue.queued(s, [j.found.path for j in jobs])
        jobs = [j for j in jobs if waiting.get(j.found.path) != (j.found.size, j.found.mtime_ns)]
    if on_plan:
        on_plan(len(jobs))
    with lib.vector_write(), Writer(lib, after_commit) as writer:
        for problem in problems:
            writer.fail(problem.path, None, problem.reason)
            report.photos_failed += 1
            report.failures.append((problem.path, problem.reason))
        for done, loaded in enumerate(ahead(jobs, lambda j: load(lib, j, decode_it=not enqueue),
                                            lib.settings.workers), start=1):
            found = loaded.job.found
            if loaded.error is not None:
                writer.fail(found.path, found, loaded.error, loaded.sha256)
                report.photos_failed += 1
                report.failures.append((found.path, loaded.error))
            elif loaded.reuse and loaded.sha256 is not None:
                outcome = writer.reuse(found, loaded.sha256, gone)
                if outcome == "same":  # touched, not changed
                    report.photos_unchanged += 1
                elif isinstance(outcome, int):
                    report.photos_reused += 1
                    report.faces_added += outcome
                else:  # the source vanished meanwhile: do the work after all
                    loaded = load(lib, loaded.job, check_known=False, decode_it=not enqueue)
            if enqueue and loaded.error is None and not loaded.reuse and loaded.sha256 is not None:
                writer.enqueue(found, loaded.sha256)
                report.photos_queued += 1
            if loaded.decoded is not None and loaded.sha256 is not None:
                faces = detect_and_embed(lib.model(), lib.settings, loaded.decoded)
                writer.store(found, loaded.sha256, loaded.decoded, faces)
                report.faces_added += len(faces)
                if loaded.job.known:
                    report.photos_changed += 1
                else:
                    report.photos_new += 1
            if progress:
                progress(done, report.faces_added)
            if should_stop is not None and should_stop():
                gone.clear()  # the photos not reached stay as they were; the next run goes on
                break
        report.photos_removed = writer.remove_gone(gone)
    report.new_face_ids = writer.touched
    report.seconds = round(time.monotonic() - started, 3)
    return report
