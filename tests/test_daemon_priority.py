"""Issue 21: the daemon is a good neighbour to its own API too. The models' thread runs at a
lower priority (models/priority.py), and the API's threads, which answer the commands and the
page, keep the daemon's own: they are started before the main thread is lowered (a thread
inherits its creator's niceness, and a process cannot take it back)."""

from __future__ import annotations

import os
from pathlib import Path

import psutil

from clusterids.daemon.client import read_state

from .test_cli_imports import daemon, library  # noqa: F401 - the fixtures
from .test_cli_words import runner


def niceness(pid: int) -> dict[int, int]:
    return {t.id: psutil.Process(t.id).nice() for t in psutil.Process(pid).threads()}


def test_the_models_thread_is_lowered_and_the_api_is_not(daemon):  # noqa: F811
    runner(daemon)("people")  # a read through the API: its worker threads exist now
    pid = int(read_state(Path(daemon["CLUSTERIDS_LIBRARY"]))["pid"])
    own = os.nice(0)
    nice = niceness(pid)
    assert nice[pid] == min(19, own + 10)  # the main thread: the models' (model_nice 10)
    # the API's thread and the one that answered the read, besides one started before the open
    # (before the fix, that one alone kept the daemon's priority)
    assert sum(n == own for n in nice.values()) >= 3, nice
