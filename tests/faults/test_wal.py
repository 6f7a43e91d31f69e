"""i22.11 on a synthetic library (no models): a WAL deleted or cut short after a crash. Before,
SQLite opened the older database it found and said nothing: a committed rename was gone and two
vectors of a photo that went with it stayed. Now the open names what is lost (the corrections
the plain journal holds and the database does not) and the way back (`clusterids restore`
replays them); a WAL cut short gives a warning; whoever goes on compares every vector."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from clusterids.app import offline, open_core
from clusterids.config import load_settings
from clusterids.core import Core, operations
from clusterids.errors import UserError
from clusterids.store import queue
from clusterids.store.db import Person
from clusterids.store.library import open_library

from ..synthetic import add_photos, open_synthetic, unit
from .conftest import cli_proc, problems
from .test_journal_replay import _library


def _crashed(tmp_path: Path, rename: bool = True) -> dict[str, Any]:
    """A library as a crash leaves it: a rename and a photo of 2 faces committed after the last
    copy, in the WAL only (copied while the library is open: what a SIGKILL leaves on disk)."""
    env, _ids = _library(tmp_path)
    lib = open_synthetic(load_settings({}, environ=env))
    try:
        core = Core(lib)
        person = core.people.persons()[0].id
        if rename:
            core.call(operations.get("people.rename"), {"person": str(person), "name": "Ada"})
        rng = np.random.default_rng(3)
        add_photos(lib, tmp_path / "photos", [[unit(rng.normal(size=16)), unit(rng.normal(size=16))]], start=18)
        crashed = tmp_path / "crashed"
        shutil.copytree(tmp_path / "library", crashed, symlinks=True)
    finally:
        lib.close()
    assert (crashed / "library.db-wal").stat().st_size > 0  # the commits are in the WAL only
    return {"env": env | {"CLUSTERIDS_LIBRARY": str(crashed)}, "root": crashed, "person": person,
            "photo": tmp_path / "photos" / "photo_018.jpg"}


def _names(env: dict[str, str]) -> dict[int, str | None]:
    lib = open_synthetic(load_settings({}, environ=env))
    try:
        with lib.db.read() as s:
            return {p.id: p.name for p in s.scalars(select(Person))}
    finally:
        lib.close()


def test_deleted_wal_is_reported_and_restore_brings_the_rename_back(tmp_path: Path) -> None:
    c = _crashed(tmp_path)
    (c["root"] / "library.db-wal").unlink()
    for command in ("status", "doctor", "people"):
        done = cli_proc(c["env"], command, timeout=60)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 1 and len(lines) == 1, (command, done.returncode, done.stdout, done.stderr)
        assert "write-ahead log is gone" in lines[0] and "1 correction (rename)" in lines[0], lines[0]
        assert "'clusterids restore'" in lines[0] and "replay the journal" in lines[0], lines[0]
    c["photo"].unlink()  # the photo lost with the WAL went from the folder too: restore must not index it
    done = offline(load_settings({}, environ=c["env"])).call(operations.get("backups.restore"), {})
    assert done.corrections_replayed == 1, done
    assert _names(c["env"])[c["person"]] == "Ada"
    assert problems(c["env"]) == []  # no stray vector of the photo's 2 faces either


def test_going_on_without_the_wal_removes_its_stray_vectors(tmp_path: Path) -> None:
    c = _crashed(tmp_path)
    (c["root"] / "library.db-wal").unlink()
    assert cli_proc(c["env"], "status", timeout=60).returncode == 1
    (c["root"] / "library.db.open").unlink()  # the line's other way: go on with the database as it is
    c["photo"].unlink()
    settings = load_settings({}, environ=c["env"])
    with open_core(settings) as core:
        assert core.lib.repaired.get("reconciled") == 2, core.lib.repaired  # the photo's 2 vectors
    assert problems(c["env"]) == []
    assert cli_proc(c["env"], "status", timeout=60).returncode == 0
    # a correction made now numbers after the journal's lost line, not after the database's last
    assert cli_proc(c["env"], "rename", str(c["person"]), "Bea", timeout=60).returncode == 0
    seqs = [json.loads(line)["seq"] for line in (c["root"] / "corrections.jsonl").read_text().splitlines()]
    assert len(seqs) == len(set(seqs)), seqs


def test_wal_cut_short_is_a_warning(tmp_path: Path) -> None:
    c = _crashed(tmp_path)
    wal = c["root"] / "library.db-wal"
    with wal.open("r+b") as fh:
        fh.truncate(wal.stat().st_size - 100)
    done = cli_proc(c["env"], "status", timeout=60)
    assert done.returncode == 0, done.stderr
    # the rename's commit is whole (only the photo's last frame went): no correction is missing,
    # and the line says so (a full disk leaves the same shape; before, it advised a restore)
    assert "write-ahead log was cut short" in done.stderr and "no correction is missing" in done.stderr, done.stderr
    assert "'clusterids restore'" not in done.stderr


def test_live_workers_are_those_running_within_their_lease(tmp_path: Path) -> None:
    """Workers whose rows outlived them (killed, or their unregistering lost with a WAL) showed as
    live for a lease: "3 live workers" after every worker had stopped."""
    gone = []
    for _ in range(3):
        proc = subprocess.Popen(["true"])
        proc.wait()
        gone.append(proc.pid)
    env, _ids = _library(tmp_path)
    lib = open_synthetic(load_settings({}, environ=env))
    try:
        engine, host = lib.db.engine, socket.gethostname()
        for n, pid in enumerate(gone):
            queue.register(engine, f"dead-{n}", host, pid, "cpu")
        queue.register(engine, "alive", host, os.getpid(), "cpu")
        queue.register(engine, "elsewhere", "another-machine", 1, "cpu")  # only its lease can tell
        with lib.db.read() as s:
            live = [w["id"] for w in queue.state(s, lease_seconds=60)["workers"]]
        assert live == ["alive", "elsewhere"], live
    finally:
        lib.close()


class _Refusing:
    """A ModelSource that refuses, as a pack that would mix vectors does."""

    def negotiate(self, stored: object) -> Any:
        raise UserError("vectors of different packs never mix")

    def load(self, spec: str, key: str | None = None) -> Any:
        raise AssertionError


def test_a_refused_open_is_no_lost_wal(tmp_path: Path) -> None:
    """An open refused after the database opened closes it cleanly: the next open finds no
    marker without its WAL (no false alarm)."""
    env, _ids = _library(tmp_path)
    settings = load_settings({}, environ=env)
    with pytest.raises(UserError, match="never mix"):
        open_library(settings, _Refusing())
    assert not (tmp_path / "library" / "library.db.open").exists()
    open_synthetic(settings).close()


def test_deleted_wal_without_a_lost_correction_is_a_warning(tmp_path: Path) -> None:
    """Nothing a restore would bring back: the command runs, warns, and compares every vector."""
    c = _crashed(tmp_path, rename=False)
    (c["root"] / "library.db-wal").unlink()
    c["photo"].unlink()
    done = cli_proc(c["env"], "status", timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("warning: the database's write-ahead log is gone"), done.stderr
    assert "2 vectors compared and mended" in done.stderr, done.stderr
    assert problems(c["env"]) == []
    assert "write-ahead log" not in cli_proc(c["env"], "status", timeout=60).stderr  # said once


def test_a_process_opening_as_another_closes_keeps_the_marker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The closing process finds no WAL and removes the marker; a second process opened the
    database just then (its WAL made, the marker seen, so not made again): the marker must stay,
    or a crash of the second would pass unseen."""
    from clusterids.store import wal

    db = tmp_path / "library.db"
    db.write_bytes(b"")
    wal.opened(db)
    marker, real_unlink = wal.marker_of(db), Path.unlink

    def unlink_as_another_opens(self: Path, missing_ok: bool = False) -> None:
        if self == marker:  # the other process: its connection makes the WAL, the marker is there
            db.with_name(db.name + "-wal").write_bytes(b"")
            wal.opened(db)
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink_as_another_opens)
    wal.closed(db)
    monkeypatch.undo()
    assert marker.exists()
