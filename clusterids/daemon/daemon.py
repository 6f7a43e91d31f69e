"""The daemon: owns a library, follows its folders, keeps people and albums current, serves the CLI.

Threads: watchdog's observer (events -> the pending map), uvicorn (the API), and the main
thread, the one writer (see writer.py): it indexes settled paths in batches, reclusters now
and then, and runs the API's writes, which reach it through a queue, so no two writes ever
overlap; after each it runs the catch-up of derived state (``Core.call``). Reads of the
database alone run on the API's threads, on their own connections.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import queue
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import uvicorn

from ..app import open_core
from ..config import Settings
from ..core import Core, Hooks, operations
from ..core.operations import Operation
from ..core.results import DaemonState, Fault, Indexed, Reclustered
from ..errors import UserError
from ..models import memory
from ..store import library as store_library
from ..store.library import VECTORS_DIR
from .client import STATE_FILE, new_token, read_state, take_lock
from .events import Changes
from .guard import HeadDeadline
from .http import make_app
from .watcher import Folders, Handler, Pending, now_iso, start_observer
from .writer import WriteQueue

T = TypeVar("T")
log = logging.getLogger("clusterids.daemon")
BATCH = 200  # paths indexed together (one SQL filter per batch)
RECONCILE_EVERY = 5.0  # seconds between catch-ups while idle (workers' faces, a fault's leftovers)
FOLDER_LOOK = 5.0  # seconds between looks at whether a library folder went or came back (a few stats)
BACKOFF_FIRST, BACKOFF_MAX = 2.0, 300.0  # seconds between retries of work that failed
CROPS_PER_TURN = 8  # photos whose face crops the idle loop makes at a time (the API waits little)


@dataclass
class Trouble:
    where: str
    error: str = ""
    count: int = 0
    retry_at: float = 0.0


class Daemon:
    def __init__(self, settings: Settings, paths: list[str], started_by: str = "watch") -> None:
        self.settings = settings
        self.paths = [os.path.abspath(p) for p in paths]
        self.restart = restart_command(settings, started_by)
        self.writes = WriteQueue()
        self.stop = threading.Event()
        self.pending = Pending(settings.watch_queue_max)
        self.reconciled_at = 0.0
        self.folders: Folders | None = None
        self.looked_at = 0.0
        self.faces_since_recluster = 0
        self.last_recluster_t = time.monotonic()
        self.core: Core | None = None
        self.roots: list[str] = []
        self.troubles: dict[str, Trouble] = {}  # where -> the fault met there, until the catch-up works
        self.fail_counts: dict[str, int] = {}  # where -> failures in a row (the back-off grows)
        self.paused: str | None = None
        self.crops_todo: list[int] | None = None  # photos whose face crops the idle loop makes (None: look)
        self.changes = Changes()  # what the open pages hear after each write

    # -- the runner the API's routes call --------------------------------------------------------

    def call(self, op: Operation, kwargs: dict[str, Any]) -> Any:
        core = self._core()
        if op.flags.reads_only:  # the database alone answers: no wait behind an index run
            return core.call(op, kwargs)
        return self.writes.submit(lambda: self._noted(core.call(op, kwargs)))

    def write(self, fn: Callable[[Core], T]) -> T:
        """``fn(core)`` on the writer, in its turn."""
        return self.writes.submit(lambda: fn(self._core()))

    def read(self, fn: Callable[[Core], T]) -> T:
        """For reads of the database only: each runs on its own connection and sees the last
        commit (SQLite in WAL mode, PostgreSQL), so it never waits for the writer."""
        return fn(self._core())

    def _core(self) -> Core:
        assert self.core is not None
        return self.core

    def _noted(self, result: Any) -> Any:
        """What the daemon keeps track of, from the results of the writes it ran."""
        if isinstance(result, Indexed):
            self.faces_since_recluster += result.faces_added
            if result.faces_added:
                self.crops_todo = None
        elif isinstance(result, Reclustered) and result.applied:
            self.faces_since_recluster = 0
            self.last_recluster_t = time.monotonic()
        self.changes.note(result)
        return result

    def state(self) -> DaemonState:
        now = time.monotonic()
        return DaemonState(running=True, pid=os.getpid(), queue=len(self.pending),
                           last_event=self.pending.last_event, last_recluster=self._last_recluster(),
                           roots=self.roots, paused=self.paused, restart=self.restart,
                           faults=[Fault(where=t.where, error=t.error, count=t.count,
                                         retry_in=max(0, round(self.next_retry() - now)))
                                   for t in self.troubles.values() if t.count])

    def next_retry(self) -> float:
        """When the one retry (the catch-up) runs: after the back-off of the latest fault. i22: the
        earliest of them was used, so an older fault's time, long past, made the catch-up run at
        every turn of the loop (a full disk hammered) while status showed the growing back-off."""
        return max((t.retry_at for t in self.troubles.values()), default=0.0)

    def _last_recluster(self) -> str | None:
        """The store's stamp, whoever reclustered (this daemon, a command before it, the page)."""
        from ..store import stamps

        if self.core is None:
            return None
        with self.core.lib.db.read() as s:
            last = stamps.last(s, stamps.LAST_RECLUSTER)
        return last["at"] if last else None

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
        from ..models.priority import lower_thread_priority

        self.writes.own()
        # the API's thread is started now, at the daemon's priority, and given the server once it
        # is made: the threads it starts for reads keep that priority (a thread inherits its
        # creator's niceness, and a process cannot take it back). Then this thread, which runs
        # the models (the decoding threads, onnxruntime's pool and the vector engine's threads
        # it starts inherit it), is lowered: the user's commands and the page's reads come first.
        api_jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        threading.Thread(target=lambda: api_jobs.get()(), daemon=True, name="api").start()
        lowered = lower_thread_priority(self.settings.model_nice, self.settings.model_io_idle)
        hooks = Hooks(should_stop=self.stop.is_set, after_commit=self._let_others_in, daemon=self.state,
                      settle=self.settings.settle_seconds)
        self.core = open_core(self.settings, operations.get("library.index"), hooks)
        lib = self.core.lib
        for notice in lib.notices:
            log.info(notice)
        if lib.repaired:
            log.info("repaired at open: %s", json.dumps(lib.repaired))
        server = None
        observer = None
        try:
            if self.paths:
                lib.db.add_roots(self.paths)
            from ..media.inbox import inbox

            lib.db.add_roots([str(inbox(lib.root))])  # uploads from the web page land here
            known = lib.db.roots()
            self.roots = [r for r in known if os.path.isdir(r)]
            token = new_token(library)
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", self.settings.api_port))
            sock.listen(128)  # clients that read the state file early wait in the backlog, not refused
            port = sock.getsockname()[1]
            server = uvicorn.Server(uvicorn.Config(make_app(token, self), log_level="warning", lifespan="off",
                                                  http=HeadDeadline, timeout_keep_alive=5))
            api_jobs.put(functools.partial(server.run, sockets=[sock]))
            if lowered:
                log.info("indexing runs at a lower priority (%s)", ", ".join(lowered))
            self._write_state(port)
            log.info("serving the local API on 127.0.0.1:%d; watching %s", port, ", ".join(self.roots))
            for absent in sorted(set(known) - set(self.roots)):
                log.warning("%s is not there (a drive not mounted?): its photos are kept, and it is followed "
                            "as soon as it comes back", absent)
            skip = [str(p) for p in lib.private_dirs()]
            handler = Handler(self.pending, skip)
            observer, watches = start_observer(self.roots, handler, self.settings.poll_watch)
            self.folders = Folders(observer, handler, known, watches)
            self._guarded("catch-up", self._catch_up)  # what changed while nobody watched
            self._loop()
        finally:
            api_jobs.put(lambda: None)  # the API's thread ends if it never got the server
            log.info("stopping: flushing and releasing the library")
            if observer is not None:
                observer.stop()
                observer.join(timeout=5)
            self.changes.close()  # the pages' event streams end, so the server can
            if server is not None:
                server.should_exit = True
            self.writes.close()
            lib.close()
            (library / STATE_FILE).unlink(missing_ok=True)

    def _write_state(self, port: int) -> None:
        state = {"pid": os.getpid(), "host": "127.0.0.1", "port": port, "started": now_iso(),
                 "restart": self.restart}
        tmp = self.settings.library / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(state))
        tmp.chmod(0o600)  # the library's files are the owner's only (i22.10)
        os.replace(tmp, self.settings.library / STATE_FILE)

    def request_stop(self, *_: Any) -> None:
        self.stop.set()

    def _loop(self) -> None:
        while not self.stop.is_set():
            self.writes.wait_and_run(0.2)  # the API's writes, while nothing else is to do
            if self.troubles:  # nothing new is taken on until the catch-up works again
                if time.monotonic() >= self.next_retry() and self._guarded("catch-up", self._catch_up):
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
            if self.folders is not None and time.monotonic() - self.looked_at >= FOLDER_LOOK:
                self.looked_at = time.monotonic()
                self._guarded("folders", self._look_at_folders)
            if not ready and time.monotonic() - self.reconciled_at >= RECONCILE_EVERY:
                self.reconciled_at = time.monotonic()
                self._guarded("reconcile", self._reconcile)
            if not ready:
                self._guarded("crops", self._make_crops)
                lib = self._core().lib
                if lib.unload_idle_model(self.settings.model_ttl_seconds):
                    # this thread is the index's one writer: nothing maps or unmaps its files meanwhile
                    memory.give_back(lib.root / VECTORS_DIR)
                    log.info("models unloaded after %d s unused", self.settings.model_ttl_seconds)

    def _look_at_folders(self) -> None:
        """A folder that went (a drive unmounted, moved away) or came back is followed anew, and
        what it holds now is caught up with (its photos are kept while it is away)."""
        assert self.folders is not None
        for root in self.folders.look():
            there = os.path.isdir(root)
            log.info("%s %s: %s", root, "is back" if there else "went away",
                     "following it again" if there else "its photos are kept until it comes back")
            self.roots = sorted(set(self.roots) | {root}) if there else [r for r in self.roots if r != root]
            if there:
                self._index([root], catch_up=True)

    def _catch_up(self) -> None:
        """Index what changed while nobody watched, then bring derived state in step."""
        self._index(self.roots, catch_up=True)

    def _reconcile(self) -> None:
        """Faces that indexing workers stored, and anything else the outbox says is behind."""
        done = self._core().catch_up()
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
            self.troubles[where] = Trouble(where, error, count, time.monotonic() + delay)
            if store_library.disk_full(exc):
                if self.paused is None:  # said once; each retry while it stays full, quietly
                    self.paused = (f"the disk is full ({self.settings.library}): work is paused and resumes "
                                   "by itself when there is room again")
                    log.error("%s (%s failed: %s)", self.paused, where, error)
                else:
                    log.debug("%s failed again, the disk still full (%s)", where, error)
            else:
                log.error("%s failed (%s); retrying in %d s", where, error, delay,
                          exc_info=not isinstance(exc, UserError | OSError))
            return False
        self.fail_counts.pop(where, None)
        return True

    def _recovered(self) -> None:
        log.info("work resumes after: %s", "; ".join(f"{t.where}: {t.error}" for t in self.troubles.values()))
        self.troubles.clear()
        self.paused = None

    def _index(self, paths: list[str], catch_up: bool = False) -> None:
        core = self._core()
        result = self._noted(core.library.run_index(paths, missing_ok=True,
                                                    settle=core.hooks.settle if catch_up else 0.0))
        if result.deferred:  # perhaps still being written: they wait to settle like events
            self.pending.add(*result.deferred)
        counts = {k: v for k, v in vars(result).items() if k.startswith(("photos_", "faces_")) and v}
        if counts.keys() - {"photos_unchanged"} or catch_up:
            log.info("%s %s", "caught up:" if catch_up else "indexed:", json.dumps(counts))
        for f in result.failures:
            log.warning("failed: %s: %s", f.path, f.reason)
        for w in result.warnings:  # a folder kept as a drive not mounted, a damaged sidecar
            log.warning("%s", w.reason)

    def _let_others_in(self) -> None:
        """Between two commits of a long index run, the API's writes get their turn."""
        self.writes.run_pending()

    def _make_crops(self) -> None:
        """The web page's face crops, made while idle, a few photos at a time."""
        from ..outputs import thumbs

        lib = self._core().lib
        if self.crops_todo is None:
            self.crops_todo = thumbs.photos_needing_crops(lib)
        if self.crops_todo:
            batch, self.crops_todo = self.crops_todo[:CROPS_PER_TURN], self.crops_todo[CROPS_PER_TURN:]
            thumbs.warm_face_thumbs(lib, batch)

    def _maybe_recluster(self) -> None:
        s = self.settings
        due_count = s.recluster_after_faces and self.faces_since_recluster >= s.recluster_after_faces
        due_time = (s.recluster_minutes and self.faces_since_recluster
                    and time.monotonic() - self.last_recluster_t >= s.recluster_minutes * 60)
        if not (due_count or due_time):
            return
        result = self._noted(self._core().call(operations.get("people.recluster"), {}))
        log.info("reclustered: %d clusters, %d new persons, %d faces moved",
                 result.clusters, result.new, result.faces_moved)


