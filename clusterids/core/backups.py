"""Copies of the library database and the way back (i22): ``backup`` copies it now,
``restore`` puts a copy back, indexes the photos again from their folders and replays the
corrections made since, so that nothing made after the copy is lost (store/backup.py,
store/corrections_log.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import faults
from ..errors import UserError
from .operations import operation
from .results import BackedUp, Restored

if TYPE_CHECKING:
    from . import Core, Offline


class BackupsController:
    def __init__(self, core: Core | Offline) -> None:
        self.core = core
        self.lib = core.lib

    @operation(catch_up=False)
    def backup(self) -> BackedUp:
        """Copy the library database into the library's backups/ folder now (the newest few are kept)."""
        from ..store import backup

        lib = self.lib
        assert lib is not None
        if lib.settings.database_url:
            return BackedUp(path=None, reason="the database is a server's: back it up there (pg_dump)")
        made = backup.make(lib.root, lib.settings.backup_keep)
        if made is None:
            raise UserError(f"could not copy the library database ({lib.root / backup.DB_FILE})",
                            backup.why_not_made(lib.root))
        return BackedUp(path=str(made.path), photos=made.photos, people=made.people)

    @operation(offline=True)
    def restore(self, source: str | None = None) -> Restored:
        """Put a copy of the database back (SOURCE: a file in backups/ or a path; the newest by
        default), keeping the database it replaces; then index the photos again and replay the
        corrections made since the copy."""
        from ..store import backup, corrections_log, reads
        from ..store.replay import replay
        from ..upkeep import invariants
        from . import Offline

        if not isinstance(self.core, Offline):
            raise UserError("the daemon owns this library, and a restore replaces its database",
                            "stop it ('clusterids stop'), then run 'clusterids restore' again")
        settings = self.core.settings
        if settings.database_url:
            raise UserError("the library database is a server's", "restore it there (pg_restore of a pg_dump)")
        root = settings.library
        pending = backup.pending(root)
        if pending is not None and source is None and pending.get("stage") == "replaying":
            # a restore cut short after its copy was put back: finish it (indexing and replaying
            # again are idempotent); the copy in place is the one it put back
            chosen_path, held = Path(pending["copy"]), "finished the restore begun before"
            aside = Path(pending["aside"]) if pending.get("aside") else None
            chosen, replaced = backup.read_copy(chosen_path), None
        else:
            chosen = backup.pick(root, source or (pending or {}).get("copy") or None)
            if chosen is None:
                if pending is not None and pending.get("stage") == "copying":
                    backup.done_pending(root)  # the database was never touched: no restore is under way
                raise UserError(*backup.why_none(root, source or (pending or {}).get("copy") or None))
            _check_copy(root, chosen.path)
            chosen_path, held = chosen.path, chosen.describe()
            replaced = backup.read_copy(root / backup.DB_FILE)  # what it held: the journal must cover it
            backup.note_pending(root, chosen.path, "copying")
            try:
                made = backup.prepare(root, chosen)
            except UserError:  # nothing was touched: no restore is under way
                backup.done_pending(root)
                raise
            faults.point("restore.before_swap")
            lines = (chosen.journal_seq, corrections_log.last_seq(root / corrections_log.LOG_FILE))
            aside = backup.swap(root, made)
            backup.note_pending(root, chosen.path, "replaying", aside, lines)
        warnings = _uncovered(root, chosen, replaced, aside)  # before the replay numbers new lines
        faults.point("restore.before_replay")
        core = self.core.open()
        try:
            lib = core.lib
            invariants.repair(lib)  # vectors and albums follow the database put back, whatever they held
            roots = [r for r in lib.db.roots() if Path(r).exists()]
            # the lines after the copy's, up to the journal's end before the index runs (a name read
            # from XMP is journaled past them); one cut short noted them (backup.note_pending)
            noted = backup.pending(root) or {}
            copy_seq = int(noted.get("after") or lib.db.meta("journal_seq") or 0)
            upto = int(noted.get("upto") or corrections_log.last_seq(root / corrections_log.LOG_FILE))
            indexed = core.library.run_index(roots, missing_ok=True) if roots else None
            faults.point("restore.after_index")
            replayed = replay(lib.db, root, after=copy_seq, upto=upto)
            core.catch_up()
            with lib.db.read() as s:
                photos = reads.photo_count(s, "ok")
        finally:
            core.close()
        backup.done_pending(root)
        return Restored(copy=str(chosen_path), held=held, moved_aside=str(aside) if aside else None, photos=photos,
                        photos_indexed=_indexed(indexed), corrections_replayed=replayed.applied,
                        corrections_skipped=replayed.skipped, warnings=warnings)


def _uncovered(root: Path, copy: Any, replaced: Any, aside: Path | None) -> list[str]:
    """What the journal cannot bring back: corrections the database replaced held after the
    copy's that are not in ``corrections.jsonl`` (missing, cut short, another library's)."""
    from ..store import corrections_log

    if copy is None or replaced is None or aside is None or replaced.journal_seq <= copy.journal_seq:
        return []
    held = {line["seq"] for line in corrections_log.lines_after(root, copy.journal_seq)
            if line["seq"] <= replaced.journal_seq}
    missing = replaced.journal_seq - copy.journal_seq - len(held)
    if missing <= 0:
        return []
    return [f"{missing} correction{'s' if missing != 1 else ''} made after this copy "
            f"{'are' if missing != 1 else 'is'} not in {corrections_log.LOG_FILE} (missing, cut short or replaced), "
            f"so the replay cannot bring {'them' if missing != 1 else 'it'} back; the database this restore "
            f"replaced holds {'them' if missing != 1 else 'it'}: 'clusterids restore {aside}' puts it back"]


def _check_copy(root: Path, copy: Path) -> None:
    """Refuse what is not a copy of this library: its database itself, another library's copy."""
    from ..store import backup

    if backup.is_the_database(root, copy):
        raise UserError(f"{copy} is the library's database itself, not a copy of it",
                        "give a copy from the library's backups/ folder (or leave it out: the newest)")
    if copy.resolve().parent in (root.resolve(), (root / backup.BACKUPS_DIR).resolve()):
        return  # the library's own copies (a database started afresh has another id)
    ours = {i for i in (backup.library_id(p) for p in [root / backup.DB_FILE, *(c.path for c in backup.copies(root))])
            if i}
    theirs = backup.library_id(copy)
    if ours and theirs and theirs not in ours:
        raise UserError(f"{copy} is a copy of another library's database",
                        f"give a copy from this library's backups/ folder ({root / backup.BACKUPS_DIR}), or "
                        "restore it into a folder of its own (--library FOLDER)")


def _indexed(result: Any) -> int:
    return 0 if result is None else int(result.photos_new + result.photos_changed)


def keep_copy(core: Core, changed: bool) -> None:
    """After an index run or a recluster: copy the database if it changed something (while the
    daemon works, at most every ``backup_hours``)."""
    from ..store import backup

    lib = core.lib
    hours = lib.settings.backup_hours
    if not changed or hours <= 0 or lib.settings.database_url:
        return
    if core.hooks.daemon is not None and not backup.due(lib.root, hours):
        return
    backup.make(lib.root, lib.settings.backup_keep)
