"""The composition root: the one place that wires a library's parts together.

The store knows the database, the vector index and their mirror; the models know packs and
ONNX files; neither knows the other. Opening a library here hands the store a ModelSource
backed by the model packs, so every caller (the CLI, the daemon, a worker, a script) gets the
same library the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .config import Settings
from .errors import UserError
from .models import packs
from .store.library import Library, PackChoice

if TYPE_CHECKING:
    from .models.base import FaceModel


class ModelPacks:
    """The store's ModelSource over the installed model packs (see models/packs.py)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def negotiate(self, stored: PackChoice | None) -> tuple[PackChoice, FaceModel | None, list[str]]:
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
            if requested not in ("auto", stored.spec) and packs.resolve(requested, self.settings).key != stored.key:
                raise UserError(
                    f"this library's vectors were made by the model pack {stored.spec}, not {requested}; "
                    "vectors of different packs never mix",
                    f"run 'clusterids reindex --model {requested}' to re-embed every photo",
                )
        if choice.spec == packs.BUFFALO:
            notices.append("buffalo_l: " + packs.LICENCES[packs.BUFFALO])
        return choice, model, notices

    def load(self, spec: str, key: str | None = None) -> tuple[PackChoice, FaceModel]:
        pack = packs.resolve(spec, self.settings)
        if key is not None and pack.key != key:
            raise UserError(f"the model files of {spec} changed since this library was made",
                            f"run 'clusterids reindex --model {spec}'")
        model = pack.load(self.settings)
        return PackChoice(pack.name, pack.key, model.dim), model


def open_library(settings: Settings, create: bool = False, repair: bool = True,
                 fresh_index: bool = False) -> Library:
    """Open (or create) the library the settings name, with its model pack (see Library.open)."""
    return Library.open(settings, ModelPacks(settings), create=create, repair=repair, fresh_index=fresh_index)


def open_for_worker(settings: Settings) -> Library:
    """The library as an indexing worker sees it (see Library.attach)."""
    return Library.attach(settings, ModelPacks(settings))
