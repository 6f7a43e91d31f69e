"""The daemon's local HTTP API and web page, loopback only, behind a token.

The API is generated from the core's operations (core/operations.py): one route each,
``GET /api/v1/<controller>/<operation>`` with query parameters for an operation that only
reads, ``POST`` with a JSON body for the others, their parameters and results taken from the
controllers' signatures, so FastAPI validates every request and writes the OpenAPI schema. The
routes never touch the store: they hand each call to the daemon's runner (reads on their own
connection, writes to the one writer). A few routes serve files to the page (face crops,
previews, zips, uploads), also through the controllers.

Scripts and the CLI send the token as ``Authorization: Bearer``; the browser gets it as an
HttpOnly, SameSite=Strict cookie from a one-time login link (``clusterids ui``).
"""

from __future__ import annotations

import inspect
import logging
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Protocol, TypeVar

from fastapi import Depends, FastAPI, File, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, StreamingResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, create_model
from starlette.exceptions import HTTPException

from .. import __version__
from ..core import operations
from ..core.operations import Operation
from ..errors import NotFound, UserError
from .events import Changes
from .guard import COOKIE, BodyLimit, authorize, origin_refusal

if TYPE_CHECKING:
    from ..core import Core

T = TypeVar("T")
log = logging.getLogger("clusterids.daemon")
MAX_ID = 2**63 - 1  # ids are 64-bit: anything larger names nothing (and must not reach SQL)
LOGIN_CODE_SECONDS = 120


class Runner(Protocol):
    """How the daemon runs what the routes ask for, and what it publishes after its writes."""

    changes: Changes

    def call(self, op: Operation, kwargs: dict[str, Any]) -> Any: ...
    def write(self, fn: Callable[[Core], T]) -> T: ...  # on the one writer, in its turn
    def read(self, fn: Callable[[Core], T]) -> T: ...  # here, on a connection of its own


class Direct:
    """A runner that calls the core at once on the calling thread (tests, scripts): the same
    routes as the daemon's, without its writer thread."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.changes = Changes()

    def call(self, op: Operation, kwargs: dict[str, Any]) -> Any:
        result = self.core.call(op, kwargs)
        if not op.flags.reads_only:
            self.changes.note(result)
        return result

    def write(self, fn: Callable[[Core], T]) -> T:
        return fn(self.core)

    read = write


class ErrorBody(BaseModel):
    error: str
    hint: str


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "a user error: what, and what to do"},
    401: {"model": ErrorBody, "description": "missing or wrong token"},
    403: {"model": ErrorBody, "description": "a foreign Host or Origin"},
    404: {"model": ErrorBody, "description": "a person, face or photo that does not exist"},
    405: {"model": ErrorBody, "description": "a method the path does not take (Allow lists those it does)"},
    408: {"model": ErrorBody, "description": "a request body that did not arrive in time"},
    413: {"model": ErrorBody, "description": "a body larger than the operation takes (1 MiB of JSON)"},
    422: {"model": ErrorBody, "description": "a parameter of the wrong type, missing or unknown: the field named"},
    500: {"model": ErrorBody, "description": "an unexpected error, named by its incident in the daemon's log"},
}


def valid_id(value: str | int, what: str) -> int:
    """An id from a URL: a positive 64-bit integer in ASCII digits, else 404 (not a 500)."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= MAX_ID:
        raise NotFound(f"there is no {what} {text[:40]!r}", f"a {what} id is a positive whole number")
    return int(text)


