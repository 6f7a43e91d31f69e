"""The API as an attacker would try it: other origins, other Host names, oversized and fake
uploads, ids out of range (item 9, 10, 11)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clusterids import ops
from clusterids.app import open_library
from clusterids.config import load_settings
from clusterids.daemon.api import COOKIE, make_app
from clusterids.store.library import Library

from ..conftest import lfw_people, needs_shared

BASE = "http://127.0.0.1:8765"
TOKEN = "secret-token"


@pytest.fixture
def api(flib: dict[str, Any]) -> Iterator[tuple[TestClient, Library]]:
    lib = open_library(load_settings({}, environ=flib["env"]))
    app = make_app(TOKEN, lambda op, kw: ops.get(op).plain(ops.get(op)(lib, **kw)), lambda fn: fn(lib), max_body=2**20)
    with TestClient(app, base_url=BASE) as client:
        yield client, lib
    lib.close()


BEARER = {"Authorization": f"Bearer {TOKEN}"}


@needs_shared
def test_origin_and_host_are_checked(api):
    client, _ = api
    photo = lfw_people(1)[0].read_bytes()
    files = {"files": ("a.jpg", photo, "image/jpeg")}
    client.cookies.set(COOKIE, TOKEN)
    # another local origin, with the cookie: SameSite would let it through
    other = client.post("/api/v1/ui/upload", files=files, headers={"Origin": "http://127.0.0.1:8080"})
    assert other.status_code == 403 and "another origin" in other.json()["error"]
    # a cookie without an Origin (no browser does that for a POST it may make)
    assert client.post("/api/v1/ui/upload", files=files).status_code == 403
    # a token does not make another origin acceptable
    evil = BEARER | {"Origin": "http://evil.test"}
    assert client.post("/api/v1/ops/people", json={}, headers=evil).status_code == 403
    # DNS rebinding: the page's own name in Host
    assert client.get("/api/v1/ui/people", headers={"Host": "evil.test:8765"}).status_code == 403
    # the page itself, and the CLI
    ok = client.post("/api/v1/ui/upload", files=files, headers={"Origin": BASE})
    assert ok.status_code == 200, ok.text
    client.cookies.clear()
    assert client.post("/api/v1/ops/people", json={}, headers=BEARER).status_code == 200


@needs_shared
def test_uploads_are_checked_while_they_stream(api, flib):
    client, lib = api
    inbox = flib["library"] / "inbox"
    big = b"\xff\xd8\xff" + b"\0" * (2**20 + 10)
    too_big = client.post("/api/v1/ui/upload", headers=BEARER, files={"files": ("big.jpg", big, "image/jpeg")})
    assert too_big.status_code == 413 and "larger than" in too_big.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must hold on the stream
        yield (b'--b\r\nContent-Disposition: form-data; name="file"; filename="q.jpg"\r\n'
               b"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff")
        for _ in range(40):
            yield b"x" * 65536

    streamed = client.post("/api/v1/ui/search", headers=BEARER | {"Content-Type": "multipart/form-data; boundary=b"},
                           content=chunks())
    assert streamed.status_code == 413
    fake = client.post("/api/v1/ui/upload", headers=BEARER, files={"files": ("fake.jpg", b"#!/bin/sh\n", "image/jpeg")})
    assert fake.status_code == 400 and "not a photo" in fake.json()["error"]
    gif = {"file": ("q.png", b"GIF89a....", "image/png")}
    assert client.post("/api/v1/ui/search", headers=BEARER, files=gif).status_code == 400
    assert not inbox.exists() or not any(inbox.iterdir())


@needs_shared
def test_ids_and_limits_never_500(api):
    client, _ = api
    huge = "9" * 40
    for path in (f"/api/v1/ui/person/{huge}", "/api/v1/ui/person/abc", f"/api/v1/ui/faces/{huge}.jpg",
                 "/api/v1/ui/photos/-1.jpg", f"/api/v1/ui/albums.zip?person={huge}"):
        assert client.get(path, headers=BEARER).status_code == 404, path
    for path in ("/api/v1/ui/people?limit=-1", "/api/v1/ui/people?offset=-3", f"/api/v1/ui/people?limit={huge}"):
        assert client.get(path, headers=BEARER).status_code == 422, path
    every = client.get("/api/v1/ui/people?limit=1000", headers=BEARER).json()
    assert client.post("/api/v1/ops/correct", headers=BEARER,
                       json={"action": "assign", "face_id": huge, "person": huge}).status_code == 404
    assert every is not None
