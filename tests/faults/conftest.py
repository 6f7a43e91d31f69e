"""The fault-injection suite's shared pieces: a small real library, the CLI as a separate
process (so that a crash point can end it), and the one invariant check every trial ends with."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from clusterids.app import open_core, open_library
from clusterids.config import load_settings
from clusterids.outputs import albums
from clusterids.store import backup
from clusterids.store.db import Face, Person, Photo, set_meta
from clusterids.upkeep import invariants

from ..conftest import lfw_people

PEOPLE, PER_PERSON = 3, 4


@pytest.fixture(scope="session")
def fault_template(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Path:
    """3 LFW people x 4 photos, indexed and reclustered once; a fifth photo of each kept aside."""
    from click.testing import CliRunner

    from clusterids.cli import cli

    base = tmp_path_factory.mktemp("faults")
    for p in lfw_people(PEOPLE, min_photos=PER_PERSON + 2, max_photos=PER_PERSON + 2):
        index = sorted(p.parent.glob("*.jpg")).index(p)
        dest = base / ("photos" if index < PER_PERSON else "spare") / p.parent.name
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(p, dest / p.name)
    env = {"CLUSTERIDS_LIBRARY": str(base / "library"), "CLUSTERIDS_MODELS_DIR": str(models_dir),
           "CLUSTERIDS_INSIGHTFACE_ROOT": str(base / "if"), "CLUSTERIDS_PROGRESS": "false"}
    for args in (["index", str(base / "photos")], ["recluster"]):
        result = CliRunner().invoke(cli, args, env=env, obj={}, catch_exceptions=False)
        assert result.exit_code == 0, result.output
    return base


@pytest.fixture
def database_url() -> str:
    """The trials damage, fill and kill the library's own files (library.db among them), so
    they run on SQLite; tests/test_scale.py kills workers on PostgreSQL."""
    return ""


@pytest.fixture
def flib(fault_template: Path, tmp_path: Path, env: dict[str, str]) -> dict[str, Any]:
    """A private copy of the template: its env, photo folder and spare photos."""
    shutil.copytree(fault_template / "library", tmp_path / "library", symlinks=True)
    shutil.copytree(fault_template / "photos", tmp_path / "photos")
    env["CLUSTERIDS_LIBRARY"] = str(tmp_path / "library")
    # the copy indexes its own photo folder, as if it had been made there
    lib = open_library(load_settings({}, environ=env))
    try:
        old, new = str(fault_template / "photos"), str(tmp_path / "photos")
        with lib.db.transaction() as s:
            for photo in s.scalars(select(Photo)):
                photo.path = new + photo.path[len(old):]
            set_meta(s, "roots", json.dumps([new]))
        albums.sync(lib)
    finally:
        lib.close()
    shutil.rmtree(tmp_path / "library" / backup.BACKUPS_DIR, ignore_errors=True)  # copies of the template's
    backup.make(tmp_path / "library")
    return {"env": env, "photos": tmp_path / "photos", "spare": fault_template / "spare",
            "library": tmp_path / "library"}


def cli_proc(env: dict[str, str], *args: str, crash: str | None = None, fault: str | None = None,
             timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``clusterids ARGS`` in a process of its own, optionally ended at a crash point."""
    full = dict(os.environ) | env
    full.pop("CLUSTERIDS_CRASH_AT", None)
    if crash:
        full["CLUSTERIDS_CRASH_AT"] = crash
    if fault:
        full["CLUSTERIDS_FAULT"] = fault
    return subprocess.run([sys.executable, "-m", "clusterids.cli", *map(str, args)], env=full,
                          capture_output=True, text=True, timeout=timeout)


def problems(env: dict[str, str], repair: bool = True) -> list[str]:
    """Open the library as any command does (which repairs what a crash left, unless
    ``repair`` is False) and run the one invariant check."""
    settings = load_settings({}, environ=env)
    with open_core(settings) if repair else open_library(settings) as opened:
        return invariants.check(opened.lib if repair else opened).problems  # type: ignore[union-attr]


def corrections_state(env: dict[str, str]) -> dict[str, Any]:
    """What corrections leave behind: names, hidden flags, merges and pinned faces."""
    lib = open_library(load_settings({}, environ=env))
    try:
        with lib.db.read() as s:
            persons = {p.id: (p.name, p.hidden, p.merged_into) for p in s.scalars(select(Person))}
            pins = {f.id: f.person_id for f in s.scalars(select(Face).where(Face.pinned.is_(True)))}
        return {"named": {k: v for k, v in persons.items() if v[0] or v[1] or v[2]}, "pins": pins}
    finally:
        lib.close()


def kept(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Corrections in ``before`` that ``after`` lost (empty: every one is still there)."""
    lost = [f"person {k} {v} became {after['named'].get(k)}" for k, v in before["named"].items()
            if after["named"].get(k) != v]
    lost += [f"face {k} pinned to {v} became {after['pins'].get(k)}" for k, v in before["pins"].items()
             if after["pins"].get(k) != v]
    return lost


Waiter = Callable[[Callable[[], bool], float, str], None]
