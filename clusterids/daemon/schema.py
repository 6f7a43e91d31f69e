"""The API's OpenAPI description: the routes FastAPI knows, plus one path per operation with
its parameters read from the operation's own signature (the one place they are declared)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, get_type_hints

from pydantic import ConfigDict, create_model

# Parameters the process that runs an operation supplies itself, never a caller.
LOCAL = frozenset({"lib", "progress", "on_plan", "should_stop", "after_commit"})


def op_parameters(fn: Callable[..., Any]) -> dict[str, tuple[Any, Any]]:
    """Name -> (type, default) of what a caller may send to ``fn``."""
    hints = get_type_hints(fn)
    out: dict[str, tuple[Any, Any]] = {}
    for name, param in inspect.signature(fn).parameters.items():
        if name in LOCAL or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        default = ... if param.default is param.empty else param.default
        out[name] = (hints.get(name, Any), default)
    return out


def openapi(base: dict[str, Any], ops: Mapping[str, Callable[..., Any]]) -> dict[str, Any]:
    """``base`` (FastAPI's schema) with ``POST /api/v1/ops/{name}`` spelled out for each op."""
    schema = dict(base)
    paths = dict(schema.get("paths", {}))
    paths.pop("/api/v1/ops/{op}", None)
    components = dict(schema.get("components", {}))
    models = dict(components.get("schemas", {}))
    for name, fn in sorted(ops.items()):
        open_ended = any(p.kind is p.VAR_KEYWORD for p in inspect.signature(fn).parameters.values())
        config = ConfigDict(extra="allow" if open_ended else "forbid")  # correct(action, **its arguments)
        model = create_model(f"{name}_params", __config__=config,  # type: ignore[call-overload]
                             **op_parameters(fn))
        body = model.model_json_schema(ref_template="#/components/schemas/{model}")
        models.update(body.pop("$defs", {}))
        models[body["title"]] = body
        paths[f"/api/v1/ops/{name}"] = {"post": {
            "summary": (inspect.getdoc(fn) or name).split("\n\n")[0].replace("\n", " "),
            "operationId": f"op_{name}",
            "security": [{"token": []}],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{body['title']}"}}}},
            "responses": {
                "200": {"description": "the operation's result, as plain JSON"},
                "400": {"description": "a user error: {error, hint}"},
                "401": {"description": "missing or wrong token"},
                "404": {"description": "a person, face or photo that does not exist: {error, hint}"},
                "500": {"description": "an unexpected error: {error, hint} naming its incident in daemon.log"},
            },
        }}
    components["schemas"] = models
    components["securitySchemes"] = {"token": {"type": "http", "scheme": "bearer",
                                               "description": "the contents of <library>/api.token"}}
    schema["paths"] = paths
    schema["components"] = components
    return schema