def make_app(token: str, runner: Runner, max_body: int = 0) -> FastAPI:
    """The API and the page. ``max_body``: the largest request body in bytes (0: the upload limit)."""
    from ..media.inbox import MAX_UPLOAD

    app = FastAPI(title="ClusterIdentities", version=__version__, docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(BodyLimit, limit=max_body or MAX_UPLOAD + 2**20)  # one photo at the limit, with its form
    codes: dict[str, float] = {}

    @app.middleware("http")
    async def same_origin(request: Request, call_next: Callable[[Request], Any]) -> Any:
        refused = origin_refusal(request)
        if refused is not None:
            return JSONResponse({"error": refused, "hint": "open the page through 'clusterids ui'"}, status_code=403)
        wrong = _off_schema(app, request)
        if wrong is not None:
            return wrong
        try:
            return await call_next(request)
        except Exception as exc:  # noqa: BLE001 - the one place an unexpected error becomes a line
            return _unexpected(request, exc)

    _errors(app)

    def authorized(request: Request) -> None:
        authorize(request, token)

    auth = [Depends(authorized)]
    for op in operations.every():
        _route(app, op, runner, auth)

    @app.get("/api/v1/health", dependencies=auth, responses=ERRORS)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/v1/openapi.json", dependencies=auth, include_in_schema=False)
    def openapi_json() -> dict[str, Any]:
        schema = app.openapi()
        schema.setdefault("components", {})["securitySchemes"] = {
            "token": {"type": "http", "scheme": "bearer", "description": "the contents of <library>/api.token"}}
        schema["security"] = [{"token": []}]
        return schema

    @app.post("/api/v1/login-code", dependencies=auth, responses=ERRORS)
    def login_code() -> dict[str, str]:
        code = secrets.token_urlsafe(24)
        codes[code] = time.monotonic() + LOGIN_CODE_SECONDS
        return {"code": code}

    @app.get("/login", include_in_schema=False)
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

    _file_routes(app, runner, auth)
    static = resources.files("clusterids.web") / "static"
    app.mount("/", StaticFiles(directory=str(static), html=True), name="page")
    return app


def _errors(app: FastAPI) -> None:
    """Every error a route can meet becomes {error, hint} with its status, here and only here."""

    @app.exception_handler(UserError)
    async def user_error(_request: Request, exc: UserError) -> JSONResponse:
        code = 404 if isinstance(exc, NotFound) else 400
        return JSONResponse({"error": exc.what, "hint": exc.hint}, status_code=code)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        field = ".".join(str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path"))
        what = f"{request.url.path}: {field + ': ' if field else ''}{first.get('msg', 'invalid')}".replace("\n", " ")
        return JSONResponse({"error": what[:300], "hint": "see /api/v1/openapi.json for what the operation takes"},
                            status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        hint = {401: "send the token of <library>/api.token", 404: "see /api/v1/openapi.json",
                405: "see /api/v1/openapi.json for the methods of each path"}.get(exc.status_code, "")
        return JSONResponse({"error": str(exc.detail), "hint": hint}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))


def _api_routes(app: FastAPI) -> list[tuple[APIRoute, frozenset[str]]]:
    """Each API route with the query parameters it takes (its dependencies' included)."""
    found: list[tuple[APIRoute, frozenset[str]]] = app.state.__dict__.setdefault("api_routes", [])
    if not found:
        for route in app.router.routes:
            if isinstance(route, APIRoute):
                found.append((route, frozenset(_query_names(route.dependant))))
    return found


def _query_names(dependant: Any) -> set[str]:
    return {p.alias for p in dependant.query_params}.union(*(_query_names(d) for d in dependant.dependencies))


def _off_schema(app: FastAPI, request: Request) -> JSONResponse | None:
    """A request the schema has no place for, answered as the schema says: a method a path does
    not take is a 405 whose Allow lists exactly the methods documented for it (the page's
    static files would otherwise answer for every /api path with their own 'GET, HEAD'), and
    a query parameter an operation does not take is a 422 naming it, as an unknown key in a
    JSON body is (i22)."""
    path = request.url.path
    if not path.startswith("/api/"):
        return None
    routes = [(route, names) for route, names in _api_routes(app) if route.path_regex.match(path)]
    if not routes:
        return None
    allowed = {m for route, _ in routes for m in route.methods or ()}
    if request.method not in allowed:
        return JSONResponse({"error": f"{path} does not take {request.method[:10]}",
                             "hint": "see /api/v1/openapi.json for the methods of each path"},
                            status_code=405, headers={"Allow": ", ".join(sorted(allowed))})
    names = next(names for route, names in routes if request.method in (route.methods or ()))
    unknown = sorted(set(request.query_params) - names)
    if unknown:
        return JSONResponse({"error": f"{path}: {unknown[0][:40]}: not a parameter of this operation",
                             "hint": "see /api/v1/openapi.json for what the operation takes"}, status_code=422)
    return None


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    """Not a UserError (a bug, a fault of the machine): the traceback goes to the daemon's log
    under an incident number, the caller gets one line that names it."""
    incident = secrets.token_hex(4)
    log.error("incident %s: %s %s failed", incident, request.method, request.url.path, exc_info=exc)
    what = f"the daemon failed on {request.url.path}: {type(exc).__name__}: {str(exc)[:200]}".rstrip(": ")
    return JSONResponse({"error": what, "hint": f"daemon.log has the details under 'incident {incident}'; "
                         "please report it if it happens again"}, status_code=500)


def _route(app: FastAPI, op: Operation, runner: Runner, auth: list[Any]) -> None:
    """One operation's route, its parameters and result from the controller's signature."""
    params = op.parameters()
    path = f"/api/v1/{op.controller}/{op.method}"
    common: dict[str, Any] = {"dependencies": auth, "responses": ERRORS, "summary": op.summary,
                              "operation_id": op.name.replace(".", "_"), "response_model": op.result_type,
                              "openapi_extra": {"x-reads-only": op.flags.reads_only}}

    if op.flags.reads_only:
        def read(**kwargs: Any) -> Any:
            return runner.call(op, kwargs)

        read.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[kind, Query()],
                              default=inspect.Parameter.empty if default is ... else default)
            for name, (kind, default) in params.items()])
        app.get(path, **common)(read)
        return
    body = create_model(op.name.replace(".", "_") + "_params",  # type: ignore[call-overload]
                        # strict: 0 is no boolean, "5" no number (JSON has types of its own)
                        __config__=ConfigDict(extra="forbid", strict=True), **params)

    def write(params: Any) -> Any:
        return runner.call(op, dict(params))

    write.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter("params", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=body)])
    app.post(path, **common)(write)


