"""Every operation on a library, declared once.

An operation is a function of ``clusterids.service``: its signature declares its parameters
and its result type. The declaration here adds how it runs: whether it only reads the
database (then the daemon answers it on its own connection, never behind the writer),
whether it reports progress, how the library is opened for it. The CLI, the daemon, its
HTTP API and the OpenAPI schema all take operations from this registry, so none of them
branches on an operation's name.

This module imports nothing heavy: a command that a running daemon serves needs the
declarations only, and the functions load on first use.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, get_type_hints

from .errors import UserError

if TYPE_CHECKING:
    from .store.library import Library

# Parameters the process that runs an operation supplies itself, never a caller.
LOCAL = frozenset({"lib", "progress", "on_plan", "should_stop", "after_commit"})


@dataclass(frozen=True)
class Op:
    name: str
    function: str  # the name of its function in clusterids.service
    reads_only: bool = False  # answered from the database alone (no vector index, files or models)
    progress: bool = False  # takes ``progress`` and ``on_plan`` callbacks (a long run over photos)
    creates: bool = False  # may create the library it is given
    repair_on_open: bool = True  # False: open the library as it is (doctor looks before it touches;
    # a read of the database needs no repair, which is left to the next write)
    fresh_index: bool = False  # an embedded vector index that cannot be read is replaced (rebuild)
    adds_faces: bool = False  # its result's ``faces_added`` count towards the next automatic recluster
    daemon_state: bool = False  # a daemon adds its own state to the result (status)

    @property
    def fn(self) -> Callable[..., Any]:
        return _function(self.function)

    def parameters(self) -> dict[str, tuple[Any, Any]]:
        """Name -> (type, default) of what a caller may send; ``...`` marks a required one."""
        hints = get_type_hints(self.fn)
        out: dict[str, tuple[Any, Any]] = {}
        for name, param in inspect.signature(self.fn).parameters.items():
            if name in LOCAL or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            out[name] = (hints.get(name, Any), ... if param.default is param.empty else param.default)
        return out

    @property
    def result_type(self) -> Any:
        """The result's type, as the function declares it."""
        return get_type_hints(self.fn).get("return", Any)

    @property
    def open_ended(self) -> bool:
        """Whether it takes further named arguments of its own (``correct``: the correction's)."""
        return any(p.kind is p.VAR_KEYWORD for p in inspect.signature(self.fn).parameters.values())

    def check(self, kwargs: dict[str, Any]) -> None:
        """Refuse arguments the operation does not take, before anything runs."""
        try:
            inspect.signature(self.fn).bind(None, **kwargs)
        except TypeError as exc:
            raise UserError(f"wrong arguments for {self.name!r}: {exc}", "update the clusterids command") from exc
        unknown = LOCAL & kwargs.keys()
        if unknown:
            raise UserError(f"wrong arguments for {self.name!r}: {', '.join(sorted(unknown))} cannot be sent",
                            "update the clusterids command")

    def __call__(self, lib: Library, **kwargs: Any) -> Any:
        return self.fn(lib, **kwargs)

    def plain(self, result: Any) -> Any:
        """The result as plain JSON data, by its declared type: the same in this process as
        through the daemon's API."""
        return _adapter(self).dump_python(result, mode="json")


@functools.cache
def _function(name: str) -> Callable[..., Any]:
    fn: Callable[..., Any] = getattr(importlib.import_module("clusterids.service"), name)
    return fn


@functools.cache
def _adapter(op: Op) -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(op.result_type)


INDEX = Op("index", "index", progress=True, creates=True, adds_faces=True)
STATUS = Op("status", "status", daemon_state=True)
REBUILD_INDEX = Op("rebuild_index", "rebuild_index", fresh_index=True)
DOCTOR = Op("doctor", "check", repair_on_open=False)
REINDEX = Op("reindex", "reindex", progress=True)
RECLUSTER = Op("recluster", "recluster")
CORRECT = Op("correct", "correct")
PEOPLE = Op("people", "list_people", reads_only=True, repair_on_open=False)
FACES = Op("faces", "list_faces", reads_only=True, repair_on_open=False)
PHOTOS = Op("photos", "list_photos", reads_only=True, repair_on_open=False)
SEARCH = Op("search", "search")
SUGGEST = Op("suggest", "suggest")
ALBUMS = Op("albums", "sync_albums")

REGISTRY: dict[str, Op] = {op.name: op for op in (
    INDEX, STATUS, REBUILD_INDEX, DOCTOR, REINDEX, RECLUSTER, CORRECT, PEOPLE, FACES, PHOTOS, SEARCH, SUGGEST,
    ALBUMS)}


def get(name: str) -> Op:
    """The operation called ``name``; a caller from another version gets one clear line."""
    op = REGISTRY.get(name)
    if op is None:
        raise UserError(f"unknown operation {name!r}", "update the clusterids command")
    return op
