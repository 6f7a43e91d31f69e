"""What a request must pass before any operation sees it: a loopback Host, the page's own
origin (the daemon's own port) for every request that carries the cookie, a body within its
limit, and the token."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse
from uvicorn.protocols.http.h11_impl import H11Protocol

LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
COOKIE = "clusterids_token"
JSON_LIMIT = 2**20  # an operation's JSON body: its largest (a list of face ids) is far below
UPLOAD_PATHS = frozenset({"/api/v1/upload", "/api/v1/search"})  # photos: the larger upload limit
BODY_SECONDS = 60.0  # a whole body, however it trickles in (201 MiB on loopback take about a second)
HEAD_SECONDS = 10.0  # a request's head, from the connection or the end of the last answer


def host_name(host: str) -> str:
    """The name part of a Host header value (``[::1]:8080`` -> ``[::1]``)."""
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def own_origins(request: Request) -> frozenset[str]:
    """The origins of the page this daemon serves: its own listening port (the socket's, from
    the ASGI scope, never the request's Host header) under each loopback name."""
    server = request.scope.get("server") or ("127.0.0.1", None)
    port = server[1]
    return frozenset(f"http://{name}:{port}" if port else f"http://{name}" for name in LOOPBACK)


# what a browser says of the page that made a request: only the page itself, or the user
# (a typed address, a bookmark, the link `clusterids ui` opens) may use the cookie
OWN_FETCH_SITES = frozenset({"same-origin", "none"})


def origin_refusal(request: Request) -> str | None:
    """Why a request must be refused before its token is even looked at, or None. The Host
    must be a loopback name (a DNS-rebinding page sends its own name). A request that carries
    the cookie, a GET included, must come from this very origin: SameSite counts every port of
    127.0.0.1 as one site, so a page on another local port could otherwise post, or load
    thumbnails, with it. The Origin and Sec-Fetch-Site are checked against the daemon's own
    port; the Host header is the requester's to choose. The CLI (a Bearer token, no cookie, no
    Origin) is let through; a browser always sends an Origin on a POST."""
    host = request.headers.get("host", "")
    if host_name(host).lower() not in LOOPBACK:
        return f"the Host {host!r} is not this computer's loopback address"
    origin = request.headers.get("origin")
    if origin is not None and origin.lower() not in own_origins(request):
        return f"a request from another origin ({origin[:100]})"
    if COOKIE not in request.cookies:
        return None
    site = request.headers.get("sec-fetch-site")
    if site is not None and site.lower() not in OWN_FETCH_SITES:
        return f"a request with the cookie from another page ({site[:40]})"
    if origin is None and request.method not in SAFE_METHODS and not request.headers.get("authorization"):
        return "a state-changing request with the cookie but without an Origin"
    return None


class BodyRefused(Exception):
    """The request's body is refused midway: past its limit (413) or too slow to arrive (408)."""


class BodyLimit:
    """Refuse a request body past its limit while it streams in: by its Content-Length at once,
    or on the chunk that crosses the limit, so nothing past it is ever spooled. The limit is
    ``limit`` for the uploads of photos, 1 MiB (JSON_LIMIT) for everything else; a body that
    is not all in after ``seconds`` is refused too (408), so a slow client holds nothing."""

    def __init__(self, app: Any, limit: int, seconds: float | None = None) -> None:
        self.app = app
        self.limit = limit
        self.seconds = BODY_SECONDS if seconds is None else seconds

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Any], send: Callable[[Any], Any]) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self.limit if scope.get("path") in UPLOAD_PATHS else min(self.limit, JSON_LIMIT)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            await self._refuse(send, limit)
            return
        seen = 0
        started = False
        refusal: int | None = None
        deadline = time.monotonic() + self.seconds

        async def counted() -> Any:
            nonlocal seen, refusal
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                refusal = 408
                raise BodyRefused from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    refusal = 413
                    raise BodyRefused
            return message

        async def watched(message: Any) -> None:
            nonlocal started
            if refusal is not None:  # the form parser turned our refusal into its own 400: say what it was
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await self._refuse(send, limit, refusal)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyRefused:
            if not started:
                await self._refuse(send, limit, refusal or 413)

    async def _refuse(self, send: Callable[[Any], Any], limit: int, status: int = 413) -> None:
        mb = max(1, limit // 2**20)
        if status == 408:
            body = {"error": f"the request body did not arrive within {self.seconds:g} s",
                    "hint": "send the whole request at once"}
        elif limit > JSON_LIMIT:
            body = {"error": f"the upload is larger than {mb} MB",
                    "hint": f"send photos of at most {mb} MB, a few at a time"}
        else:
            body = {"error": f"the request body is larger than {mb} MB",
                    "hint": "an operation takes at most 1 MB of JSON"}
        response = JSONResponse(body, status_code=status, headers={"Connection": "close"} if status == 408 else None)
        await send({"type": "http.response.start", "status": status, "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body})


class HeadDeadline(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing a connection whose request head (the request line
    and headers) is not all in within ``head_seconds`` of its opening or of the last answer:
    uvicorn's keep-alive timer is armed only after an answer and reset by every byte, so a
    client that sends one byte a second would hold the connection forever."""

    head_seconds = HEAD_SECONDS

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_timer: asyncio.TimerHandle | None = None
        self._arm_head()

    def _arm_head(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_seconds, self._head_late)

    def _waiting_for_head(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def data_received(self, data: bytes) -> None:
        before = self.cycle
        super().data_received(data)
        if self.cycle is not before and self._head_timer is not None:  # a whole head came in
            self._head_timer.cancel()
            self._head_timer = None

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_head()

    def _head_late(self) -> None:
        self._head_timer = None
        if self._waiting_for_head() and not self.transport.is_closing():
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().connection_lost(exc)


def authorize(request: Request, token: str) -> None:
    """The token, as ``Authorization: Bearer`` (scripts, the CLI) or as the page's cookie."""
    header = request.headers.get("authorization", "")
    given = header[7:] if header.lower().startswith("bearer ") else request.cookies.get(COOKIE, "")
    if not given or not secrets.compare_digest(given, token):
        raise HTTPException(status_code=401, detail="missing or wrong token")
