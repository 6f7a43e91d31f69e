"""The daemon: owns a library, follows its folders, keeps people and albums current, serves the CLI.

Threads: watchdog's observer (events -> the pending map), uvicorn (the API), and the main
thread, the one writer (see writer.py): it indexes settled paths in batches, reclusters now
and then, and runs the API's writes, which reach it through a queue, so no two writes ever
overlap. Reads of the database alone run on the API's threads, on their own connections.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from .. import ops, service
from ..app import open_library
from ..config import Settings
from ..errors import UserError
from ..media.imaging import EXTENSIONS
from ..store.library import Library
from .api import make_app
from .client import STATE_FILE, new_token, read_state, take_lock
from .writer import WriteQueue

log = logging.getLogger("clusterids.daemon")
BATCH = 200  # paths indexed together (one SQL filter per batch)
RECONCILE_EVERY = 5.0  # seconds between looks at the mirrors' marks (workers' faces, a fault's leftovers)
BACKOFF_FIRST, BACKOFF_MAX = 2.0, 300.0  # seconds between retries of work that failed


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Pending:
    """Paths waiting to settle: path -> (time of the last event, (size, mtime) last seen).
    Bursts on one path coalesce into one entry; past ``limit`` entries, one rescan instead."""

    limit: int
    paths: dict[str, tuple[float, tuple[int, int] | None]] = field(default_factory=dict)
    rescan: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    last_event: str | None = None

    def add(self, *paths: str) -> None:
        t = time.monotonic()
        with self.lock:
            self.last_event = now_iso()
            if self.rescan:
                return
            for p in paths:
                self.paths[p] = (t, _stat(p))
            if len(self.paths) > self.limit:
                self.paths.clear()
                self.rescan = True

    def settled(self, settle: float) -> tuple[list[str], bool]:
        """Paths whose size and mtime held still for ``settle`` seconds; and whether to rescan."""
        t = time.monotonic()
        ready = []
        with self.lock:
            rescan, self.rescan = self.rescan, False
            for p, (seen, st) in list(self.paths.items()):
                if t - seen < settle:
                    continue
                now = _stat(p)
                if now != st:  # still being written: wait another settle period
                    self.paths[p] = (t, now)
                    continue
                ready.append(p)
                del self.paths[p]
        return sorted(ready), rescan

    def __len__(self) -> int:
        return len(self.paths)


def _stat(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


class Handler(FileSystemEventHandler):
    def __init__(self, pending: Pending, skip: list[str]) -> None:
        self.pending = pending
        self.skip = [s.rstrip(os.sep) + os.sep for s in skip]

    def _wanted(self, path: str, is_dir: bool) -> bool:
        if any((path + os.sep).startswith(s) for s in self.skip):
            return False
        name = os.path.basename(path)
        if name.startswith("."):
            return False
        return is_dir or os.path.splitext(name)[1].lower() in EXTENSIONS

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        paths = [os.fsdecode(event.src_path)]
        if event.event_type == "moved":
            paths.append(os.fsdecode(event.dest_path))
        if event.is_directory and event.event_type == "modified":
            return  # a folder's own mtime: its files report themselves
        wanted = [p for p in paths if self._wanted(p, event.is_directory)]
        if wanted:
            self.pending.add(*wanted)


def start_observer(roots: list[str], handler: Handler, poll: bool) -> BaseObserver:
    """inotify where it can; a polling observer where the OS runs out of watches."""
    observer: BaseObserver = PollingObserver(timeout=2) if poll else Observer()
    try:
        for root in roots:
            observer.schedule(handler, root, recursive=True)
        observer.start()
        return observer
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EMFILE) or poll:
            raise
        log.warning("the OS ran out of inotify watches (raise fs.inotify.max_user_watches); "
                    "watching by polling instead, which is slower to notice changes")
        observer = PollingObserver(timeout=2)
        for root in roots:
            observer.schedule(handler, root, recursive=True)
        observer.start()
        return observer


@dataclass
class Fault:
    where: str
    error: str = ""
    count: int = 0
    retry_at: float = 0.0


def disk_full(exc: BaseException) -> bool:
    """A full disk, whichever layer noticed it (the OS, SQLite, the vector engine)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(seen).lower()
        if "disk is full" in text or "no space left" in text or "disk full" in text:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class Daemon:
    def __init__(self, settings: Settings, paths: list[str]) -> None:
        self.settings = settings
        self.paths = [os.path.abspath(p) for p in paths]
        self.writes = WriteQueue()
        self.stop = threading.Event()
        self.pending = Pending(settings.watch_queue_max)
        self.reconciled_at = 0.0
        self.faces_since_recluster = 0
        self.last_recluster: str | None = None
        self.last_recluster_t = time.monotonic()
        self.lib: Library | None = None
        self.roots: list[str] = []
        self.faults: dict[str, Fault] = {}  # where -> the fault met there, until the catch-up works
        self.fail_counts: dict[str, int] = {}  # where -> failures in a row (the back-off grows)
        self.paused: str | None = None
        self.crops_todo: list[int] | None = None  # photos whose face crops the idle loop makes (None: look)

    # -- the API's view ----------------------------------------------------------------------

    def run_op(self, name: str, kwargs: dict[str, Any]) -> Any:
        op = ops.get(name)
        op.check(kwargs)
        if op.reads_only:  # the database alone answers: no wait behind an index run
            assert self.lib is not None
            return op.plain(op(self.lib, **kwargs))

        def write() -> Any:
            assert self.lib is not None
            result = op(self.lib, **kwargs)
            if op.adds_faces:
                self.faces_since_recluster += int(result.get("faces_added", 0))
            if op.daemon_state:
                result["daemon"] = self.state()
            return op.plain(result)

        return self.writes.submit(write)

    def with_lib(self, fn: Any) -> Any:
        """``fn(library)`` on the writer, in its turn."""
        return self.writes.submit(lambda: fn(self.lib))

    def read_lib(self, fn: Any) -> Any:
        """For reads of the database only: each runs on its own connection and sees the last
        commit (SQLite in WAL mode, PostgreSQL), so it never waits for the writer."""
        return fn(self.lib)

    def state(self) -> dict[str, Any]:
        now = time.monotonic()
        return {"running": True, "pid": os.getpid(), "queue": len(self.pending),
                "last_event": self.pending.last_event, "last_recluster": self.last_recluster,
                "roots": self.roots, "paused": self.paused,
                "faults": [{"where": f.where, "error": f.error, "count": f.count,
                            "retry_in": max(0, round(f.retry_at - now))} for f in self.faults.values()
                           if f.count]}

    # -- lifecycle ---------------------------------------------------------------------------

    def run(self) -> None:
        library = self.settings.library
        library.mkdir(parents=True, exist_ok=True)
        lock = take_lock(library)
        if lock is None:
            running = read_state(library) or {}
            raise UserError(f"a daemon already runs on this library ({library}, pid {running.get('pid', '?')})",
                            "stop it first, or use the CLI: it talks to the running daemon")
        (library / STATE_FILE).unlink(missing_ok=True)  # left by a daemon that died: its port is gone
        try:
            self._run(library)
        finally:
            os.close(lock)

    def _run(self, library: Path) -> None:
        self.writes.own()
        self.lib = open_library(self.settings, create=True)
        for notice in self.lib.notices:
            log.info(notice)
        server = None
        observer = None
        try:
            if self.paths:
                self.lib.add_roots(self.paths)
            from ..media.inbox import inbox

            self.lib.add_roots([str(inbox(self.lib))])  # uploads from the web page land here
            self.roots = [r for r in self.lib.roots() if os.path.isdir(r)]
            token = new_token(library)
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", self.settings.api_port))
            sock.listen(128)  # clients that read the state file early wait in the backlog, not refused
            port = sock.getsockname()[1]
            app = make_app(token, self.run_op, self.with_lib, read_lib=self.read_lib)
            config = uvicorn.Config(app, log_level="warning", lifespan="off")
            server = uvicorn.Server(config)
            threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="api").start()
            self._write_state(port)
            log.info("serving the local API on 127.0.0.1:%d; watching %s", port, ", ".join(self.roots))
            skip = [str(p) for p in self.lib.private_dirs()]
            observer = start_observer(self.roots, Handler(self.pending, skip), self.settings.poll_watch)
            self._guarded("catch-up", self._catch_up)  # what changed while nobody watched
            self._loop()
        finally:
            log.info("stopping: flushing and releasing the library")
            if observer is not None:
                observer.stop()
                observer.join(timeout=5)
            if server is not None:
                server.should_exit = True
            self.writes.close()
            self.lib.close()
            (library / STATE_FILE).unlink(missing_ok=True)

    def _write_state(self, port: int) -> None:
        state = {"pid": os.getpid(), "host": "127.0.0.1", "port": port, "started": now_iso()}
        tmp = self.settings.library / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(state))
        os.replace(tmp, self.settings.library / STATE_FILE)

    def request_stop(self, *_: Any) -> None:
        self.stop.set()

    def _loop(self) -> None:
        while not self.stop.is_set():
            self.writes.wait_and_run(0.2)  # the API's writes, while nothing else is to do
            if self.faults:  # nothing new is taken on until the catch-up works again
                if time.monotonic() >= min(f.retry_at for f in self.faults.values()) and \
                        self._guarded("catch-up", self._catch_up):
                    self._recovered()
                continue
            ready, rescan = self.pending.settled(self.settings.settle_seconds)
            if rescan:
                log.info("too many events at once: rescanning the folders")
                if not self._guarded("catch-up", self._catch_up):
                    continue
            for start in range(0, len(ready), BATCH):
                if self.stop.is_set() or not self._guarded("index", self._index, ready[start : start + BATCH]):
                    break  # what is not indexed now is found by the catch-up's rescan
            self._guarded("recluster", self._maybe_recluster)
            if not ready and time.monotonic() - self.reconciled_at >= RECONCILE_EVERY:
                self.reconciled_at = time.monotonic()
                self._guarded("reconcile", self._reconcile)
            if not ready:
                self._guarded("crops", self._make_crops)

    def _catch_up(self) -> None:
        """Index what changed while nobody watched, then put back in step whatever a crash or
        a fault left behind (the vector payloads, the instant assignment, the albums)."""
        for step in ("before", "after"):  # the vectors first: the index run assigns through them
            assert self.lib is not None
            done = service.reconcile(self.lib)
            if done:
                log.info("repaired: %s", json.dumps(done))
            if step == "before":
                self._index(self.roots, catch_up=True)

    def _reconcile(self) -> None:
        """Faces that indexing workers stored, and anything else the marks say is behind."""
        assert self.lib is not None
        done = service.reconcile(self.lib)
        if done:
            log.info("brought in step: %s", json.dumps(done))

    def _guarded(self, where: str, work: Callable[..., None], *args: Any) -> bool:
        """Run one piece of work; a fault in it is logged with its cause, reported by status
        and retried with back-off (2 s doubling to 5 min) through the catch-up, and the daemon
        goes on. A full disk pauses all work until a retry finds room. Returns whether it ran."""
        try:
            work(*args)
        except Exception as exc:  # noqa: BLE001 - the daemon outlives any single fault
            count = self.fail_counts[where] = self.fail_counts.get(where, 0) + 1
            delay = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (count - 1))
            error = f"{type(exc).__name__}: {exc}".splitlines()[0]
            self.faults[where] = Fault(where, error, count, time.monotonic() + delay)
            if disk_full(exc):
                self.paused = (f"the disk is full ({self.settings.library}): work is paused and resumes "
                               "by itself when there is room again")
                log.error("%s (%s failed: %s)", self.paused, where, error)
            else:
                log.error("%s failed (%s); retrying in %d s", where, error, delay,
                          exc_info=not isinstance(exc, UserError | OSError))
            return False
        self.fail_counts.pop(where, None)
        return True

    def _recovered(self) -> None:
        log.info("work resumes after: %s", "; ".join(f"{f.where}: {f.error}" for f in self.faults.values()))
        self.faults.clear()
        self.paused = None

    def _index(self, paths: list[str], catch_up: bool = False) -> None:
        assert self.lib is not None
        result = service.index(self.lib, paths, missing_ok=True, should_stop=self.stop.is_set,
                               after_commit=self._let_others_in,
                               settle=self.settings.settle_seconds if catch_up else 0.0)
        if result.get("deferred"):  # perhaps still being written: they wait to settle like events
            self.pending.add(*result["deferred"])
        self.faces_since_recluster += result["faces_added"]
        if result["faces_added"]:
            self.crops_todo = None  # new faces: their crops are to be made
        counts = {k: v for k, v in result.items() if k.startswith(("photos_", "faces_")) and v}
        if counts.keys() - {"photos_unchanged"} or catch_up:
            log.info("%s %s", "caught up:" if catch_up else "indexed:", json.dumps(counts))
        for f in result["failures"]:
            log.warning("failed: %s: %s", f["path"], f["reason"])

    def _make_crops(self, photos: int = 8) -> None:
        """The web page's face crops, made while idle, a few photos at a time (the API waits little)."""
        from ..media import thumbs

        assert self.lib is not None
        if self.crops_todo is None:
            self.crops_todo = thumbs.photos_needing_crops(self.lib)
        if self.crops_todo:
            batch, self.crops_todo = self.crops_todo[:photos], self.crops_todo[photos:]
            thumbs.warm_face_thumbs(self.lib, batch)

    def _let_others_in(self) -> None:
        """Between two commits of a long index run, the API's writes get their turn."""
        self.writes.run_pending()

    def _maybe_recluster(self) -> None:
        s = self.settings
        due_count = s.recluster_after_faces and self.faces_since_recluster >= s.recluster_after_faces
        due_time = (s.recluster_minutes and self.faces_since_recluster
                    and time.monotonic() - self.last_recluster_t >= s.recluster_minutes * 60)
        if not (due_count or due_time):
            return
        assert self.lib is not None
        result = service.recluster(self.lib)
        self.faces_since_recluster = 0
        self.last_recluster_t = time.monotonic()
        self.last_recluster = now_iso()
        log.info("reclustered: %d clusters, %d new persons, %d faces moved",
                 result["clusters"], result["new"], result["faces_moved"])


def watch(settings: Settings, paths: list[str]) -> None:
    """Run the daemon in the foreground until SIGINT or SIGTERM."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    daemon = Daemon(settings, paths)
    signal.signal(signal.SIGTERM, daemon.request_stop)
    signal.signal(signal.SIGINT, daemon.request_stop)
    daemon.run()


__all__ = ["watch", "Daemon"]
