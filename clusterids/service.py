"""The service layer: every operation the CLI (and the daemon's API) offers, on a Library.

Each function takes a Library and plain arguments and returns plain data (JSON-able), so the
same call can run in this process or behind the daemon's HTTP API. Its signature declares
the operation's parameters and result; clusterids/ops.py declares how it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import doctor, faults, queries
from .app import open_library
from .clustering import people
from .config import Settings
from .corrections import Corrections
from .errors import UserError
from .indexer.pipeline import Progress, index_paths
from .media import albums
from .media.thumbs import prune_thumbs
from .models import packs
from .store import mirror, queue, reads
from .store.library import Library


def index(lib: Library, paths: list[str], progress: Progress | None = None,
          on_plan: Any = None, missing_ok: bool = False, should_stop: Any = None,
          after_commit: Any = None, enqueue: bool = False, settle: float = 0.0) -> dict[str, Any]:
    lib.add_roots(paths)
    report = index_paths(lib, [Path(p) for p in paths], progress=progress, on_plan=on_plan,
                         missing_ok=missing_ok, should_stop=should_stop, after_commit=after_commit,
                         enqueue=enqueue or lib.settings.enqueue, settle=settle)
    out: dict[str, Any] = report.counts()
    faults.point("index.before_assign")
    out["faces_assigned"] = doctor.assign_pending(lib)
    out["seconds"] = report.seconds
    out["failures"] = [{"path": p, "reason": r} for p, r in report.failures]
    if report.deferred:
        out["deferred"] = report.deferred
    out["index_optimized"] = False
    if report.changed_anything:
        albums.sync(lib)
        out["index_optimized"] = lib.maybe_optimize()
    return out


def status(lib: Library, failed: bool = False) -> dict[str, Any]:
    with lib.session() as s:
        photos = reads.photo_count(s, "ok")
        n_failed = reads.photo_count(s, "failed")
        faces = reads.face_count(s)
        out: dict[str, Any] = {
            "library": str(lib.root),
            "model": lib.pack_spec,
            "dim": lib.dim,
            "photos": photos,
            "faces": faces,
            "vectors": lib.index.count(),
            "failed": n_failed,
            "daemon": None,
            "repaired_at_open": lib.repaired,
            "last_repair": mirror.last_repair(lib),
        }
        out.update(queue.state(s, lib.settings.lease_seconds))
        if failed:
            out["failed_files"] = [{"path": p, "reason": e} for p, e in reads.failed_files(s)]
    return out


def reconcile(lib: Library) -> dict[str, Any]:
    """After a crash: finish the instant assignment and the albums (see doctor.reconcile)."""
    return doctor.reconcile(lib)


def check(lib: Library, repair: bool = False) -> dict[str, Any]:
    """The library's invariants (``clusterids doctor``); ``repair`` rewrites what is off."""
    return doctor.doctor(lib, fix=repair)


def rebuild_index(lib: Library) -> dict[str, Any]:
    return {"vectors": lib.rebuild_index()}


def reindex(lib: Library, model: str, progress: Progress | None = None, on_plan: Any = None) -> dict[str, Any]:
    """Re-embed every photo with another pack (the photos' folders are indexed again); each
    face's person and corrections move to its new face (see clustering/carry.py)."""
    from .clustering import carry

    roots = [r for r in lib.roots() if Path(r).exists()]
    remembered = carry.remember(lib)
    lib.reset_pack(model)
    result = index(lib, roots, progress=progress, on_plan=on_plan) if roots else {}
    result["faces_carried"] = carry.restore(lib, remembered)
    albums.sync(lib)
    result["model"] = lib.pack_spec
    return result


def models(settings: Settings) -> list[dict[str, Any]]:
    return packs.catalogue(settings)


def install_model(settings: Settings, name: str, source: str | None) -> dict[str, Any]:
    from .models import openpack

    if name != packs.OPEN:
        return {"installed": False, "reason": "only the open pack is installed by clusterids"}
    folder = openpack.install(packs.open_dir(settings), Path(source) if source else None)
    return {"installed": True, "name": name, "path": str(folder)}


def config(settings: Settings) -> list[dict[str, Any]]:
    values = settings.public()
    return [{"name": k, "value": v, "source": settings.sources.get(k, "default")} for k, v in values.items()]


# -- people -----------------------------------------------------------------------------------

def recluster(lib: Library, dry_run: bool = False, from_scratch: bool = False) -> dict[str, Any]:
    result = people.recluster(lib, dry_run=dry_run, from_scratch=from_scratch)
    if not dry_run:
        faults.point("recluster.before_albums")
        result["albums"] = albums.sync(lib)
        prune_thumbs(lib)  # cached face crops of faces that are gone
    return result


def correct(lib: Library, action: str, **kwargs: Any) -> dict[str, Any]:
    """One correction (assign, reject, merge, split, rename, hide, unhide, undo), then the albums."""
    c = Corrections(lib)
    actions: dict[str, Callable[..., dict[str, Any]]] = {
        "assign": c.assign, "reject": c.reject, "merge": c.merge, "split": c.split,
        "rename": c.rename, "hide": c.hide, "undo": c.undo, "cover": c.cover, "keep_apart": c.keep_apart,
        "unhide": lambda person: c.hide(person, hidden=False),
    }
    if action not in actions:
        raise UserError(f"unknown correction {action!r}", f"use one of: {', '.join(sorted(actions))}")
    result = actions[action](**kwargs)
    faults.point("correct.before_albums")
    albums.sync(lib)
    return result


def list_people(lib: Library, include_hidden: bool = False) -> list[dict[str, Any]]:
    return queries.people(lib, include_hidden)


def list_faces(lib: Library, person: str | None = None, unknown: bool = False) -> list[dict[str, Any]]:
    return queries.faces(lib, person, unknown)


def list_photos(lib: Library, persons: list[str], any_of: bool = False) -> list[str]:
    return queries.photos(lib, persons, any_of)


def search(lib: Library, photo: str) -> list[dict[str, Any]]:
    return queries.search(lib, Path(photo))


def suggest(lib: Library, person: str | None = None, limit: int = 20) -> dict[str, Any]:
    return queries.suggestions(lib, person, limit)


def sync_albums(lib: Library) -> dict[str, Any]:
    return albums.sync(lib)


def evaluate(settings: Settings, folder: str, progress: Progress | None = None, on_plan: Any = None) -> dict[str, Any]:
    """Index a labelled folder into a scratch library of its own (the user's library is left
    alone) and report clustering quality for our defaults and the baselines."""
    import hashlib

    import platformdirs

    from .evaluation import evaluate as run_eval

    root = Path(folder).resolve()
    key = hashlib.sha256(f"{root}|{settings.model}".encode()).hexdigest()[:16]
    scratch = Path(platformdirs.user_cache_dir("clusterids")) / "eval" / key
    # local stores only: a database or Qdrant server named in the settings is the user's library
    eval_settings = settings.replace(library=scratch, albums_dir=str(scratch / "albums"), database_url="",
                                     vector_store_url="")
    with open_library(eval_settings, create=True) as lib:
        index_paths(lib, [root], progress=progress, on_plan=on_plan)
        return run_eval(lib, root)
