"""Item 22.8: the back-off after a fault (a full disk) is the one status shows: one retry time,
that of the latest failure, for every fault listed."""

from __future__ import annotations

import errno
import time

from clusterids.config import load_settings
from clusterids.daemon.daemon import Daemon


def test_the_retry_waits_as_long_as_status_says(tmp_path):
    daemon = Daemon(load_settings({}, environ={"CLUSTERIDS_LIBRARY": str(tmp_path / "library")}), [])

    def full() -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    daemon._guarded("index", full)  # the index run met the full disk: retried by the catch-up, in 2 s
    for _ in range(3):  # the catch-up failed three times: 2, 4, then 8 s
        daemon._guarded("catch-up", full)
    state = daemon.state()
    assert state.paused and "disk is full" in state.paused
    assert [f.retry_in for f in state.faults] == [8, 8], state.faults
    assert 7 < daemon.next_retry() - time.monotonic() <= 8  # the loop waits just as long


def test_a_full_disk_is_said_once_while_it_stays_full(tmp_path, caplog):
    """Each retry on a full disk logged the whole pause line again (a fault trial: the log one
    line every few seconds for as long as the disk stayed full); it is said once, and again
    only after work resumed and the disk filled anew."""
    import logging

    daemon = Daemon(load_settings({}, environ={"CLUSTERIDS_LIBRARY": str(tmp_path / "library")}), [])

    def full() -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with caplog.at_level(logging.INFO, logger="clusterids"):
        for where in ("index", "catch-up", "catch-up", "catch-up"):
            daemon._guarded(where, full)
        assert sum("the disk is full" in r.getMessage() for r in caplog.records) == 1, caplog.text
        daemon._recovered()
        daemon._guarded("catch-up", full)
    assert sum("the disk is full" in r.getMessage() for r in caplog.records) == 2, caplog.text
