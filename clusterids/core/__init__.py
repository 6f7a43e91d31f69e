"""The core: typed controllers over one open library, the only API there is.

``Core(lib)`` holds the controllers (``core.library``, ``core.people``, ``core.photos``,
``core.metadata``); their
methods marked ``@operation`` (core/operations.py) are the operations. The CLI calls them in
this process or, while a daemon owns the library, through the daemon's HTTP routes, which are
generated from the same declarations. ``Core.call`` runs one operation and then the catch-up of
derived state (upkeep/catchup.py): the one place where a write is followed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from .operations import Operation

if TYPE_CHECKING:
    from ..config import Settings
    from ..store.library import Library
    from ..upkeep.catchup import CaughtUp
    from .backups import BackupsController
    from .library import LibraryController
    from .metadata import MetadataController
    from .people import PeopleController
    from .photos import PhotosController
    from .results import DaemonState
    from .unknown import UnknownController


@dataclass
class Hooks:
    """What the process running an operation supplies itself, never a caller."""

    progress: Callable[[int, int], None] | None = None  # (photos done, faces found)
    on_plan: Callable[[int], None] | None = None  # how many photos a run will read
    should_stop: Callable[[], bool] | None = None  # the daemon is stopping: end a long run early
    after_commit: Callable[[], None] | None = None  # between two commits of a long run
    daemon: Callable[[], DaemonState] | None = None  # the daemon's own state, for status
    settle: float = 0.0  # the daemon's catch-up leaves files this young for later


class Core:
    def __init__(self, lib: Library, hooks: Hooks | None = None) -> None:
        self.lib = lib
        self.hooks = hooks or Hooks()
        self._controllers: dict[str, Any] = {}

    def _controller(self, name: str) -> Any:
        if name not in self._controllers:
            from .operations import _controller_class

            self._controllers[name] = _controller_class(name)(self)
        return self._controllers[name]

    @property
    def library(self) -> LibraryController:
        return self._controller("library")

    @property
    def people(self) -> PeopleController:
        return self._controller("people")

    @property
    def photos(self) -> PhotosController:
        return self._controller("photos")

    @property
    def metadata(self) -> MetadataController:
        return self._controller("metadata")

    @property
    def backups(self) -> BackupsController:
        return self._controller("backups")

    @property
    def unknown(self) -> UnknownController:
        return self._controller("unknown")

    @property
    def settings(self) -> Settings:
        return self.lib.settings

    def call(self, op: Operation, kwargs: dict[str, Any]) -> Any:
        """Run one operation; after a write, bring derived state in step with it."""
        from ..store.library import failure

        op.check(kwargs)
        try:
            result = op.bound(self)(**kwargs)
        except UserError:
            raise
        except Exception as exc:
            said = failure(self.lib.settings, exc)  # a full disk, a damaged file: one line
            if said is None:
                raise
            raise said from exc
        if not op.flags.reads_only:
            try:
                self.catch_up()
            except Exception as exc:  # the operation is done: what follows it waits for the next command
                said = exc if isinstance(exc, UserError) else failure(self.lib.settings, exc)
                if said is None:
                    raise
                raise UserError(f"the change is made, but what follows it (albums, vectors) could not be brought in "
                                f"step: {said.what}", f"{said.hint + '; ' if said.hint else ''}the next command does "
                                "it") from exc
        return result

    def close(self) -> None:
        self.lib.close()

    def __enter__(self) -> Core:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def catch_up(self, albums: bool = True, into: CaughtUp | None = None) -> dict[str, int]:
        """Bring derived state in step (upkeep/catchup.py); ``into`` adds up what was done (the
        catch-ups of one index run, i20: with the names applied and skipped)."""
        from ..upkeep.catchup import catch_up

        done = catch_up(self.lib, albums=albums)
        if into is not None:
            into.add(done)
        return done.done()


class Offline:
    """What an ``offline`` operation (restore) runs on: no library yet, its settings, and how to
    open the library once the operation put its database in place (given by the caller:
    app.open_core)."""

    lib = None

    def __init__(self, settings: Settings, hooks: Hooks, opener: Callable[[], Core]) -> None:
        self.settings = settings
        self.hooks = hooks
        self.open = opener

    def call(self, op: Operation, kwargs: dict[str, Any]) -> Any:
        op.check(kwargs)
        return getattr(_controller_class(op.controller)(self), op.method)(**kwargs)


def _controller_class(name: str) -> type:
    from .operations import _controller_class as find

    return find(name)


__all__ = ["Core", "Hooks", "Offline"]
