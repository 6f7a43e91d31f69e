"""The daemon's one writer: every write to the library (index runs, reclusters, repairs, the
API's operations, face crops) runs on one thread, fed by a queue.

Other threads submit a piece of work and wait for its result; the writer runs what is waiting
whenever it is free, and between two commits of a long index run, so that a correction made on
the page waits for one batch at most. No two writes ever overlap, and no lock is held across
threads. Reads of the database alone do not come here at all (see core/operations.py, reads_only).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from ..errors import UserError

T = TypeVar("T")


class WriteQueue:
    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self._owner: int | None = None
        self._closed = False
        self._guard = threading.Lock()  # only between submit and close, never across a job

    def own(self) -> None:
        """The calling thread is the writer from now on."""
        self._owner = threading.get_ident()

    def submit(self, work: Callable[[], T]) -> T:
        """Run ``work`` on the writer and return its result (or raise its error) here."""
        if threading.get_ident() == self._owner:  # the writer itself: no queue to wait in
            return work()
        done: Future[T] = Future()
        with self._guard:
            if self._closed:
                raise _stopping()
            self._jobs.put((work, done))
        return done.result()

    def run_pending(self) -> int:
        """Run what is waiting now (on the writer's thread); how many ran."""
        ran = 0
        while True:
            try:
                work, done = self._jobs.get_nowait()
            except queue.Empty:
                return ran
            self._run(work, done)
            ran += 1

    def wait_and_run(self, timeout: float) -> int:
        """Wait up to ``timeout`` seconds for work, then run all that is waiting."""
        try:
            work, done = self._jobs.get(timeout=timeout)
        except queue.Empty:
            return 0
        self._run(work, done)
        return 1 + self.run_pending()

    def close(self) -> None:
        """Refuse new work and answer what still waits: the daemon is stopping."""
        with self._guard:
            self._closed = True
            self._owner = None
        while True:
            try:
                _, done = self._jobs.get_nowait()
            except queue.Empty:
                return
            done.set_exception(_stopping())

    @staticmethod
    def _run(work: Callable[[], Any], done: Future[Any]) -> None:
        if not done.set_running_or_notify_cancel():
            return
        try:
            done.set_result(work())
        except Exception as exc:  # noqa: BLE001 - the caller's error, raised in the caller's thread
            done.set_exception(exc)
        except BaseException as exc:  # the writer itself is going down: the caller hears it too
            done.set_exception(exc)
            raise


def _stopping() -> UserError:
    return UserError("the daemon is stopping", "run the command again: it runs alone once the daemon is gone")
