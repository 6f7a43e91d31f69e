"""A change of model pack cut short by a crash: what the old faces carried (names, pins,
rejections) is kept in the database when they are forgotten, and the next index run (or the
reindex run again) hands it over; nothing is lost, no empty person stays behind."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ..conftest import SCRFD_PACK, needs_shared
from .conftest import cli_proc, problems


def _people(env: dict[str, str]) -> dict[str, int]:
    out = cli_proc(env, "people", "--all", "--json")
    assert out.returncode == 0, out.stderr
    return {p["name"] or f"#{p['id']}": p["faces"] for p in json.loads(out.stdout)}


@needs_shared
@pytest.mark.parametrize("finish", ["index", "reindex"])
def test_a_reindex_cut_short_keeps_every_name(flib: dict[str, Any], finish: str) -> None:
    """Cut short once the new pack's faces are committed, before they were given the old ones'
    persons: then the old persons hold no face, and the names would be lost with a later recluster."""
    env = flib["env"]
    named = json.loads(cli_proc(env, "people", "--json").stdout)
    for n, person in enumerate(named):
        assert cli_proc(env, "rename", str(person["id"]), f"Named {n}").returncode == 0
    faces = json.loads(cli_proc(env, "faces", "--json").stdout)
    odd = next(f for f in faces if f["person"] == named[0]["id"])
    assert cli_proc(env, "reject", str(odd["id"]), str(named[0]["id"])).returncode == 0  # an unknown face now
    before = _people(env)
    assert len(before) == 3 and all(not k.startswith("#") for k in before)
    crashed = cli_proc(env, "reindex", "--model", str(SCRFD_PACK), crash="index.after_commit")
    assert crashed.returncode == 86, crashed.stderr
    told = cli_proc(env, "status")
    assert "was cut short" in told.stderr and "clusterids index" in told.stderr
    args = ["index", str(flib["photos"])] if finish == "index" else ["reindex", "--model", str(SCRFD_PACK)]
    done = cli_proc(env, *args, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["faces_carried"] >= sum(before.values())
    assert _people(env) == before  # every name with its faces, no person made meanwhile of the unknown face
    (again,) = [f for f in json.loads(cli_proc(env, "faces", "--json").stdout) if f["photo"] == odd["photo"]]
    assert again["person"] is None
    assert "cut short" not in cli_proc(env, "status").stderr
    assert problems(env) == []
