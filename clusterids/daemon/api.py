"""The daemon's local HTTP API and web page: every service operation, behind a token, loopback only.

Scripts and the CLI send the token as ``Authorization: Bearer``; the browser gets it as an
HttpOnly, SameSite=Strict cookie from a one-time login link (``clusterids ui``).
"""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Depends, FastAPI, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles

from ..errors import NotFound, UserError
from ..ops import Op
from ..store.library import Library

T = TypeVar("T")
log = logging.getLogger("clusterids.daemon")
LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_ID = 2**63 - 1  # ids are 64-bit: anything larger names nothing (and must not reach SQL)
Runner = Callable[[str, dict[str, Any]], Any]
WithLib = Callable[[Callable[[Library], Any]], Any]
COOKIE = "clusterids_token"
LOGIN_CODE_SECONDS = 120


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


def valid_id(value: str | int, what: str) -> int:
    """An id from a URL or a request: a positive 64-bit integer, else 404 (not a 500)."""
    text = str(value).strip()
    if not text.isdigit() or not 0 < int(text) <= MAX_ID:
        raise NotFound(f"there is no {what} {text[:40]!r}", f"a {what} id is a positive whole number")
    return int(text)


def make_app(token: str, run: Runner, with_lib: WithLib | None = None, max_body: int = 0,
             ops: Iterable[Op] | None = None, read_lib: WithLib | None = None) -> FastAPI:
    """``run(op, kwargs)`` performs one operation; ``with_lib(fn)`` calls ``fn(library)``;
    the daemon runs both on its one writer, through a queue. ``max_body``: the largest request
    body in bytes (0: the upload limit). ``ops``: the operations the OpenAPI schema describes
    (default: the whole registry). ``read_lib`` is ``with_lib`` for calls that only
    read the database, which need not wait for the writer (default: ``with_lib``)."""
    from ..media.inbox import MAX_UPLOAD

    max_body = max_body or MAX_UPLOAD + 2**20  # one photo at the limit, with its form around it
    app = FastAPI(title="ClusterIdentities", docs_url=None, redoc_url=None, openapi_url=None)
    codes: dict[str, float] = {}
    app.add_middleware(BodyLimit, limit=max_body)

    @app.middleware("http")
    async def same_origin(request: Request, call_next: Callable[[Request], Any]) -> Any:
        refused = origin_refusal(request)
        if refused is not None:
            return JSONResponse({"error": refused, "hint": "open the page through 'clusterids ui'"},
                                status_code=403)
        try:
            return await call_next(request)
        except Exception as exc:  # noqa: BLE001 - the one place an unexpected error becomes a line
            return unexpected(request, exc)

    def authorized(request: Request) -> None:
        header = request.headers.get("authorization", "")
        given = header[7:] if header.lower().startswith("bearer ") else request.cookies.get(COOKIE, "")
        if not given or not secrets.compare_digest(given, token):
            raise HTTPException(status_code=401, detail="missing or wrong token")

    def unexpected(request: Request, exc: Exception) -> JSONResponse:
        """Not a UserError (a bug, a fault of the machine): the traceback goes to the daemon's
        log under an incident number, the caller gets one line that names it."""
        incident = secrets.token_hex(4)
        log.error("incident %s: %s %s failed", incident, request.method, request.url.path, exc_info=exc)
        what = f"the daemon failed on {request.url.path}: {type(exc).__name__}: {str(exc)[:200]}".rstrip(": ")
        return JSONResponse({"error": what, "hint": f"daemon.log has the details under 'incident {incident}'; "
                             "please report it if it happens again"}, status_code=500)

    @app.exception_handler(UserError)
    async def user_error(_request: Request, exc: UserError) -> JSONResponse:
        code = 404 if isinstance(exc, NotFound) else 400
        return JSONResponse({"error": exc.what, "hint": exc.hint}, status_code=code)

    @app.get("/api/v1/health", dependencies=[Depends(authorized)])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/v1/ops/{op}", dependencies=[Depends(authorized)])
    def operation(op: str, kwargs: dict[str, Any]) -> JSONResponse:
        return JSONResponse(run(op, kwargs))  # plain data already (Op.plain): no second encoding pass

    @app.get("/api/v1/openapi.json", dependencies=[Depends(authorized)], include_in_schema=False)
    def openapi_json() -> dict[str, Any]:
        from ..ops import REGISTRY
        from .schema import openapi

        return openapi(app.openapi(), REGISTRY.values() if ops is None else ops)

    @app.post("/api/v1/login-code", dependencies=[Depends(authorized)])
    def login_code() -> dict[str, str]:
        code = secrets.token_urlsafe(24)
        codes[code] = time.monotonic() + LOGIN_CODE_SECONDS
        return {"code": code}

    @app.get("/login")
    def login(request: Request, code: str = "") -> Any:
        expires = codes.pop(code, 0.0)  # one use only
        if time.monotonic() > expires:
            if "text/html" in request.headers.get("accept", ""):  # a browser: stay in the page, which says so
                return RedirectResponse("/#/login-expired", status_code=303)
            return JSONResponse({"error": "this login link is used or expired",
                                 "hint": "run 'clusterids ui' again"}, status_code=401)
        resp = RedirectResponse("/", status_code=303)
        resp.set_cookie(COOKIE, token, httponly=True, samesite="strict")
        return resp

    if with_lib is not None:
        _web_routes(app, authorized, with_lib, run, read_lib or with_lib)
    return app


