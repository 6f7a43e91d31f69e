"""The library's own operations: index, status, doctor, the vector index, a change of model
pack, the album folders; and what needs no library (model packs, settings, evaluation)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from .backups import keep_copy
from .operations import operation
from .results import (
    Albums,
    DaemonState,
    Doctor,
    Failure,
    Indexed,
    NameSkipped,
    NamesRead,
    QueueState,
    Rebuilt,
    Status,
    WorkerState,
)

if TYPE_CHECKING:
    from ..config import Settings
    from ..indexer.task import Report
    from ..upkeep.catchup import CaughtUp
    from . import Core


class LibraryController:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.lib = core.lib

    @operation(creates=True, long=True)
    def index(self, paths: list[str], enqueue: bool = False, forget_missing: bool = False) -> Indexed:
        """Index the photos under PATHS: new, changed, copied, moved and deleted ones (FORGET_MISSING:
        also those of a folder that is empty or not there, which are otherwise kept: a drive
        not mounted)."""
        return self.run_index(paths, enqueue=enqueue or self.lib.settings.enqueue, forget_missing=forget_missing)

    def run_index(self, paths: list[str], enqueue: bool = False, missing_ok: bool = False,
                  settle: float = 0.0, forget_missing: bool = False) -> Indexed:
        """An index run (the daemon's too: ``missing_ok`` for folders that went, ``settle`` to
        leave files still being written for later)."""
        from ..config import check_albums_outside
        from ..indexer.pipeline import index_paths
        from ..upkeep.catchup import CaughtUp

        lib, hooks = self.lib, self.core.hooks
        check_albums_outside(lib.settings, [p for p in paths if Path(p).is_dir()])
        lib.db.add_roots(paths)
        caught = CaughtUp()  # what the catch-ups of the run did, added up

        def between_commits() -> None:  # the vectors, the names and the instant assignment follow each commit
            self.core.catch_up(albums=False, into=caught)
            if hooks.after_commit is not None:
                hooks.after_commit()

        report = index_paths(lib, [Path(p) for p in paths], progress=hooks.progress, on_plan=hooks.on_plan,
                             missing_ok=missing_ok, should_stop=hooks.should_stop, after_commit=between_commits,
                             enqueue=enqueue, settle=settle, forget_missing=forget_missing)
        carried = _carry_pending(lib)  # a change of model pack hands over what it kept
        self.core.catch_up(into=caught)
        optimized = _maybe_optimize(self.core) if report.changed_anything or caught.faces_named else False
        keep_copy(self.core, report.changed_anything or bool(caught.faces_named))
        out = _indexed(report, caught, optimized)
        return _replace(out, faces_carried=carried) if carried is not None else out

    @operation()
    def status(self, failed: bool = False) -> Status:
        """Counts of photos, faces and vectors; the model pack; the last recluster and incremental step;
        failed files."""
        from ..store import queue, reads, stamps
        from ..upkeep.catchup import last_repair

        lib = self.lib
        with lib.db.read() as s:
            q = queue.state(s, lib.settings.lease_seconds)
            out = Status(
                library=str(lib.root), model=lib.pack.spec, dim=lib.dim,
                photos=reads.photo_count(s, "ok"), faces=reads.face_count(s), vectors=lib.index.count(),
                failed=reads.photo_count(s, "failed"),
                queue=QueueState(**q["queue"]), workers=[WorkerState(**w) for w in q["workers"]],
                repaired_at_open=dict(lib.repaired), last_repair=last_repair(lib),
                last_recluster=stamps.last(s, stamps.LAST_RECLUSTER),
                last_incremental=stamps.last(s, stamps.LAST_INCREMENTAL),
                daemon=self.core.hooks.daemon() if self.core.hooks.daemon else None,
                failed_files=[Failure(path=p, reason=e or "") for p, e in reads.failed_files(s)] if failed else None,
            )
        return out

    @operation(catch_up=False)
    def doctor(self, repair: bool = False) -> Doctor:
        """Check the library's invariants, reported before anything is repaired; with REPAIR, rewrite what is off."""
        from ..store import backup
        from ..upkeep import invariants

        found = invariants.check(self.lib)
        if not (repair and not found.ok):
            return Doctor(ok=found.ok, problems=found.problems, library=str(self.lib.root))
        invariants.refuse_mass_deletion(self.lib)
        if not self.lib.settings.database_url:
            backup.make(self.lib.root, self.lib.settings.backup_keep)
        done = invariants.repair(self.lib)
        after = invariants.check(self.lib).problems
        return Doctor(ok=not after, problems=found.problems, library=str(self.lib.root), repaired=done, after=after)

    @operation(fresh_index=True, catch_up=False)  # it writes every vector itself: no comparison first
    def rebuild_index(self) -> Rebuilt:
        """Recreate the vector index from the database, without running the models."""
        from ..store import outbox, reads

        lib = self.lib
        if not lib.start_index_afresh():  # the daemon's open index too: closed, and a new folder
            lib.index.delete(list(lib.index.ids()))  # a server's collection, point by point
        with lib.db.transaction() as s:
            ids = reads.face_ids(s)
            outbox.mark(s, outbox.VECTOR, ids)
        self.core.catch_up()
        return Rebuilt(vectors=len(ids))

    @operation(long=True)
    def reindex(self, model: str) -> Indexed:
        """Re-embed every photo with another model pack; each face's person and corrections move
        to its new face (see clustering/carry.py). One cut short is finished by running it again."""
        from ..clustering import carry
        from ..store import grouping
        from ..store.photos import forget_everything

        lib = self.lib
        roots = [r for r in lib.db.roots() if Path(r).exists()]
        if carry.pending(lib):  # cut short: the library has its new pack, some photos wait
            if not _same_pack(model, lib.pack.spec):
                raise UserError(f"a change of model pack to {lib.pack.spec} was cut short",
                                f"finish it first: clusterids reindex --model {lib.pack.spec}")
        else:
            remembered = carry.remember(lib)
            pack, new_model = lib.models.load(model)
            forget_everything(lib.db, model=pack.spec, model_key=pack.key, dim=str(pack.dim),
                              **{grouping.CARRY_PENDING: grouping.encode_carry(remembered)})
            self.core.catch_up()  # the old points go while the old index is open
            lib.use_pack(pack, new_model)
        result = self.run_index(roots) if roots else _replace(Indexed(), faces_carried=carry.finish(lib))
        return _replace(result, model=lib.pack.spec)

    @operation()
    def albums(self) -> Albums:
        """Bring the album folders in step with the persons."""
        from ..outputs import albums

        return Albums(**albums.sync(self.lib))


