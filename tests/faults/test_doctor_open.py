"""i22.7 on a synthetic library (no models): reads and doctor open without the repair that
writes and status run (reads stay fast: issue 21). A crash left the albums behind a committed
rename; before, `people` and the first `doctor` said nothing of it and showed the library as it
lagged. Now their first line says a repair is pending and which command runs it."""

from __future__ import annotations

from pathlib import Path

from clusterids.config import load_settings
from clusterids.core import Core

from ..synthetic import open_synthetic
from .conftest import cli_proc, problems
from .test_journal_replay import _library

PENDING = "a repair is pending (1 changes not yet in the album folders): 'clusterids status'"


def test_reads_and_doctor_say_first_that_a_repair_is_pending(tmp_path: Path) -> None:
    env, _ids = _library(tmp_path)
    lib = open_synthetic(load_settings({}, environ=env))
    try:
        person = Core(lib).people.persons()[0].id
    finally:
        lib.close()
    crashed = cli_proc(env, "rename", str(person), "Ada", crash="catchup.before_albums", timeout=60)
    assert crashed.returncode == 86, crashed.stderr  # committed, then ended before the albums
    for command in (["people"], ["history"], ["people"]):
        done = cli_proc(env, *command, timeout=60)
        first = done.stderr.splitlines()[0] if done.stderr else ""
        assert first.startswith(PENDING), (command, done.stderr)
    # doctor's first line is what waits, then each problem exactly (exit 1); as every command that
    # is no read, it then runs the catch-up after itself
    done = cli_proc(env, "doctor", timeout=60)
    assert done.returncode == 1 and done.stdout.startswith("problem: 1 changes not yet in the album folders"), \
        done.stdout
    assert "album of person" in done.stdout, done.stdout
    for command in (["people"], ["doctor"]):
        done = cli_proc(env, *command, timeout=60)
        assert done.returncode == 0 and "repair is pending" not in done.stderr, (command, done.stderr)
    assert problems(env, repair=False) == []
