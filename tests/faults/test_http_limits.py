"""The HTTP API against hand-made requests (i22 items 4, 9, 10, previews): the bodies the issue
named, bodies past 1 MiB, slow clients, cookies from another local port, a FIFO swapped in for
a photo. On a synthetic library (tests/synthetic.py) served in process, and a real uvicorn
server for the connection deadlines."""

from __future__ import annotations

import json
import os
import socket
import threading
import zipfile
from collections.abc import Callable, Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from clusterids.core import Core
from clusterids.daemon import guard
from clusterids.daemon.guard import COOKIE
from clusterids.daemon.http import Direct, make_app

from ..synthetic import add_photos, people_photos, synthetic_library

TOKEN = "limits-token"
BASE = "http://127.0.0.1:8765"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
HANG = 60.0  # a request still running after this long is one that would wait forever


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, Any]]:
    with synthetic_library(tmp_path) as lib:
        add_photos(lib, tmp_path / "photos", people_photos(2, 3))
        core = Core(lib)
        core.call(core_op("people.recluster"), {})
        app = make_app(TOKEN, Direct(core))
        with TestClient(app, base_url=BASE) as client:
            yield {"client": client, "core": core, "app": app, "photos": tmp_path / "photos"}


def core_op(name: str) -> Any:
    from clusterids.core import operations

    return operations.get(name)


def test_the_bodies_of_item_4_are_refused_by_their_types(served):
    client = served["client"]

    def post(path: str, body: Any) -> Any:
        return client.post(f"/api/v1/{path}", headers=BEARER, json=body)

    for body, field in (({"person": "1"}, "name"), ({"person": "1", "name": 5}, "name"),
                        ({"person": "1", "name": "Ann", "extra": 1}, "extra"),
                        ({"person": ["1"], "name": "Ann"}, "person")):
        answer = post("people/rename", body)
        assert answer.status_code == 422 and f": {field}: " in answer.json()["error"], (body, answer.text)
    assert post("people/keep_apart", {"persons": ["1", "1"]}).status_code == 400
    assert post("people/suggest", {"limit": "a"}).status_code == 422
    assert post("photos/search", {"photo": 5}).status_code == 422
    # a JSON body has types of its own: 0 is no boolean, "5" no number (lax before: 200)
    assert post("library/status", {"failed": 0}).status_code == 422
    assert post("people/suggest", {"limit": "5"}).status_code == 422
    # a query parameter an operation does not take, like an unknown key (ignored before: 200)
    unknown = client.get("/api/v1/people/faces?person=1&colour=red", headers=BEARER)
    assert unknown.status_code == 422 and "colour" in unknown.json()["error"]


def test_a_method_a_path_does_not_take_says_the_schemas_methods(served):
    client = served["client"]
    schema = client.get("/api/v1/openapi.json", headers=BEARER).json()
    for path in ("/api/v1/people/faces", "/api/v1/people/rename", "/api/v1/albums.zip", "/api/v1/faces/{face_id}.jpg"):
        documented = {m.upper() for m in schema["paths"][path]}
        url = path.replace("{face_id}", "1")
        for method in ("OPTIONS", "PUT", "DELETE", "PATCH"):
            answer = client.request(method, url, headers=BEARER)
            # before: the page's static files answered every /api path with 'Allow: GET, HEAD'
            assert answer.status_code == 405, (method, path, answer.text)
            assert set(answer.headers["allow"].split(", ")) == documented, (method, path)
            assert str(answer.status_code) in schema["paths"][path][next(iter(schema["paths"][path]))]["responses"]


