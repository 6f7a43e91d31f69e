"""What a request must pass before any operation sees it: a loopback Host, the page's own
Origin for state-changing requests, a body within its limit, and the token."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse

LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
COOKIE = "clusterids_token"


def host_name(host: str) -> str:
    """The name part of a Host header value (``[::1]:8080`` -> ``[::1]``)."""
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def origin_refusal(request: Request) -> str | None:
    """Why a request must be refused before its token is even looked at, or None. The Host
    must be a loopback name (a DNS-rebinding page sends its own name). A state-changing
    request must come from this very origin: SameSite counts every port of 127.0.0.1 as one
    site, so another local page could otherwise post with the cookie. The CLI (a Bearer
    token, no Origin) is let through; a browser always sends an Origin on a POST."""
    host = request.headers.get("host", "")
    if host_name(host).lower() not in LOOPBACK:
        return f"the Host {host!r} is not this computer's loopback address"
    if request.method in SAFE_METHODS:
        return None
    origin = request.headers.get("origin")
    if origin is None:
        by_cookie = COOKIE in request.cookies and not request.headers.get("authorization")
        return "a state-changing request with the cookie but without an Origin" if by_cookie else None
    if origin != f"http://{host}":
        return f"a state-changing request from another origin ({origin})"
    return None


class PayloadTooLarge(Exception):
    pass


class BodyLimit:
    """Refuse a request body past ``limit`` bytes while it streams in: by its Content-Length
    at once, or on the chunk that crosses the limit, so nothing past it is ever spooled."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Any], send: Callable[[Any], Any]) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limit:
            await self._refuse(send)
            return
        seen = 0
        started = exceeded = False

        async def counted() -> Any:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    exceeded = True
                    raise PayloadTooLarge
            return message

        async def watched(message: Any) -> None:
            nonlocal started
            if exceeded:  # the form parser turned our refusal into its own 400: say what it was
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await self._refuse(send)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except PayloadTooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Callable[[Any], Any]) -> None:
        mb = self.limit // 2**20
        response = JSONResponse({"error": f"the upload is larger than {mb} MB",
                                 "hint": f"send photos of at most {mb} MB, a few at a time"}, status_code=413)
        await send({"type": "http.response.start", "status": 413, "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body})


def authorize(request: Request, token: str) -> None:
    """The token, as ``Authorization: Bearer`` (scripts, the CLI) or as the page's cookie."""
    header = request.headers.get("authorization", "")
    given = header[7:] if header.lower().startswith("bearer ") else request.cookies.get(COOKIE, "")
    if not given or not secrets.compare_digest(given, token):
        raise HTTPException(status_code=401, detail="missing or wrong token")
