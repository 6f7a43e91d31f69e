"""The daemon's parts in this process: the generated API and its schema, the one writer, the
watcher's pending map and its fallback to polling."""

from __future__ import annotations

import re
import socket
import threading
import time
from pathlib import Path

import pytest

from clusterids.errors import UserError

from .test_daemon import wait_until


class StubRunner:
    """The daemon's runner as the routes see it, answering from a function of (op, kwargs)."""

    def __init__(self, answer):
        self.answer = answer
        self.calls = []

    def call(self, op, kwargs):
        self.calls.append((op.name, kwargs))
        return self.answer(op, kwargs)

    def write(self, fn):
        raise AssertionError("no files here")

    read = write


def test_api_in_process_refuses_without_token():
    from fastapi.testclient import TestClient

    from clusterids.core.results import Person
    from clusterids.daemon.http import make_app

    runner = StubRunner(lambda op, kw: [Person(id=1, name="Ann", label="Ann", faces=2, photos=2, hidden=False)])
    client = TestClient(make_app("secret", runner), base_url="http://127.0.0.1:8765")
    assert client.get("/api/v1/people/persons").status_code == 401
    ok = client.get("/api/v1/people/persons?include_hidden=true", headers={"Authorization": "Bearer secret"})
    assert ok.status_code == 200 and ok.json()[0]["name"] == "Ann"
    assert runner.calls == [("people.persons", {"include_hidden": True})]


def test_an_unexpected_error_in_the_daemon_is_one_line_that_names_the_log(caplog):
    """A bug or a machine fault in the daemon (not a UserError) reaches the API caller and the
    CLI as one line pointing at the log, never a bare 500; the traceback is in the log."""

    import uvicorn
    from fastapi.testclient import TestClient

    from clusterids.core import operations
    from clusterids.daemon.client import Remote
    from clusterids.daemon.http import make_app
    from clusterids.errors import UserError

    def broken(op, kwargs):
        raise ZeroDivisionError("division by zero")

    app = make_app("secret", StubRunner(broken))
    client = TestClient(app, base_url="http://127.0.0.1:8765", raise_server_exceptions=False)
    with caplog.at_level("ERROR", logger="clusterids.daemon"):
        r = client.get("/api/v1/people/persons", headers={"Authorization": "Bearer secret"})
    body = r.json()
    assert r.status_code == 500 and body["error"] == (
        "the daemon failed on /api/v1/people/persons: ZeroDivisionError: division by zero")
    incident = re.search(r"incident ([0-9a-f]{8})", body["hint"])
    assert incident and "daemon.log" in body["hint"]
    assert any(incident.group(1) in rec.getMessage() and rec.exc_info for rec in caplog.records)

    # the CLI's client, against the same app served for real: one UserError line
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, 30, "the test server")
        with pytest.raises(UserError) as err:
            Remote(f"http://127.0.0.1:{port}", "secret").call(operations.get("people.persons"), {})
        line = str(err.value)
        assert "\n" not in line and "ZeroDivisionError" in line and "daemon.log" in line
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_the_api_is_described_by_its_openapi_schema_for_a_token_holder():
    """Every operation has its path, its parameters and its result (read from the controller's
    signature), written by FastAPI; docs/api.md names every one."""
    from fastapi.testclient import TestClient

    from clusterids.core import operations
    from clusterids.daemon.http import make_app

    client = TestClient(make_app("secret", StubRunner(lambda op, kw: {})), base_url="http://127.0.0.1:8765")
    assert client.get("/api/v1/openapi.json").status_code == 401
    schema = client.get("/api/v1/openapi.json", headers={"Authorization": "Bearer secret"}).json()
    assert schema["openapi"].startswith("3.")
    for op in operations.every():
        method = "get" if op.flags.reads_only else "post"
        assert method in schema["paths"][f"/api/v1/{op.controller}/{op.method}"], op.name
    persons = schema["paths"]["/api/v1/people/persons"]["get"]
    assert persons["parameters"][0]["name"] == "include_hidden" and persons["x-reads-only"] is True
    rename = schema["components"]["schemas"]["people_rename_params"]
    assert rename["required"] == ["person", "name"] and rename["additionalProperties"] is False
    assert "should_stop" not in schema["components"]["schemas"]["library_index_params"]["properties"]
    doc = (Path(__file__).resolve().parents[1] / "docs" / "api.md").read_text()
    assert all(f"| `{op.name}` |" in doc for op in operations.every())
    # results are described by their declared types
    result = schema["paths"]["/api/v1/photos/showing"]["get"]["responses"]["200"]["content"]["application/json"]
    assert result["schema"]["type"] == "array" and result["schema"]["items"]["type"] == "string"
    assert {"400", "401", "404", "422", "500"} <= set(persons["responses"])

