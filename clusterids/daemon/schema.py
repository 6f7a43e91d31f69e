"""The API's OpenAPI description: the routes FastAPI knows, plus one path per operation of the
registry (clusterids/ops.py), its parameters and result read from the operation's own
signature (the one place they are declared)."""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

from pydantic import ConfigDict, TypeAdapter, create_model

from ..ops import Op


def openapi(base: dict[str, Any], ops: Iterable[Op]) -> dict[str, Any]:
    """``base`` (FastAPI's schema) with ``POST /api/v1/ops/{name}`` spelled out for each op."""
    schema = dict(base)
    paths = dict(schema.get("paths", {}))
    paths.pop("/api/v1/ops/{op}", None)
    components = dict(schema.get("components", {}))
    models = dict(components.get("schemas", {}))
    for op in sorted(ops, key=lambda o: o.name):
        name = op.name
        config = ConfigDict(extra="allow" if op.open_ended else "forbid")  # correct(action, **its arguments)
        model = create_model(f"{name}_params", __config__=config,  # type: ignore[call-overload]
                             **op.parameters())
        body = model.model_json_schema(ref_template="#/components/schemas/{model}")
        models.update(body.pop("$defs", {}))
        models[body["title"]] = body
        paths[f"/api/v1/ops/{name}"] = {"post": {
            "summary": (inspect.getdoc(op.fn) or name).split("\n\n")[0].replace("\n", " "),
            "x-reads-only": op.reads_only,
            "operationId": f"op_{name}",
            "security": [{"token": []}],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{body['title']}"}}}},
            "responses": {
                "200": {"description": "the operation's result, as plain JSON",
                        "content": {"application/json": {"schema": _result_schema(op, models)}}},
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


def _result_schema(op: Op, models: dict[str, Any]) -> dict[str, Any]:
    """The JSON schema of the operation's declared result type."""
    body: dict[str, Any] = TypeAdapter(op.result_type).json_schema(ref_template="#/components/schemas/{model}")
    models.update(body.pop("$defs", {}))
    return body
