"""The composition root: the one place that wires a library's parts together.

The store knows the database, the vector index and the outbox; the models know packs and ONNX
files; neither knows the other. Opening a library here hands the store a ModelSource backed by
the model packs, and ``open_core`` builds the controllers over it once it is in step, so every
caller (the CLI, the daemon, a worker, a script) gets the same core the same way.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from .config import Settings
from .errors import UserError
from .store import library as store_library
from .store.library import Library, PackChoice

if TYPE_CHECKING:
    from pathlib import Path

    from .core import Core, Hooks, Offline
    from .core.operations import Operation
    from .models.base import FaceModel


class ModelPacks:
    """The store's ModelSource over the installed model packs (see models/packs.py)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def negotiate(self, stored: PackChoice | None) -> tuple[PackChoice, FaceModel | None, list[str]]:
        from .models import packs  # here, not at the top: a read of the database loads no model code

        notices: list[str] = []
        requested = self.settings.model
        model: FaceModel | None = None
        if stored is None:
            if requested == "auto":
                requested, why = packs.choose_default(self.settings)
                notices.append(f"model pack: {requested} ({why})")
            choice, model = self.load(requested)
        else:
            choice = stored
            # a pack named otherwise is another pack, told without finding it (buffalo_l would be
            # fetched); a folder is resolved where it lies, and compared by its files
            named = requested in (packs.BUFFALO, packs.OPEN) and stored.spec in (packs.BUFFALO, packs.OPEN)
            if requested not in ("auto", stored.spec) and \
                    (named or packs.resolve(requested, self.settings).key != stored.key):
                origin = self.settings.sources.get("model", "default")
                raise UserError(
                    f"this library's vectors were made by the model pack {stored.spec}, not {requested} (setting "
                    f"'model' from {origin}); vectors of different packs never mix",
                    f"run 'clusterids reindex --model {requested}' to re-embed every photo, or remove the setting",
                )
        if choice.spec == packs.BUFFALO:
            notices.append("buffalo_l: " + packs.LICENCES[packs.BUFFALO])
        return choice, model, notices

    def load(self, spec: str, key: str | None = None) -> tuple[PackChoice, FaceModel]:
        from .models import packs

        pack = packs.resolve(spec, self.settings)
        if key is not None and pack.key != key:
            raise UserError(f"the model files of {spec} changed since this library was made",
                            f"run 'clusterids reindex --model {spec}'")
        model = pack.load(self.settings)
        return PackChoice(pack.name, pack.key, model.dim), model


def open_library(settings: Settings, create: bool = False, fresh_index: bool = False,
                 restoring: bool = False) -> Library:
    """Open (or create) the library the settings name, with its model pack (see store/library.py)."""
    return store_library.open_library(settings, ModelPacks(settings), create=create, fresh_index=fresh_index,
                                      restoring=restoring)


def open_core(settings: Settings, op: Operation | None = None, hooks: Hooks | None = None,
              create: bool = False, restoring: bool = False) -> Core:
    """The core over the library the settings name, opened as ``op`` needs it (any operation when
    None): created if it may be, and brought in step at open unless the operation only reads or
    looks first (doctor). A context manager: the library closes with it."""
    from .core import Core

    flags = op.flags if op is not None else None
    try:
        lib = open_library(settings, create=create or bool(flags and flags.creates),
                           fresh_index=bool(flags and flags.fresh_index), restoring=restoring)
    except UserError:
        raise
    except Exception as exc:
        said = store_library.failure(settings, exc)  # a full disk, a damaged file: one line
        if said is None:
            raise
        raise said from exc
    try:
        if flags is None or flags.catch_up:
            from .upkeep.catchup import catch_up  # a read never catches up: it imports nothing of it

            lib.repaired = catch_up(lib, at_open=True).done()
        elif flags.reads_only:  # a read stays fast; it says first that what it shows may lag (doctor
            # lists what waits among its problems, first)
            pending = store_library.pending_repair(lib)
            if pending:
                lib.notices.insert(0, pending)
    except BaseException as exc:
        with contextlib.suppress(Exception):  # the first error is the one said
            lib.close()
        said = None if isinstance(exc, UserError) or not isinstance(exc, Exception) else \
            store_library.failure(settings, exc)
        if said is not None:
            raise said from exc
        raise
    return Core(lib, hooks)


def offline(settings: Settings, hooks: Hooks | None = None) -> Offline:
    """What an ``offline`` operation (restore) runs on: the library opened only when it asks."""
    from .core import Hooks, Offline

    hooks = hooks or Hooks()
    return Offline(settings, hooks, lambda: open_core(settings, None, hooks, restoring=True))


def open_for_worker(settings: Settings) -> Library:
    """The library as an indexing worker sees it (see store/library.py ``attach``)."""
    return store_library.attach(settings, ModelPacks(settings))


def evaluate_folder(settings: Settings, folder: Path, progress: Any = None, on_plan: Any = None) -> dict[str, Any]:
    """Index a labelled folder into a scratch library of its own (the user's library is left
    alone) and report clustering quality for our defaults and the baselines."""
    import hashlib
    from pathlib import Path

    import platformdirs

    from .evaluation import evaluate
    from .indexer.pipeline import index_paths

    root = Path(folder).resolve()
    key = hashlib.sha256(f"{root}|{settings.model}".encode()).hexdigest()[:16]
    scratch = Path(platformdirs.user_cache_dir("clusterids")) / "eval" / key
    # local stores only: a database or Qdrant server named in the settings is the user's library
    scratch_settings = settings.replace(library=scratch, albums_dir=str(scratch / "albums"), database_url="",
                                        vector_store_url="")
    with open_library(scratch_settings, create=True) as lib:
        index_paths(lib, [root], progress=progress, on_plan=on_plan)
        return evaluate(lib, root)
