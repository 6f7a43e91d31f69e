"""Item 22.5: at the operation boundary a name is at most 200 characters and an id is ASCII
digits: over HTTP a 422 naming the field, on the CLI one line. "١٢" (Arabic-Indic digits) was
read as person 12 by ``int()``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from clusterids.cli import cli
from clusterids.config import load_settings
from clusterids.core import Core, operations
from clusterids.daemon.http import Direct, make_app

from ..synthetic import DIM, add_photos, open_synthetic, unit

TOKEN = "t"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def small(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A synthetic library (no models) with one person of 12 and one person of 21 faces."""
    env = {"CLUSTERIDS_LIBRARY": str(tmp_path / "library"), "CLUSTERIDS_PROGRESS": "false"}
    lib = open_synthetic(load_settings({}, environ=env))
    rng = np.random.default_rng(3)
    ids = add_photos(lib, tmp_path / "photos", [[unit(rng.normal(size=DIM))] for _ in range(21)])
    core = Core(lib)
    for pid_faces in (ids[:1], ids[1:2]):
        core.call(operations.get("people.assign"), {"person": f"P{pid_faces[0][0]}", "face_ids": pid_faces[0]})
    persons = [p.id for p in core.people.persons()]
    out = {"core": core, "env": env, "persons": persons, "faces": [f[0] for f in ids], "open": True}
    yield out
    if out["open"]:
        lib.close()


def test_http_refuses_a_long_name_and_names_the_field(small):
    client = TestClient(make_app(TOKEN, Direct(small["core"])), base_url="http://127.0.0.1:8765")
    pid = str(small["persons"][0])
    for path, body, field in (("rename", {"person": pid, "name": "x" * 201}, "name"),
                              ("assign", {"person": "y" * 201, "face_ids": [small["faces"][5]]}, "person"),
                              ("merge", {"persons": [pid, "z" * 201]}, "persons")):
        answer = client.post(f"/api/v1/people/{path}", json=body, headers=BEARER)
        assert answer.status_code == 422, answer.text
        assert f": {field}" in answer.json()["error"] and "\n" not in answer.json()["error"], answer.json()
    assert client.post("/api/v1/people/rename", json={"person": pid, "name": "x" * 200},
                       headers=BEARER).status_code == 200


def test_ids_are_ascii_digits(small):
    core = small["core"]
    wide = "".join(chr(0x0660 + int(d)) for d in str(small["persons"][0]))  # the same id in Arabic-Indic digits
    client = TestClient(make_app(TOKEN, Direct(core)), base_url="http://127.0.0.1:8765")
    answer = client.post("/api/v1/people/rename", json={"person": wide, "name": "Q"}, headers=BEARER)
    assert answer.status_code == 404 and "no person" in answer.json()["error"], answer.text
    assert all(p.name != "Q" for p in core.people.persons())
    answer = client.post("/api/v1/people/reject", json={"person": str(small["persons"][0]),
                                                         "face_ids": [wide]}, headers=BEARER)
    assert answer.status_code == 422 and "face_ids" in answer.json()["error"]


def cli_one_line(env: dict[str, str], *args: str, status: int = 1) -> str:
    result = CliRunner().invoke(cli, list(args), env=env, obj={})
    assert result.exit_code == status, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_cli_refuses_long_names_and_foreign_digits(small):
    env, pid = small["env"], str(small["persons"][0])
    small["core"].lib.close()  # the CLI opens the library itself
    small["open"] = False
    assert "name is 201 characters" in cli_one_line(env, "rename", pid, "x" * 201)
    assert "persons is 300 characters" in cli_one_line(env, "merge", pid, "w" * 300)
    wide = "".join(chr(0x0660 + int(d)) for d in str(small["faces"][3]))
    assert "not an id" in cli_one_line(env, "reject", wide, pid, status=2)
    assert "not a face id" in cli_one_line(env, "assign", wide, pid)
    assert "no person" in cli_one_line(env, "rename", "".join(chr(0xFF10 + int(d)) for d in pid), "X")
