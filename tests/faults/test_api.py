"""The API as an attacker would try it: other origins, other Host names, oversized and fake
uploads, ids out of range (item 9, 10, 11)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clusterids.app import open_core
from clusterids.config import load_settings
from clusterids.core import Core
from clusterids.daemon.guard import COOKIE
from clusterids.daemon.http import Direct, make_app

from ..conftest import lfw_people, needs_shared

BASE = "http://127.0.0.1:8765"
TOKEN = "secret-token"


@pytest.fixture
def api(flib: dict[str, Any]) -> Iterator[tuple[TestClient, Core]]:
    with open_core(load_settings({}, environ=flib["env"])) as core, \
            TestClient(make_app(TOKEN, Direct(core), max_body=2**20), base_url=BASE) as client:
        yield client, core


BEARER = {"Authorization": f"Bearer {TOKEN}"}


@needs_shared
def test_origin_and_host_are_checked(api):
    client, _ = api
    photo = lfw_people(1)[0].read_bytes()
    files = {"files": ("a.jpg", photo, "image/jpeg")}
    client.cookies.set(COOKIE, TOKEN)
    # another local origin, with the cookie: SameSite would let it through
    other = client.post("/api/v1/upload", files=files, headers={"Origin": "http://127.0.0.1:8080"})
    assert other.status_code == 403 and "another origin" in other.json()["error"]
    # a cookie without an Origin (no browser does that for a POST it may make)
    assert client.post("/api/v1/upload", files=files).status_code == 403
    # a token does not make another origin acceptable
    evil = BEARER | {"Origin": "http://evil.test"}
    assert client.post("/api/v1/people/recluster", json={}, headers=evil).status_code == 403
    # DNS rebinding: the page's own name in Host
    assert client.get("/api/v1/people/page", headers={"Host": "evil.test:8765"}).status_code == 403
    # the page itself, and the CLI
    ok = client.post("/api/v1/upload", files=files, headers={"Origin": BASE})
    assert ok.status_code == 200, ok.text
    client.cookies.clear()
    assert client.post("/api/v1/people/recluster", json={}, headers=BEARER).status_code == 200


@needs_shared
def test_uploads_are_checked_while_they_stream(api, flib):
    client, lib = api
    inbox = flib["library"] / "inbox"
    big = b"\xff\xd8\xff" + b"\0" * (2**20 + 10)
    too_big = client.post("/api/v1/upload", headers=BEARER, files={"files": ("big.jpg", big, "image/jpeg")})
    assert too_big.status_code == 413 and "larger than" in too_big.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must hold on the stream
        yield (b'--b\r\nContent-Disposition: form-data; name="file"; filename="q.jpg"\r\n'
               b"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff")
        for _ in range(40):
            yield b"x" * 65536

    streamed = client.post("/api/v1/search", headers=BEARER | {"Content-Type": "multipart/form-data; boundary=b"},
                           content=chunks())
    assert streamed.status_code == 413
    fake = client.post("/api/v1/upload", headers=BEARER, files={"files": ("fake.jpg", b"#!/bin/sh\n", "image/jpeg")})
    assert fake.status_code == 400 and "not a photo" in fake.json()["error"]
    gif = {"file": ("q.png", b"GIF89a....", "image/png")}
    assert client.post("/api/v1/search", headers=BEARER, files=gif).status_code == 400
    assert not inbox.exists() or not any(inbox.iterdir())


@needs_shared
def test_ids_and_limits_never_500(api):
    client, _ = api
    huge = "9" * 40
    for path in (f"/api/v1/people/person?person={huge}", "/api/v1/people/person?person=abc",
                 f"/api/v1/faces/{huge}.jpg", "/api/v1/photos/-1.jpg", f"/api/v1/albums.zip?person={huge}"):
        assert client.get(path, headers=BEARER).status_code == 404, path
    for path in ("/api/v1/people/page?limit=-1", "/api/v1/people/page?offset=-3", "/api/v1/people/page?limit=x"):
        assert client.get(path, headers=BEARER).status_code == 422, path
    every = client.get("/api/v1/people/page?limit=1000", headers=BEARER).json()
    assert client.post("/api/v1/people/assign", headers=BEARER,
                       json={"face_ids": [int(huge)], "person": huge}).status_code == 404
    assert every is not None