def _same_pack(given: str, spec: str) -> bool:
    """Whether ``given`` (a name or a folder, as typed) names the pack ``spec`` (as stored: a name,
    or a folder resolved)."""
    if given == spec:
        return True
    try:
        return Path(given).expanduser().resolve() == Path(spec).resolve()
    except OSError:
        return False


def _carry_pending(lib: Any) -> int | None:
    """What a change of model pack handed over in this run; None when none was pending."""
    from ..store import grouping

    kept = lib.db.meta(grouping.CARRY_PENDING)  # read once: it may be large
    if not kept:
        return None
    from ..clustering import carry

    return carry.restore(lib, grouping.decode_carry(kept))


def _replace(result: Indexed, **changes: Any) -> Indexed:
    import dataclasses

    return dataclasses.replace(result, **changes)


def _indexed(report: Report, caught: CaughtUp, optimized: bool) -> Indexed:
    counts: dict[str, Any] = report.counts()
    names = None
    if caught.faces_named or caught.faces_from_metadata or caught.names_skipped:
        names = NamesRead(faces_named=caught.faces_named, faces_from_metadata=caught.faces_from_metadata,
                          persons_created=list(caught.persons_created),
                          names_skipped=[NameSkipped(path=p, name=n, reason=r) for p, n, r in caught.names_skipped])
    return Indexed(**counts, faces_assigned=caught.faces_assigned, seconds=report.seconds,
                   failures=[Failure(path=p, reason=r) for p, r in report.failures],
                   warnings=[Failure(path=p, reason=r) for p, r in report.warnings], names=names,
                   deferred=list(report.deferred), index_optimized=optimized)


