"""The daemon's local HTTP API and web page: every service operation, behind a token, loopback only.

Scripts and the CLI send the token as ``Authorization: Bearer``; the browser gets it as an
HttpOnly, SameSite=Strict cookie from a one-time login link (``clusterids ui``).
"""

from __future__ import annotations

import secrets
import tempfile
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Depends, FastAPI, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles

from ..errors import NotFound, UserError
from ..store.library import Library

T = TypeVar("T")
Runner = Callable[[str, dict[str, Any]], Any]
WithLib = Callable[[Callable[[Library], Any]], Any]
COOKIE = "clusterids_token"
LOGIN_CODE_SECONDS = 120


def make_app(token: str, run: Runner, with_lib: WithLib | None = None) -> FastAPI:
    """``run(op, kwargs)`` performs one operation; ``with_lib(fn)`` calls ``fn(library)``;
    the daemon serializes both with its one writer lock."""
    app = FastAPI(title="ClusterIdentities", docs_url=None, redoc_url=None, openapi_url=None)
    codes: dict[str, float] = {}

    def authorized(request: Request) -> None:
        header = request.headers.get("authorization", "")
        given = header[7:] if header.lower().startswith("bearer ") else request.cookies.get(COOKIE, "")
        if not given or not secrets.compare_digest(given, token):
            raise HTTPException(status_code=401, detail="missing or wrong token")

    @app.exception_handler(UserError)
    async def user_error(_request: Request, exc: UserError) -> JSONResponse:
        code = 404 if isinstance(exc, NotFound) else 400
        return JSONResponse({"error": exc.what, "hint": exc.hint}, status_code=code)

    @app.get("/api/v1/health", dependencies=[Depends(authorized)])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/v1/ops/{op}", dependencies=[Depends(authorized)])
    def operation(op: str, kwargs: dict[str, Any]) -> Any:
        return run(op, kwargs)

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
        _web_routes(app, authorized, with_lib, run)
    return app


def _web_routes(app: FastAPI, authorized: Callable[[Request], None], with_lib: WithLib, run: Runner) -> None:
    from ..web import ui

    auth = [Depends(authorized)]
    thumbs: list[Path] = []

    @app.get("/api/v1/ui/people", dependencies=auth)
    def people(hidden: bool = False, offset: int = 0, limit: int = 200, sort: str = "photos", q: str = "",
               unnamed: bool = True) -> Any:
        return with_lib(lambda lib: ui.people_page(lib, hidden, offset, min(limit, 1000), sort, q, unnamed))

    @app.get("/api/v1/ui/person/{person}", dependencies=auth)
    def person(person: str, offset: int = 0, limit: int = 300) -> Any:
        if person != "unknown" and not (person.isdigit() and len(person) < 16):
            raise NotFound(f"there is no person {person!r}", "go back to the people page")
        pid = None if person == "unknown" else int(person)
        return with_lib(lambda lib: ui.person_page(lib, pid, offset, min(limit, 2000)))

    @app.get("/api/v1/ui/photo/{photo_id}", dependencies=auth)
    def photo(photo_id: str) -> Any:
        if not (photo_id.isdigit() and len(photo_id) < 16):
            raise NotFound(f"there is no photo {photo_id!r}", "go back to the people page")
        return with_lib(lambda lib: ui.photo_view(lib, int(photo_id)))

    @app.get("/api/v1/ui/uploads", dependencies=auth)
    def uploads(names: list[str] = Query(default=[])) -> Any:  # noqa: B008
        return with_lib(lambda lib: ui.upload_states(lib, names))

    @app.get("/api/v1/ui/suggestions", dependencies=auth)
    def suggestions(person: str | None = None, limit: int = 20) -> Any:
        return run("suggest", {"person": person, "limit": min(limit, 200)})

    @app.get("/api/v1/ui/faces/{face_id}.jpg", dependencies=auth)
    def face_thumb(face_id: int) -> FileResponse:
        # a crop made before is served without waiting for the writer lock (an index run may hold it)
        if not thumbs:
            thumbs.append(with_lib(lambda lib: lib.root / ui.THUMBS))
        path = thumbs[0] / f"f{face_id}.jpg"
        if not path.is_file():
            path = with_lib(lambda lib: ui.face_thumb(lib, face_id))
        return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})

    @app.get("/api/v1/ui/photos/{photo_id}.jpg", dependencies=auth)
    def photo_thumb(photo_id: int, size: str = "") -> FileResponse:
        path = with_lib(lambda lib: ui.photo_thumb(lib, photo_id, large=size == "large"))
        return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})

    @app.post("/api/v1/ui/upload", dependencies=auth)
    def upload(files: list[UploadFile]) -> Any:
        saved = []
        for f in files:
            name, stream = f.filename or "photo.jpg", f.file
            path: Path = with_lib(lambda lib: ui.save_upload(lib, name, stream))  # noqa: B023
            saved.append(path.name)
        return {"saved": saved}

    @app.post("/api/v1/ui/search", dependencies=auth)
    def search(file: UploadFile) -> Any:
        name = ui.safe_upload_name(file.filename or "query.jpg")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            path.write_bytes(file.file.read(ui.MAX_UPLOAD + 1)[: ui.MAX_UPLOAD])
            try:
                return run("search", {"photo": str(path)})
            except UserError as exc:  # name the file the user chose, not our temporary copy
                raise UserError(exc.what.replace(str(path), name), exc.hint.replace(str(path), name)) from exc

    @app.get("/api/v1/ui/albums.zip", dependencies=auth)
    def albums_zip(request: Request, person: int | None = None) -> Any:
        try:
            chunks = with_lib(lambda lib: ui.album_zip(lib, person))
        except NotFound:
            if "text/html" in request.headers.get("accept", ""):  # a link followed: back into the page
                return RedirectResponse(f"/#/person/{person}?error=no-album", status_code=303)
            raise
        name = f"person-{person}.zip" if person is not None else "albums.zip"
        return StreamingResponse(chunks, media_type="application/zip",
                                 headers={"Content-Disposition": f'attachment; filename="{name}"'})

    static = resources.files("clusterids.web") / "static"
    app.mount("/", StaticFiles(directory=str(static), html=True), name="page")
