"""Issue 21: a read imports what it needs only. Each command runs in a fresh interpreter (through
click's CliRunner, as ``clusterids`` runs it) and reports the modules it ended with: nothing of
the models, the vectors' arithmetic, the migrations or the web server may be among them, with or
without a daemon. No timing: what is imported is what costs the time, and it cannot be flaky."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from clusterids.daemon.client import read_state

from .synthetic import people_photos
from .test_cli_words import build, runner

# what a read must never import: the models' runtimes, numpy and what stands on it, the
# migrations' machinery, the daemon's web server, a vector-store client
HEAVY = ("numpy", "onnxruntime", "cv2", "PIL", "sklearn", "scipy", "faiss", "qdrant_client", "alembic", "fastapi",
         "starlette", "uvicorn")
# a read of a SQLite library (people, photos, faces, status) is stdlib sqlite3: no ORM, no settings' machinery
READ_HEAVY = (*HEAVY, "sqlalchemy", "pydantic", "pydantic_settings", "pydantic_core", "qdrant_edge")
# with a daemon, the command is a client: not even the database, the vector index or pydantic
CLIENT_HEAVY = (*HEAVY, "sqlalchemy", "qdrant_edge", "pydantic", "pydantic_settings", "pydantic_core")

READS = [["people"], ["people", "--json"], ["photos", "--person", "1"], ["faces", "--person", "1"],
         ["faces", "--unknown"], ["status"], ["status", "--json"]]

SCRIPT = """
import json, sys
from click.testing import CliRunner
from clusterids.cli import cli
result = CliRunner().invoke(cli, sys.argv[1:], obj={})
print(json.dumps({"code": result.exit_code, "output": result.output,
                  "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def imported(env: dict[str, str], args: list[str]) -> set[str]:
    """The top-level modules a fresh interpreter holds after ``clusterids ARGS`` (which must succeed)."""
    root = str(Path(__file__).resolve().parents[1])
    environ = {**os.environ, **env, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", SCRIPT, *args], env=environ, capture_output=True, text=True,
                          timeout=120, check=False, cwd=root)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.splitlines()[-1])
    assert out["code"] == 0, f"clusterids {' '.join(args)} exited {out['code']}: {out['output']}"
    return set(out["modules"])


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return build(tmp_path_factory.mktemp("reads"), people_photos(2, 3))


@pytest.mark.parametrize("args", READS, ids=" ".join)
def test_a_read_without_a_daemon_imports_nothing_heavy(library, args):
    assert sorted(imported(library, args) & set(HEAVY)) == []


@pytest.mark.parametrize("args", READS, ids=" ".join)
def test_a_read_of_a_sqlite_library_imports_neither_the_orm_nor_pydantic(library, args):
    heavy = set(READ_HEAVY) - ({"qdrant_edge"} if args[0] == "status" else set())  # status counts the vectors
    assert sorted(imported(library, args) & heavy) == []


@pytest.fixture
def daemon(library) -> Iterator[dict[str, str]]:
    run = runner(library)
    run("ui", "--no-browser")
    try:
        yield library
    finally:
        if read_state(Path(library["CLUSTERIDS_LIBRARY"])) is not None:
            run("stop")


def test_a_read_through_the_daemon_imports_neither_the_store_nor_anything_heavy(daemon):
    for args in READS:
        assert (args, sorted(imported(daemon, args) & set(CLIENT_HEAVY))) == (args, [])
