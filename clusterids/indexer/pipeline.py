"""An index run over folders: the stages composed over the tasks the scan plans.

plan (scan.py: stat only, then against the database) -> read -> metadata (i20: the names in
its XMP) -> dedupe -> decode -> detect and embed, ``workers`` photos at once in a thread pool
-> store, in order, on the calling thread (the library's one writer). Each photo's models run on
its own thread with a share of the cores (models/packs.py ``model_threads``): on two cores, two
photos of one thread each keep both busy, where one photo on both waits at every layer for the
core a decode holds. A photo whose XMP sidecar alone changed is
read for its names only: no hash, no decode, no models. ``clusterids worker`` composes the
same stages over its claims (daemon/worker.py).
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from ..errors import UserError
from ..store import queue, reads
from ..store.library import Library
from ..store.photos import Gone, PhotoWriter
from . import stages
from .scan import Problem, held_back, scan
from .task import Report, Task

Progress = Callable[[int, int], None]  # (photos done, faces found so far)
T = TypeVar("T")
R = TypeVar("R")


def plan(lib: Library, roots: list[str], report: Report, settle: float = 0.0,
         forget_missing: bool = False) -> tuple[list[Task], Gone, list[Problem]]:
    """Split what is on disk into tasks; return them, the library's photos no longer there and
    the problems met while scanning. ``settle``: files modified less than this many seconds ago
    are left out (``report.deferred``). Photos under a folder that could not be read, or in a
    folder that looks like a drive not mounted (scan.held_back: at any depth), are not gone:
    they stay as they are, and the run says so once a folder (``forget_missing``: gone all the
    same). A photo given by its own path and not there is gone."""
    with lib.db.read() as s:
        rows = {p: (i, size, mtime, status, sha, side) for i, p, size, mtime, status, sha, side
                in reads.photos_under(s, roots)}
    sidecars = lib.settings.xmp_read
    tasks: list[Task] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    young = time.time_ns() - int(settle * 1e9)
    for hit in scan([Path(r) for r in roots], skip=lib.private_dirs(), sidecars=sidecars):
        if hit.path in seen:  # a file given both as itself and inside a folder given
            continue
        seen.add(hit.path)
        if isinstance(hit, Problem):
            problems.append(hit)
            continue
        row = rows.get(hit.path)
        if row and row[3] == "ok" and row[1] == hit.size and row[2] == hit.mtime_ns:
            if sidecars and row[5] != hit.sidecar_sig:  # only its sidecar changed
                tasks.append(Task(hit, known=True, sidecar_only=True))
            else:
                report.photos_unchanged += 1
        elif settle and hit.mtime_ns > young:
            report.deferred.append(hit.path)
        else:
            tasks.append(Task(hit, known=row is not None))
    unreadable = [p.path for p in problems if p.folder]
    registered, given = lib.db.roots(), set(roots)
    where: dict[str, str | None] = {}  # a photo's folder -> the folder that holds it back, if one does
    held: dict[str, list[str]] = {}  # a folder held back -> the library's photos it keeps
    gone = Gone()
    for p, row in rows.items():
        if p in seen or any(_under(p, k) for k in unreadable):
            continue
        folder = os.path.dirname(p)
        if folder not in where:
            where[folder] = None if forget_missing else held_back(folder, registered)
        keeper = where[folder] if p not in given else None  # a photo named and not there (the watcher's) is gone
        if keeper is not None:
            held.setdefault(keeper, []).append(p)
            continue
        gone.add(p, row[0], row[4] if row[3] == "ok" else None)
    for keeper in [k for k, ps in held.items() if len(ps) == 1 and os.path.isdir(k)]:
        # one photo gone from a folder left empty: the user deleted it (a drive holds more)
        (p,) = held.pop(keeper)
        gone.add(p, rows[p][0], rows[p][4] if rows[p][3] == "ok" else None)
    for folder, kept in sorted(held.items()):
        n = len(kept)
        report.warn(folder, f"the folder {folder} is {'empty' if os.path.isdir(folder) else 'not there'}, but the "
                    f"library holds {n} photo{'s' if n != 1 else ''} from it: is its drive not mounted? They are kept "
                    "as they are; mount it and index again, or, if the photos are gone for good, run 'clusterids "
                    f"index --forget-missing {folder}'")
    return tasks, gone, problems


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def ahead(items: Iterable[T], fn: Callable[[T], R], workers: int) -> Iterator[R]:
    """Map ``fn`` over ``items`` in a thread pool, in order, with a bounded number in flight; what
    has not started when the caller stops reading is never run."""
    limit = workers * 2
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="photo")
    pending: deque[Future[R]] = deque()
    try:
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= limit:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def index_paths(lib: Library, paths: Iterable[Path], progress: Progress | None = None,
                on_plan: Callable[[int], None] | None = None, missing_ok: bool = False,
                should_stop: Callable[[], bool] | None = None,
                after_commit: Callable[[], None] | None = None, enqueue: bool = False,
                settle: float = 0.0, forget_missing: bool = False) -> Report:
    """Bring the library in step with ``paths``: new, changed, copied, moved and gone photos.
    With ``enqueue`` the photos that need the models go to the work queue instead."""
    started = time.monotonic()
    roots = []
    for p in paths:
        if not os.path.lexists(p) and not missing_ok and not forget_missing:
            with lib.db.read() as s:
                held = len(reads.photos_under(s, [os.path.abspath(p)]))
            if held:  # a drive not mounted, or photos gone for good: the user decides
                raise UserError(f"the folder {p} is not there, but the library holds {held} photo"
                                f"{'s' if held != 1 else ''} from it (kept as they are)",
                                f"is its drive not mounted? Mount it and index again; if the photos are gone for "
                                f"good, 'clusterids index --forget-missing {p}' removes them")
            raise UserError(f"no such file or folder ({p})", "check the path")
        roots.append(os.path.abspath(p))
    report = Report()
    tasks, gone, problems = plan(lib, roots, report, settle, forget_missing)
    if enqueue:  # queued already as they are: not read again
        with lib.db.read() as s:
            waiting = queue.queued(s, [t.path for t in tasks])
        tasks = [t for t in tasks if waiting.get(t.path) != (t.seen.size, t.seen.mtime_ns)]
    if on_plan:
        on_plan(len(tasks))
    settings = lib.settings
    # made here: the threads share one; a run of sidecars alone (names read again) needs none
    model = None if enqueue or all(t.sidecar_only for t in tasks) else lib.model()

    def prepare(task: Task) -> Task:
        stages.dedupe(stages.metadata(stages.read(task, settings), settings), lib.db)
        if model is None:
            return task
        return stages.detect_embed(stages.decode_stage(task, settings), model, settings)

    with PhotoWriter(lib.db, after_commit=after_commit) as writer:
        for problem in problems:
            writer.fail(problem.path, None, problem.reason)
            report.failed(problem.path, problem.reason)
        for done, task in enumerate(ahead(tasks, prepare, settings.workers), start=1):
            if not stages.store(task, writer, gone, report):
                # the known source vanished, or a changed sidecar turns the photo: do the work after all
                again = stages.metadata(stages.read(Task(task.seen, task.known), settings), settings)
                if not enqueue:
                    model = model or lib.model()
                    again = stages.detect_embed(stages.decode_stage(again, settings), model, settings)
                stages.store(again, writer, gone, report)
            if progress:
                progress(done, report.faces_added)
            if should_stop is not None and should_stop():
                gone.clear()  # the photos not reached stay as they were; the next run goes on
                break
        report.photos_removed = writer.remove_gone(gone)
    report.seconds = round(time.monotonic() - started, 3)
    return report
