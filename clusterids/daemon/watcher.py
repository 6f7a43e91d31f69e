"""Following the library's folders: file events coalesce into pending paths that are indexed
once they have settled (their size and mtime held still)."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from ..media.imaging import EXTENSIONS
from ..xmp import sidecars as xmp_sidecars

log = logging.getLogger("clusterids.daemon")


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
        if not event.is_directory:  # i20: a sidecar's change is its photo's (the indexer reads only the sidecar)
            wanted += [photo for p in paths if not any((p + os.sep).startswith(s) for s in self.skip)
                       for photo in xmp_sidecars.photos_of(p)]
        if wanted:
            self.pending.add(*wanted)


def start_observer(roots: list[str], handler: Handler, poll: bool) -> tuple[BaseObserver, dict[str, Any]]:
    """inotify where it can; a polling observer where the OS runs out of watches. Returns the
    observer and each root's watch."""
    observer: BaseObserver = PollingObserver(timeout=2) if poll else Observer()
    try:
        watches = {root: observer.schedule(handler, root, recursive=True) for root in roots}
        observer.start()
        return observer, watches
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EMFILE) or poll:
            raise
        log.warning("the OS ran out of inotify watches (raise fs.inotify.max_user_watches); "
                    "watching by polling instead, which is slower to notice changes")
        observer = PollingObserver(timeout=2)
        watches = {root: observer.schedule(handler, root, recursive=True) for root in roots}
        observer.start()
        return observer, watches


def _identity(path: str) -> tuple[int, int] | None:
    """A folder as the OS knows it (device, inode); None when it is not there."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISDIR(st.st_mode) else None


class Folders:
    """The library's folders as the observer follows them. A folder whose drive is unmounted and
    mounted again, or that is moved away and made again, is another folder to the OS: its watch
    sees nothing more. ``look`` finds each folder that went, came back or came at all, and
    follows it anew; the daemon then catches up with it."""

    def __init__(self, observer: BaseObserver, handler: Handler, roots: list[str], watches: dict[str, Any]) -> None:
        self.observer, self.handler = observer, handler
        self.watches = dict(watches)
        self.seen = {root: _identity(root) if root in watches else None for root in roots}

    def look(self) -> list[str]:
        changed = []
        for root, before in self.seen.items():
            now = _identity(root)
            if now == before:
                continue
            self.seen[root] = now
            old = self.watches.pop(root, None)
            if old is not None:
                with contextlib.suppress(Exception):  # its watch may be gone with the folder
                    self.observer.unschedule(old)
            if now is not None:
                try:
                    self.watches[root] = self.observer.schedule(self.handler, root, recursive=True)
                except OSError as exc:
                    log.warning("cannot follow %s again (%s): the next look tries again", root, exc)
                    self.seen[root] = None
                    continue
            changed.append(root)
        return changed
