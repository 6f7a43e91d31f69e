"""Every operation declared once: a method of a controller, marked ``@operation``.

Its signature declares its parameters and its result (core/results.py); the mark adds how it
runs: whether it only reads the database (then the daemon answers it on its own connection,
never behind the writer), whether it may create the library, whether the library is brought in
step at open (doctor looks before it touches), whether it is a long run that reports progress.
The CLI calls the controllers through this registry, in this process or through the daemon;
the daemon's HTTP routes and their OpenAPI schema are generated from it (daemon/http.py). No
caller branches on an operation's name.

This module and the controllers' modules import nothing heavy at the top: a command that a
running daemon serves needs the declarations only.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, get_args, get_type_hints

from annotated_types import Ge, MaxLen

from ..errors import UserError

Count = Annotated[int, Ge(0)]  # a limit or an offset: never negative
MAX_NAME = 200
Name = Annotated[str, MaxLen(MAX_NAME)]  # a person's name
PersonRef = Annotated[str, MaxLen(MAX_NAME)]  # a person: an id (ASCII digits) or a name

F = TypeVar("F", bound=Callable[..., Any])
# controller name -> the module and class that hold its operations
CONTROLLERS = {
    "library": ("clusterids.core.library", "LibraryController"),
    "people": ("clusterids.core.people", "PeopleController"),
    "photos": ("clusterids.core.photos", "PhotosController"),
    "metadata": ("clusterids.core.metadata", "MetadataController"),  # i20
    "backups": ("clusterids.core.backups", "BackupsController"),  # i22
    "unknown": ("clusterids.core.unknown", "UnknownController"),  # i18: the unknown page
}


@dataclass(frozen=True)
class Flags:
    reads_only: bool = False  # answered from the database alone (no vector index, files or models)
    creates: bool = False  # may create the library it is given
    catch_up: bool = True  # bring the library in step when it is opened (doctor looks first)
    fresh_index: bool = False  # an embedded vector index that cannot be read is replaced (rebuild)
    long: bool = False  # a long run over photos: it reports progress
    offline: bool = False  # runs before the library is opened (it replaces the database): never in a daemon


def operation(reads_only: bool = False, creates: bool = False, catch_up: bool = True, fresh_index: bool = False,
              long: bool = False, offline: bool = False) -> Callable[[F], F]:
    """Declare a controller method an operation (see the module docstring)."""
    flags = Flags(reads_only, creates, catch_up and not reads_only, fresh_index, long, offline)

    def mark(fn: F) -> F:
        fn.__operation__ = flags  # type: ignore[attr-defined]
        return fn

    return mark


@dataclass(frozen=True)
class Operation:
    name: str  # "people.assign"
    controller: str
    method: str
    flags: Flags

    @property
    def function(self) -> Callable[..., Any]:
        return getattr(_controller_class(self.controller), self.method)

    @property
    def summary(self) -> str:
        return (inspect.getdoc(self.function) or self.name).split("\n\n")[0].replace("\n", " ")

    def parameters(self) -> dict[str, tuple[Any, Any]]:
        """Name -> (type, default) of what a caller sends; ``...`` marks a required one."""
        hints = get_type_hints(self.function, include_extras=True)
        out: dict[str, tuple[Any, Any]] = {}
        for name, param in list(inspect.signature(self.function).parameters.items())[1:]:  # after self
            out[name] = (hints.get(name, Any), ... if param.default is param.empty else param.default)
        return out

    @property
    def result_type(self) -> Any:
        return get_type_hints(self.function).get("return", Any)

    def check(self, kwargs: dict[str, Any]) -> None:
        """Refuse arguments the operation does not take, before anything runs."""
        try:
            inspect.signature(self.function).bind(None, **kwargs)
        except TypeError as exc:
            raise UserError(f"wrong arguments for {self.name!r}: {exc}", "update the clusterids command") from exc
        params = self.parameters()
        for name, value in kwargs.items():
            _check_length(name, params[name][0], value)

    def bound(self, core: Any) -> Callable[..., Any]:
        """The method on the controller of ``core`` (a Core, in this process)."""
        return getattr(getattr(core, self.controller), self.method)


def _check_length(name: str, kind: Any, value: Any) -> None:
    """The one check the CLI's calls need beyond the signature (HTTP gets it from the same
    declarations, as a 422): a text longer than its declared MaxLen, alone or in a list."""
    limit = _max_len(kind)
    values = value if isinstance(value, list) else [value]
    for v in values:
        if limit is not None and isinstance(v, str) and len(v) > limit:
            raise UserError(f"{name} is {len(v)} characters long", f"give at most {limit}")


def _max_len(kind: Any) -> int | None:
    for part in (kind, *get_args(kind)):
        for inner in (part, *get_args(part)):
            found = next((m.max_length for m in getattr(inner, "__metadata__", ()) if isinstance(m, MaxLen)), None)
            if found is not None:
                return int(found)
    return None


@functools.cache
def _controller_class(name: str) -> type:
    module, cls = CONTROLLERS[name]
    return getattr(importlib.import_module(module), cls)


@functools.cache
def get(name: str) -> Operation:
    """The operation called ``name`` ("people.assign"); a caller from another version gets one line."""
    controller, _, method = name.partition(".")
    if controller not in CONTROLLERS:
        raise UserError(f"unknown operation {name!r}", "update the clusterids command")
    flags = getattr(getattr(_controller_class(controller), method, None), "__operation__", None)
    if not isinstance(flags, Flags):
        raise UserError(f"unknown operation {name!r}", "update the clusterids command")
    return Operation(name, controller, method, flags)


def every() -> list[Operation]:
    """Every operation, by name."""
    out = []
    for controller in CONTROLLERS:
        for method, fn in inspect.getmembers(_controller_class(controller), inspect.isfunction):
            if isinstance(getattr(fn, "__operation__", None), Flags):
                out.append(get(f"{controller}.{method}"))
    return sorted(out, key=lambda op: op.name)