def _maybe_optimize(core: Core) -> bool:
    """Build the vector index's HNSW graph once it is large enough to pay off (it blocks:
    minutes at 100k+ faces), and again after it grew by half."""
    lib = core.lib
    n = lib.index.count()
    last = int(lib.db.meta("optimized_at") or 0)
    if n < lib.settings.hnsw_min_points or n < 1.5 * last:
        return False
    lib.index.optimize()
    lib.db.set_meta(optimized_at=str(n))
    return True


# -- what needs no library ---------------------------------------------------------------------------

def models(settings: Settings) -> list[dict[str, object]]:
    from ..models import packs

    return packs.catalogue(settings)


def install_model(settings: Settings, name: str, source: str | None) -> dict[str, Any]:
    from ..models import openpack, packs

    if name != packs.OPEN:
        return {"installed": False, "reason": "only the open pack is installed by clusterids"}
    folder = openpack.install(packs.open_dir(settings), Path(source) if source else None)
    return {"installed": True, "name": name, "path": str(folder)}


def config(settings: Settings) -> list[dict[str, Any]]:
    """Every setting with the value in effect and where it came from: a 0 that means "the
    pack's default" shows that default, "auto" the pack the library uses, an empty folder
    the folder used (see ``effective``)."""
    rows = {k: {"name": k, "value": v, "source": settings.sources.get(k, "default")}
            for k, v in settings.public().items()}
    for name, (value, why) in effective(settings).items():
        rows[name].update(value=value, source=f"{rows[name]['source']}: {why}")
    return list(rows.values())


def effective(settings: Settings) -> dict[str, tuple[Any, str]]:
    """Name -> (the value in effect, why) of the settings whose own value defers to something
    else: the library's pack, its calibrated radii, the detector's threshold, default folders."""
    from ..clustering.people import params_for
    from ..models import packs
    from ..store.library import peek_pack

    out: dict[str, tuple[Any, str]] = {}
    stored = peek_pack(settings)
    if stored is not None:
        spec, dim, whose = stored.spec, stored.dim, "this library's pack"
    else:
        spec = settings.model if settings.model != "auto" else packs.choose_default(settings)[0]
        dim, whose = packs.DIMS.get(spec, 0), "the pack a new library takes"
    if settings.model == "auto":
        out["model"] = (spec, f"{whose} (auto)")
    if dim:
        p = params_for(dim, settings)
        calibrated = f"calibrated for {dim}-dimensional vectors ({spec})"
        for name in ("eps", "min_samples", "join_eps", "attach_eps", "weak_attach_eps"):
            if getattr(settings, name) == 0:
                out[name] = (getattr(p, name), calibrated)
        if settings.weak_eps == 0:
            out["weak_eps"] = (p.eps, "as eps")
        if settings.weak_attach_eps < 0:
            out["weak_attach_eps"] = (p.attach_eps, "as attach_eps")
    if settings.det_threshold == 0:  # as models/base.py FaceModel picks them
        yunet = spec == packs.OPEN or "yunet" in spec.lower() or any(
            "yunet" in f.name.lower() for f in _onnx_files(spec))
        out["det_threshold"] = (0.7 if yunet else 0.5, f"the {'YuNet' if yunet else 'SCRFD'} detector's default")
    if not settings.models_dir:
        out["models_dir"] = (str(settings.models_path), "the user's data folder")
    if not settings.albums_dir:
        out["albums_dir"] = (str(settings.albums_path), "inside the library")
    return out


def _onnx_files(spec: str) -> list[Path]:
    folder = Path(spec).expanduser()
    return sorted(folder.glob("*.onnx")) if folder.is_dir() else []


__all__ = ["LibraryController", "DaemonState", "models", "install_model", "config"]