def test_the_cookie_works_only_from_the_daemons_own_origin(served):
    client = served["client"]
    photo = client.get("/api/v1/people/faces?person=1", headers=BEARER).json()[0]
    thumb = f"/api/v1/faces/{photo['id']}.jpg"
    client.cookies.set(COOKIE, TOKEN)
    # item 10: Host and Origin both say another port; the daemon listens on 8765 (passed before)
    spoofed = client.post("/api/v1/people/recluster", json={},
                          headers={"Host": "127.0.0.1:8080", "Origin": "http://127.0.0.1:8080"})
    assert spoofed.status_code == 403 and "another origin" in spoofed.json()["error"]
    # a page on another local port loading a thumbnail through the cookie (GETs skipped the check)
    assert client.get(thumb, headers={"Sec-Fetch-Site": "same-site"}).status_code == 403
    assert client.get(thumb, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert client.get("/api/v1/people/page", headers={"Origin": "http://127.0.0.1:8080"}).status_code == 403
    # the page's own requests: <img> and fetch (same-origin), a navigation typed or opened (none)
    assert client.get(thumb, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200
    assert client.get("/api/v1/people/page", headers={"Sec-Fetch-Site": "none"}).status_code == 200
    ok = client.post("/api/v1/people/recluster", json={}, headers={"Origin": BASE, "Sec-Fetch-Site": "same-origin"})
    assert ok.status_code == 200, ok.text
    # the CLI: a token, no cookie, no Origin, whatever Host port it names
    client.cookies.clear()
    assert client.post("/api/v1/people/recluster", json={}, headers=BEARER | {"Host": "127.0.0.1:9"}).status_code == 200


def test_json_bodies_stop_at_one_mib(served):
    client = served["client"]
    body = json.dumps({"person": "1", "name": "x" * (2**20 + 10)})
    # before: buffered up to the upload limit (201 MiB), then a 422 for the name's length
    big = client.post("/api/v1/people/rename", headers=BEARER | {"Content-Type": "application/json"}, content=body)
    assert big.status_code == 413 and "1 MB" in big.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds on the stream
        yield b'{"person": "1", "name": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    streamed = client.post("/api/v1/people/rename", headers=BEARER | {"Content-Type": "application/json"},
                           content=chunks())
    assert streamed.status_code == 413


@pytest.fixture
def server(served: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """The app on a real uvicorn server, as the daemon runs it, with deadlines of 1 s."""
    monkeypatch.setattr(guard.HeadDeadline, "head_seconds", 1.0)
    monkeypatch.setattr(guard, "BODY_SECONDS", 1.0)
    app = make_app(TOKEN, Direct(served["core"]))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", http=guard.HeadDeadline,
                                        timeout_keep_alive=1))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not srv.started:
        threading.Event().wait(0.05)
    yield port
    srv.should_exit = True
    thread.join(timeout=10)


def _trickle(port: int, data: bytes, head: bytes = b"") -> bytes:
    """Send ``head`` at once, then ``data`` one byte every 0.2 s; what the server answered
    by the time it closed the connection (b"" when it closed without a word)."""
    with socket.create_connection(("127.0.0.1", port), timeout=HANG) as s:
        s.sendall(head)
        s.settimeout(0.2)
        for byte in data:
            try:
                s.sendall(bytes([byte]))
                got = s.recv(65536)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                return b""
            if not got:
                return b""
            s.settimeout(HANG)
            return got + s.recv(65536)
        raise AssertionError(f"the server still waited after {len(data)} slow bytes")


def test_a_slow_request_head_is_cut_off(server):
    # 400 bytes at 5 a second is 80 s: the 1 s head deadline ends it long before (never, before)
    assert _trickle(server, b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"a" * 330) == b""
    # an idle connection that never sends a byte is closed too
    with socket.create_connection(("127.0.0.1", server), timeout=HANG) as s:
        assert s.recv(1) == b""


def test_a_slow_body_is_refused(server):
    head = (b"POST /api/v1/people/rename HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + TOKEN.encode()
            + b"\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n")
    answer = _trickle(server, b'{"person": "1", "name": "' + b"a" * 370 + b'"}', head=head)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]


def _fifo_for_first_photo(served: dict[str, Any]) -> tuple[int, Path]:
    photos = sorted(served["photos"].glob("*.jpg"))
    first = photos[0]
    first.unlink()
    os.mkfifo(first)
    from sqlalchemy import select

    from clusterids.store.db import Photo

    with served["core"].lib.db.read() as s:
        return int(s.scalars(select(Photo.id).where(Photo.path == str(first))).one()), first


def _without_hanging(fn: Callable[[], Any], fifo: Path) -> Any:
    done: list[Any] = []
    thread = threading.Thread(target=lambda: done.append(fn()), daemon=True)
    thread.start()
    thread.join(HANG)
    if not done:  # let the blocked reader go (a writer that closes at once), so the test can end
        with open(fifo, "wb"):
            pass
        thread.join(HANG)
        raise AssertionError("the request waited on the FIFO")
    return done[0]


def test_previews_and_zips_never_open_a_fifo(served):
    client = served["client"]
    pid, fifo = _fifo_for_first_photo(served)
    preview = _without_hanging(lambda: client.get(f"/api/v1/photos/{pid}.jpg", headers=BEARER), fifo)
    assert preview.status_code == 404 and "FIFO" in preview.json()["error"]
    answer = _without_hanging(lambda: client.get("/api/v1/albums.zip", headers=BEARER), fifo)
    assert answer.status_code == 200
    names = zipfile.ZipFile(BytesIO(answer.content)).namelist()
    assert names and not any(n.endswith("photo_000.jpg") for n in names)