def _web_routes(app: FastAPI, authorized: Callable[[Request], None], with_lib: WithLib, run: Runner,
                read_lib: WithLib) -> None:
    from ..media import inbox, thumbs, zips
    from ..web import ui

    auth = [Depends(authorized)]
    thumb_dir: list[Path] = []

    @app.get("/api/v1/ui/people", dependencies=auth)
    def people(hidden: bool = False, offset: int = Query(0, ge=0, le=MAX_ID),
               limit: int = Query(200, ge=0, le=MAX_ID), sort: str = "photos", q: str = "",
               unnamed: bool = True) -> Any:
        return read_lib(lambda lib: ui.people_page(lib, hidden, offset, min(limit, 1000), sort, q, unnamed))

    @app.get("/api/v1/ui/person/{person}", dependencies=auth)
    def person(person: str, offset: int = Query(0, ge=0, le=MAX_ID), limit: int = Query(300, ge=0, le=MAX_ID)) -> Any:
        pid = None if person == "unknown" else valid_id(person, "person")
        return read_lib(lambda lib: ui.person_page(lib, pid, offset, min(limit, 2000)))

    @app.get("/api/v1/ui/photo/{photo_id}", dependencies=auth)
    def photo(photo_id: str) -> Any:
        if not (photo_id.isdigit() and len(photo_id) < 16):
            raise NotFound(f"there is no photo {photo_id!r}", "go back to the people page")
        return read_lib(lambda lib: ui.photo_view(lib, int(photo_id)))

    @app.get("/api/v1/ui/uploads", dependencies=auth)
    def uploads(names: list[str] = Query(default=[])) -> Any:  # noqa: B008
        return read_lib(lambda lib: ui.upload_states(lib, names))

    @app.get("/api/v1/ui/suggestions", dependencies=auth)
    def suggestions(person: str | None = None, limit: int = 20) -> Any:
        return run("suggest", {"person": person, "limit": min(limit, 200)})

    @app.get("/api/v1/ui/faces/{face_id}.jpg", dependencies=auth)
    def face_thumb(face_id: str) -> FileResponse:
        fid = valid_id(face_id, "face")
        # a crop made before is served without waiting for the writer (an index run may be busy)
        if not thumb_dir:
            thumb_dir.append(read_lib(lambda lib: lib.root / thumbs.THUMBS))
        path = thumb_dir[0] / f"f{fid}.jpg"
        if not path.is_file():
            path = with_lib(lambda lib: thumbs.face_thumb(lib, fid))
        return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})

    @app.get("/api/v1/ui/photos/{photo_id}.jpg", dependencies=auth)
    def photo_thumb(photo_id: str, size: str = "") -> FileResponse:
        pid = valid_id(photo_id, "photo")
        path = with_lib(lambda lib: thumbs.photo_thumb(lib, pid, large=size == "large"))
        return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})

    @app.post("/api/v1/ui/upload", dependencies=auth)
    def upload(files: list[UploadFile]) -> Any:
        saved = []
        for f in files:
            name, stream = f.filename or "photo.jpg", f.file
            path: Path = with_lib(lambda lib: inbox.save_upload(lib, name, stream))  # noqa: B023
            saved.append(path.name)
        return {"saved": saved}

    @app.post("/api/v1/ui/search", dependencies=auth)
    def search(file: UploadFile) -> Any:
        name = inbox.safe_upload_name(file.filename or "query.jpg")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            inbox.check_photo_bytes(name, file.file)
            with path.open("wb") as out:
                shutil.copyfileobj(file.file, out)  # within the body limit: BodyLimit saw to it
            try:
                return run("search", {"photo": str(path)})
            except UserError as exc:  # name the file the user chose, not our temporary copy
                raise UserError(exc.what.replace(str(path), name), exc.hint.replace(str(path), name)) from exc

    @app.get("/api/v1/ui/albums.zip", dependencies=auth)
    def albums_zip(request: Request, person: str | None = None) -> Any:
        pid = None if person is None else valid_id(person, "person")
        try:
            chunks = with_lib(lambda lib: zips.album_zip(lib, pid))
        except NotFound:
            if "text/html" in request.headers.get("accept", ""):  # a link followed: back into the page
                return RedirectResponse(f"/#/person/{pid}?error=no-album", status_code=303)
            raise
        name = f"person-{pid}.zip" if pid is not None else "albums.zip"
        return StreamingResponse(chunks, media_type="application/zip",
                                 headers={"Content-Disposition": f'attachment; filename="{name}"'})

    static = resources.files("clusterids.web") / "static"
    app.mount("/", StaticFiles(directory=str(static), html=True), name="page")
