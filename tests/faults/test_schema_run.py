"""A bounded schemathesis run against the daemon's own OpenAPI schema (i22 item 4): every
operation, generated bodies and queries that fit the schema and that do not, unsupported
methods; no 500, no status code or content type the schema does not document, no response
that breaks its schema, no schema-valid request refused.

The API is served in process (a real library, the Direct runner: the daemon's routes without
its writer thread). Every parameter that names a file or a folder is moved into a temporary
folder first, so that the run indexes, writes sidecars and exports only there."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..conftest import needs_shared

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is a dev dependency (pip install -e '.[dev]')")
from hypothesis import HealthCheck, settings  # noqa: E402  (schemathesis brings hypothesis)
from schemathesis.specs.openapi.checks import negative_data_rejection  # noqa: E402

TOKEN = "schema-run-token"
EXAMPLES = 10  # per operation; the suite's budget (see NOTES / docs/reliability.md)
# parameters that name a file or a folder: (operation path, field)
PATH_FIELDS = {"/api/v1/library/index": "paths", "/api/v1/metadata/write_xmp": "paths",
               "/api/v1/metadata/export_people": "file", "/api/v1/metadata/import_people": "file",
               "/api/v1/photos/search": "photo", "/api/v1/backups/restore": "source"}


@pytest.fixture(scope="module")
def sandbox(fault_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("schema-run")
    (base / "files").mkdir()
    return base


class Forward:
    """The runner the app is made with at import (schemathesis needs its schema then), handing
    every call to the library the module's fixture opens."""

    target: Any = None

    def __getattr__(self, name: str) -> Any:
        if self.target is None:
            raise AttributeError(name)
        return getattr(self.target, name)


RUNNER = Forward()


@pytest.fixture(scope="module", autouse=True)
def served(fault_template: Path, sandbox: Path, models_dir: Path) -> Iterator[None]:
    from clusterids.app import open_core
    from clusterids.config import load_settings
    from clusterids.daemon.http import Direct

    shutil.copytree(fault_template / "library", sandbox / "library", symlinks=True)
    env = {"CLUSTERIDS_LIBRARY": str(sandbox / "library"), "CLUSTERIDS_MODELS_DIR": str(models_dir),
           "CLUSTERIDS_INSIGHTFACE_ROOT": str(sandbox / "if"), "CLUSTERIDS_PROGRESS": "false"}
    with open_core(load_settings({}, environ=env)) as core:
        RUNNER.target = Direct(core)
        yield
        RUNNER.target = None


def _auth() -> dict[str, str]:
    # the in-process client names itself "testserver": the daemon takes loopback names only
    return {"Authorization": f"Bearer {TOKEN}", "Host": "127.0.0.1:8765"}


def _inside(folder: Path, value: Any) -> Any:
    """A generated path, moved into ``folder`` (one level, its odd characters kept)."""
    if isinstance(value, str):  # "" too: it would be the current folder
        return str(folder / (re.sub(r"[/\\]", "_", value)[:80] or "empty"))
    if isinstance(value, list):
        return [_inside(folder, v) for v in value]
    return value


def _sandboxed(case: Any, folder: Path) -> None:
    field = PATH_FIELDS.get(case.path)
    if field is None:
        return
    for container in (case.body, case.query):
        if isinstance(container, dict) and field in container:
            container[field] = _inside(folder, container[field])


def _schema() -> Any:
    from schemathesis.config import SchemathesisConfig

    from clusterids.daemon.http import make_app

    # 400 is the API's documented answer to a well-formed request the library refuses (nothing
    # to undo, a file in a folder that does not exist, two persons that are one): schemathesis
    # counts it a rejection of valid data unless told; 422 stays the answer to what breaks the schema
    accepted = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]
    config = SchemathesisConfig.from_dict({"checks": {"positive_data_acceptance": {"expected-statuses": accepted}}})
    loaded = schemathesis.openapi.from_asgi("/api/v1/openapi.json", make_app(TOKEN, RUNNER, max_body=2**20),
                                            headers=_auth(), config=config)
    # the event stream never ends by itself; tests/test_page_events.py covers it
    return loaded.exclude(path="/api/v1/events")


schema = _schema()


@needs_shared
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_schema_run(case: Any, sandbox: Path) -> None:
    _sandboxed(case, sandbox / "files")
    excluded = []
    if case.method == "GET" and any(p.get("schema", {}).get("type") == "array"
                                    for p in case.operation.definition.raw.get("parameters", [])):
        # a query string has no types: `names=true` is a boolean to the generator and a valid
        # one-item list of names to the API, so "schema-violating request accepted" is no finding
        excluded.append(negative_data_rejection)
    case.call_and_validate(headers=_auth(), excluded_checks=excluded)