def test_out_of_inotify_watches_falls_back_to_polling(monkeypatch, caplog, tmp_path):
    """The OS limit cannot be reached here without changing the machine: the observer's
    schedule() raises what inotify raises then (ENOSPC)."""
    import errno

    from watchdog.observers.polling import PollingObserver

    from clusterids.daemon import watcher

    class Exhausted(watcher.Observer):  # type: ignore[misc,valid-type]
        def schedule(self, *args, **kwargs):
            raise OSError(errno.ENOSPC, "inotify watch limit reached")

    monkeypatch.setattr(watcher, "Observer", Exhausted)
    handler = watcher.Handler(watcher.Pending(10), [])
    with caplog.at_level("WARNING"):
        observer, _ = watcher.start_observer([str(tmp_path)], handler, poll=False)
    try:
        assert isinstance(observer, PollingObserver)
        assert sum("inotify" in r.message for r in caplog.records) == 1
    finally:
        observer.stop()
        observer.join()


def test_pending_is_bounded_and_coalesces(tmp_path):
    from clusterids.daemon.watcher import Pending

    pending = Pending(limit=100)
    for _ in range(50):
        pending.add(str(tmp_path / "a.jpg"))  # a burst on one file: one entry
    assert len(pending) == 1
    pending.add(*(str(tmp_path / f"{i}.jpg") for i in range(200)))  # over the limit: a rescan instead
    assert len(pending) == 0
    ready, rescan = pending.settled(0.0)
    assert ready == [] and rescan is True

def test_the_one_writer_runs_every_submitted_write_on_its_own_thread_in_order():
    """Writes from many threads run one at a time on the writer's thread; an error reaches
    the thread that asked; work still waiting when the daemon stops is answered, not lost."""

    from clusterids.daemon.writer import WriteQueue

    q = WriteQueue()
    ran: list[tuple[int, int]] = []
    stop = threading.Event()

    def serve() -> None:
        q.own()
        while not stop.is_set():
            q.wait_and_run(0.02)

    writer = threading.Thread(target=serve)
    writer.start()
    results: dict[int, int] = {}

    def ask(n: int) -> None:
        results[n] = q.submit(lambda: ran.append((n, threading.get_ident())) or n * n)

    askers = [threading.Thread(target=ask, args=(n,)) for n in range(20)]
    for t in askers:
        t.start()
    for t in askers:
        t.join(10)
    assert results == {n: n * n for n in range(20)}
    assert {ident for _, ident in ran} == {writer.ident}
    with pytest.raises(ZeroDivisionError):
        q.submit(lambda: 1 // 0)
    stop.set()
    writer.join(10)

    q = WriteQueue()  # no writer serves it: what is submitted waits until the daemon stops
    waiting: list[BaseException] = []

    def late() -> None:
        try:
            q.submit(lambda: None)
        except UserError as exc:
            waiting.append(exc)

    t = threading.Thread(target=late)
    t.start()
    deadline = time.monotonic() + 10
    while q._jobs.empty() and time.monotonic() < deadline:
        time.sleep(0.01)
    q.close()
    t.join(10)
    assert waiting and "stopping" in str(waiting[0])
    with pytest.raises(UserError):
        q.submit(lambda: None)