def restart_command(settings: Settings, started_by: str) -> str:
    """The command that starts the daemon again the way it was started: by 'clusterids ui',
    by systemd, or by 'watch'."""
    import shlex

    from ..config import default_library

    if started_by != "ui" and _under_systemd():
        return "systemctl --user start clusterids"
    library = "" if settings.library == default_library() else f"--library {shlex.quote(str(settings.library))} "
    return f"clusterids {library}{'ui' if started_by == 'ui' else 'watch'}"


def _under_systemd() -> bool:
    """Whether systemd runs this process as a service: its stderr is the journal stream that
    systemd names in JOURNAL_STREAM (the check systemd.exec(5) documents)."""
    given = os.environ.get("JOURNAL_STREAM", "")
    try:
        st = os.fstat(2)
    except OSError:
        return False
    return bool(given) and given == f"{st.st_dev}:{st.st_ino}"


def watch(settings: Settings, paths: list[str], started_by: str = "watch") -> None:
    """Run the daemon in the foreground until SIGINT or SIGTERM."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    daemon = Daemon(settings, paths, started_by)
    signal.signal(signal.SIGTERM, daemon.request_stop)
    signal.signal(signal.SIGINT, daemon.request_stop)
    daemon.run()


__all__ = ["watch", "Daemon"]
