"""The daemon's local HTTP API: every service operation, behind a bearer token, loopback only."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from ..errors import NotFound, UserError

Runner = Callable[[str, dict[str, Any]], Any]


def make_app(token: str, run: Runner) -> FastAPI:
    """``run(op, kwargs)`` performs one operation on the library (the daemon serializes them)."""
    app = FastAPI(title="ClusterIdentities", docs_url=None, redoc_url=None, openapi_url=None)

    def authorized(request: Request) -> None:
        header = request.headers.get("authorization", "")
        given = header[7:] if header.lower().startswith("bearer ") else request.cookies.get("clusterids_token", "")
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

    return app