def _file_routes(app: FastAPI, runner: Runner, auth: list[Any]) -> None:
    from ..media import inbox

    cache = {"Cache-Control": "private, max-age=86400"}

    @app.get("/api/v1/faces/{face_id}.jpg", dependencies=auth, responses=ERRORS, response_class=FileResponse)
    def face_crop(face_id: str) -> FileResponse:
        fid = valid_id(face_id, "face")
        # a crop made before is served without waiting for the writer (an index run may be busy)
        path = runner.read(lambda core: core.photos.cached_face_crop(fid)) or \
            runner.write(lambda core: core.photos.face_crop(fid))
        return FileResponse(path, media_type="image/jpeg", headers=cache)

    @app.get("/api/v1/photos/{photo_id}.jpg", dependencies=auth, responses=ERRORS, response_class=FileResponse)
    def preview(photo_id: str, size: str = "") -> FileResponse:
        pid = valid_id(photo_id, "photo")
        large = size == "large"
        path = runner.read(lambda core: core.photos.cached_preview(pid, large)) or \
            runner.write(lambda core: core.photos.preview(pid, large))
        return FileResponse(path, media_type="image/jpeg", headers=cache)

    what = "server-sent events: `hello`, then `changed` after each write (what, generation)"
    stream: dict[int | str, dict[str, Any]] = {200: {"content": {"text/event-stream": {}}, "description": what}}

    @app.get("/api/v1/events", dependencies=auth, responses={**ERRORS, **stream}, response_class=StreamingResponse)
    async def events(request: Request) -> StreamingResponse:
        return StreamingResponse(runner.changes.stream(request.is_disconnected), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @app.post("/api/v1/upload", dependencies=auth, responses=ERRORS)
    def upload(files: Annotated[list[UploadFile], File(min_length=1)]) -> dict[str, list[str]]:
        saved = []  # at least one file: the schema says so, and an empty form is a 422
        for f in files:
            name, stream = f.filename or "photo.jpg", f.file
            path: Path = runner.write(lambda core: core.photos.save_upload(name, stream))  # noqa: B023
            saved.append(path.name)
        return {"saved": saved}

    @app.post("/api/v1/search", dependencies=auth, responses=ERRORS)
    def search(file: UploadFile) -> Any:
        name = inbox.safe_upload_name(file.filename or "query.jpg")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            inbox.check_photo_bytes(name, file.file)
            with path.open("wb") as out:
                shutil.copyfileobj(file.file, out)  # within the body limit: BodyLimit saw to it
            try:
                return runner.call(operations.get("photos.search"), {"photo": str(path)})
            except UserError as exc:  # name the file the user chose, not our temporary copy
                raise UserError(exc.what.replace(str(path), name), exc.hint.replace(str(path), name)) from exc

    @app.get("/api/v1/albums.zip", dependencies=auth, responses={**ERRORS, 200: {"content": {"application/zip": {}}}},
             response_class=StreamingResponse)
    def albums_zip(request: Request, person: str | None = None) -> Any:
        pid = None if person is None else valid_id(person, "person")
        try:
            chunks = runner.write(lambda core: core.photos.album_zip(pid))
        except NotFound:
            if "text/html" in request.headers.get("accept", ""):  # a link followed: back into the page
                return RedirectResponse(f"/#/person/{pid}?error=no-album", status_code=303)
            raise
        name = f"person-{pid}.zip" if pid is not None else "albums.zip"
        return StreamingResponse(chunks, media_type="application/zip",
                                 headers={"Content-Disposition": f'attachment; filename="{name}"'})
