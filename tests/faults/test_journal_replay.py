"""Item 22.1 on a synthetic library (no models): every kind of correction made after the last
copy comes back after a restore, and the daemon copies at most every backup_hours."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from clusterids import faults
from clusterids.app import offline
from clusterids.config import load_settings
from clusterids.core import Core, Hooks, operations
from clusterids.errors import UserError
from clusterids.store import backup, reads
from clusterids.store.db import Face, Person

from ..synthetic import add_photos, open_synthetic, people_photos
from .conftest import corrections_state, problems


def _library(tmp_path: Path) -> tuple[dict[str, str], list[list[int]]]:
    env = {"CLUSTERIDS_LIBRARY": str(tmp_path / "library"), "CLUSTERIDS_PROGRESS": "false"}
    lib = open_synthetic(load_settings({}, environ=env))
    ids = add_photos(lib, tmp_path / "photos", people_photos(3, 6))
    Core(lib).call(operations.get("people.recluster"), {})  # changed something: a copy
    lib.close()
    return env, ids


def _call(core: Core, op: str, /, **kwargs: object) -> object:
    return core.call(operations.get(op), kwargs)


def test_every_correction_after_the_copy_is_replayed(tmp_path):
    env, ids = _library(tmp_path)
    root = tmp_path / "library"
    assert len(backup.copies(root)) == 1
    settings = load_settings({}, environ=env)
    lib = open_synthetic(settings)
    core = Core(lib)
    a, b, c = (p.id for p in core.people.persons())
    _call(core, "people.rename", person=str(a), name="Ada")
    _call(core, "people.assign", person="Grace", face_ids=[ids[6][0]])  # creates Grace
    _call(core, "people.merge", persons=[str(b), "Grace"])
    _call(core, "people.split", person=str(c), face_ids=[ids[13][0], ids[14][0]])
    _call(core, "people.hide", person=str(c))
    _call(core, "people.keep_apart", persons=["Ada", str(b)])
    _call(core, "people.rename", person=str(b), name="Bob")
    _call(core, "people.undo")  # Bob is unnamed again
    _call(core, "people.reject", person="Ada", face_ids=[ids[0][0]])
    _call(core, "people.ignore", face_ids=[ids[1][0]], not_a_face=True)
    _call(core, "people.born", person="Ada", date="1990-01-01")
    lib.close()
    before = corrections_state(env)

    db = root / "library.db"
    for extra in ("-wal", "-shm"):
        db.with_name(db.name + extra).unlink(missing_ok=True)
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])
    done = offline(settings).call(operations.get("backups.restore"), {})
    assert done.corrections_replayed == 11 and done.corrections_skipped == [], done
    assert corrections_state(env) == before
    assert problems(env) == []
    lib = open_synthetic(settings)
    with lib.db.read() as s:
        assert reads.ignored_ids(s) == {ids[1][0]}
        assert reads.get_person(s, a).born == "1990-01-01"
    lib.close()
    # new corrections number after the replayed ones: a second restore replays nothing twice
    lib = open_synthetic(settings)
    _call(Core(lib), "people.rename", person=str(a), name="Ada L")
    lib.close()
    again = offline(settings).call(operations.get("backups.restore"), {})
    assert again.corrections_replayed == 12 and corrections_state(env)["named"][a][0] == "Ada L"


def test_the_daemon_copies_at_most_every_backup_hours(tmp_path):
    env, ids = _library(tmp_path)
    root = tmp_path / "library"
    lib = open_synthetic(load_settings({}, environ=env))
    daemon = Core(lib, Hooks(daemon=lambda: None))  # type: ignore[arg-type,return-value]
    _call(daemon, "people.assign", person="Ada", face_ids=[ids[0][0], ids[7][0]])
    _call(daemon, "people.recluster", from_scratch=True)
    assert len(backup.copies(root)) == 1  # the recluster's copy is not due yet
    lib.close()
    lib = open_synthetic(load_settings({}, environ=env | {"CLUSTERIDS_BACKUP_HOURS": "0.000001"}))
    daemon = Core(lib, Hooks(daemon=lambda: None))  # type: ignore[arg-type,return-value]
    _call(daemon, "people.reject", person="Ada", face_ids=[ids[7][0]])
    _call(daemon, "people.recluster", from_scratch=True)
    lib.close()
    assert len(backup.copies(root)) == 2


def test_a_library_is_copied_before_its_migration(tmp_path):
    """The copy holds the library as it was, in its old schema, should the migration go wrong."""
    import sqlite3

    from clusterids.store.db import open_engine

    from ..test_scale import LIBRARY_0_3_0

    db = tmp_path / "library.db"
    with sqlite3.connect(db) as con:
        con.executescript(LIBRARY_0_3_0)
    open_engine(f"sqlite:///{db}").dispose()
    (copy,) = backup.copies(tmp_path)
    with sqlite3.connect(copy.path) as con:
        assert con.execute("SELECT name FROM persons WHERE id = 1").fetchone() == ("Ann",)
        assert con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'").fetchone() == (0,)
    assert copy.photos == 1
    open_engine(f"sqlite:///{db}").dispose()
    assert len(backup.copies(tmp_path)) == 1  # an up-to-date library is not copied at each open


def test_an_undo_of_a_correction_that_no_longer_applies_undoes_nothing_else(tmp_path):
    """A photo left its folder after the copy: the correction of its face is skipped, and so is
    the undo of that correction (it would otherwise undo the rename before it)."""
    env, ids = _library(tmp_path)
    settings = load_settings({}, environ=env)
    lib = open_synthetic(settings)
    core = Core(lib)
    a = core.people.persons()[0].id
    _call(core, "people.rename", person=str(a), name="Ada")
    _call(core, "people.ignore", face_ids=[ids[4][0]])
    _call(core, "people.undo")
    with lib.db.read() as s:
        gone = reads.get_photo(s, reads.get_face(s, ids[4][0]).photo_id).path
    lib.close()
    Path(gone).unlink()
    db = tmp_path / "library" / "library.db"
    for extra in ("-wal", "-shm"):
        db.with_name(db.name + extra).unlink(missing_ok=True)
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])
    done = offline(settings).call(operations.get("backups.restore"), {})
    assert done.corrections_replayed == 1, done
    assert [line.split(": ", 1)[1] for line in done.corrections_skipped] == \
        ["its face is not in the library now", "the correction it undid was skipped"]
    lib = open_synthetic(settings)
    with lib.db.read() as s:
        assert reads.get_person(s, a).name == "Ada"
    lib.close()


def _corrected(env: dict[str, str], ids: list[list[int]]) -> dict[str, object]:
    """Two corrections after the library's one copy; what they leave behind."""
    lib = open_synthetic(load_settings({}, environ=env))
    core = Core(lib)
    a = core.people.persons()[0].id
    _call(core, "people.rename", person=str(a), name="Ada")
    _call(core, "people.assign", person="Grace", face_ids=[ids[6][0]])
    lib.close()
    return corrections_state(env)


@pytest.mark.parametrize("point", ["restore.before_swap", "restore.before_replay"])
def test_a_restore_cut_short_is_finished_by_the_next(tmp_path, monkeypatch, point):
    """Cut short before the copy took the database's place, the database is as it was; after,
    the library is the copy without what came since. Either way nothing opens it but a restore,
    and the next restore brings back every correction."""
    env, ids = _library(tmp_path)
    before = _corrected(env, ids)
    settings = load_settings({}, environ=env)
    db = tmp_path / "library" / "library.db"
    monkeypatch.setenv(faults.FAULT_ENV, f"{point}:EIO:1")
    with pytest.raises(OSError, match="injected"):
        offline(settings).call(operations.get("backups.restore"), {})
    monkeypatch.delenv(faults.FAULT_ENV)
    assert db.is_file()
    with pytest.raises(UserError, match="restore of .* was cut short") as refused:
        open_synthetic(settings)
    assert "run 'clusterids restore' again" in refused.value.hint
    done = offline(settings).call(operations.get("backups.restore"), {})
    assert done.corrections_replayed == 2 and done.corrections_skipped == [], done
    assert corrections_state(env) == before
    assert problems(env) == []
    assert not (tmp_path / "library" / backup.PENDING_FILE).exists()


def test_a_restore_the_disk_cannot_hold_leaves_the_library_as_it_was(tmp_path, monkeypatch):
    env, ids = _library(tmp_path)
    before = _corrected(env, ids)
    settings = load_settings({}, environ=env)
    monkeypatch.setenv(faults.FAULT_ENV, "restore.copying:ENOSPC")
    with pytest.raises(UserError, match="could not copy .* beside the library database") as refused:
        offline(settings).call(operations.get("backups.restore"), {})
    assert "disk has room" in refused.value.hint
    monkeypatch.delenv(faults.FAULT_ENV)
    root = tmp_path / "library"
    assert not (root / backup.PENDING_FILE).exists() and not (root / "library.db.restoring").exists()
    assert corrections_state(env) == before and problems(env) == []  # opens as it was: nothing began


def test_a_restore_refuses_what_is_not_a_copy_of_this_library(tmp_path):
    env, ids = _library(tmp_path)
    before = _corrected(env, ids)
    settings = load_settings({}, environ=env)
    root = tmp_path / "library"
    with pytest.raises(UserError, match="is the library's database itself"):
        offline(settings).call(operations.get("backups.restore"), {"source": str(root / "library.db")})
    other_env, _ = _library(tmp_path / "other")
    (theirs,) = backup.copies(tmp_path / "other" / "library")
    with pytest.raises(UserError, match="another library's database"):
        offline(settings).call(operations.get("backups.restore"), {"source": str(theirs.path)})
    assert corrections_state(env) == before and problems(env) == []
    done = offline(settings).call(operations.get("backups.restore"), {})  # by choice: a sound file replaced
    assert ".replaced-" in str(done.moved_aside) and corrections_state(env) == before


def test_a_person_numbered_anew_after_the_copy_is_found_by_their_faces(tmp_path):
    """A recluster from scratch after the copy gave the people other ids: a rename of one of
    them is replayed onto the person holding their faces in the copy, not onto whoever has that
    id there."""
    env, ids = _library(tmp_path)
    settings = load_settings({}, environ=env)
    lib = open_synthetic(settings)
    core = Core(lib)
    old = {p.id for p in core.people.persons()}
    with lib.db.transaction() as s:  # the people as a later recluster numbers them: after the copy's
        for pid in sorted(old):
            s.add(Person(id=pid + 100))
    with lib.db.transaction() as s:
        for face in s.scalars(select(Face).where(Face.person_id.is_not(None))):
            face.person_id = face.person_id + 100
    target = ids[9][0]
    with lib.db.read() as s:
        renamed = reads.get_face(s, target).person_id
    assert renamed not in old
    _call(core, "people.rename", person=str(renamed), name="Ada")
    lib.close()
    db = tmp_path / "library" / "library.db"
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])
    for extra in ("-wal", "-shm"):
        db.with_name(db.name + extra).unlink(missing_ok=True)
    done = offline(settings).call(operations.get("backups.restore"), {})
    assert done.corrections_replayed == 1 and done.corrections_skipped == [], done
    lib = open_synthetic(settings)
    with lib.db.read() as s:
        holder = reads.get_face(s, target).person_id
        assert reads.get_person(s, holder).name == "Ada"
    lib.close()


def test_another_library_s_database_in_this_one_s_place_is_refused(tmp_path):
    """Copied over this library's database, another library's would be mended to look whole and
    would push this library's copies out of backups/: every opener refuses it, and a restore
    puts back this library's own newest copy (never the other's)."""
    env, ids = _library(tmp_path)
    before = _corrected(env, ids)
    settings = load_settings({}, environ=env)
    _library(tmp_path / "other")
    db = tmp_path / "library" / "library.db"
    for extra in ("-wal", "-shm"):
        db.with_name(db.name + extra).unlink(missing_ok=True)
    db.write_bytes((tmp_path / "other" / "library" / "library.db").read_bytes())
    with pytest.raises(UserError, match="is another library's database") as refused:
        open_synthetic(settings)
    assert "clusterids restore" in refused.value.hint
    done = offline(settings).call(operations.get("backups.restore"), {})
    assert done.corrections_replayed == 2, done
    assert corrections_state(env) == before and problems(env) == []


def test_a_restore_without_the_journal_says_which_corrections_it_cannot_bring_back(tmp_path):
    """The journal gone (or cut short), the replay cannot bring back what the database replaced
    held: the restore says how many and where they are, and restoring that file brings them."""
    env, ids = _library(tmp_path)
    before = _corrected(env, ids)
    settings = load_settings({}, environ=env)
    (tmp_path / "library" / "corrections.jsonl").unlink()
    done = offline(settings).call(operations.get("backups.restore"), {})
    assert done.corrections_replayed == 0 and len(done.warnings) == 1, done
    assert "2 corrections made after this copy are not in corrections.jsonl" in done.warnings[0]
    assert f"clusterids restore {done.moved_aside}" in done.warnings[0]
    again = offline(settings).call(operations.get("backups.restore"), {"source": done.moved_aside})
    assert again.warnings == [] and corrections_state(env) == before


def test_a_restore_that_finds_no_copy_says_why(tmp_path):
    """A path that is not there, a file that is no library, a folder, and a library with no copy
    at all are four lines, each with what to do."""
    env, _ = _library(tmp_path)
    settings = load_settings({}, environ=env)
    root = tmp_path / "library"

    def refused(source: str | None) -> UserError:
        with pytest.raises(UserError) as caught:
            offline(settings).call(operations.get("backups.restore"), {"source": source} if source else {})
        return caught.value

    kept = backup.copies(root)[0].path.name
    missing = refused(str(tmp_path / "nowhere.db"))
    assert f"no file {tmp_path / 'nowhere.db'}" in missing.what and kept in missing.hint
    junk = tmp_path / "notes.db"
    junk.write_text("not a database")
    assert f"{junk} cannot be read as a copy" in refused(str(junk)).what
    assert "is a folder" in refused(str(tmp_path)).what
    for copy in (root / backup.BACKUPS_DIR).iterdir():
        copy.unlink()
    none = refused(None)
    assert "has no copy of its database" in none.what and "clusterids backup" in none.hint


def _sidecar_zed() -> str:
    """test_xmp's sidecar, its one region named Zed over the synthetic photo's face (200x200)."""
    from ..test_xmp import SIDECAR

    return (SIDECAR.replace('stDim:w="400"', 'stDim:w="200"').replace('mwg-rs:Name="Ann"', 'mwg-rs:Name="Zed"')
            .replace('stArea:x="0.5" stArea:y="0.5" stArea:w="0.2" stArea:h="0.3"',
                     'stArea:x="0.4" stArea:y="0.4" stArea:w="0.7" stArea:h="0.7"'))


@pytest.mark.parametrize("cut", [None, "restore.after_index"])
def test_names_the_restore_reads_from_the_photos_do_not_hide_the_corrections_it_replays(tmp_path, monkeypatch, cut):
    """A restore indexes the photos before it replays the journal; a name read there from a
    photo's XMP (digiKam's, Lightroom's) is journaled, and it numbered past the lines still to
    replay: the replay then found none after it, and every correction since the copy was lost
    (a fault trial: "0 corrections replayed")."""
    from clusterids.xmp import packet

    if not packet.available():
        pytest.skip("needs Exempi (apt-get install libexempi8)")
    env, ids = _library(tmp_path)
    settings = load_settings({}, environ=env)
    lib = open_synthetic(settings)
    core = Core(lib)
    a = next(p.id for p in core.people.persons() if ids[0][0] in {f.id for f in core.people.faces(str(p.id))})
    _call(core, "people.rename", person=str(a), name="Ada")
    lib.close()
    (tmp_path / "photos" / "photo_017.jpg.xmp").write_text(_sidecar_zed())  # a name given elsewhere since
    db = tmp_path / "library" / "library.db"
    for extra in ("-wal", "-shm"):
        db.with_name(db.name + extra).unlink(missing_ok=True)
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])
    if cut:  # cut short after the index journaled the name, before the replay: the next restore finishes
        monkeypatch.setenv(faults.FAULT_ENV, f"{cut}:EIO:1")
        with pytest.raises(OSError, match="injected"):
            offline(settings).call(operations.get("backups.restore"), {})
        monkeypatch.delenv(faults.FAULT_ENV)
    done = offline(settings).call(operations.get("backups.restore"), {})
    assert done.corrections_replayed == 1, done
    lib = open_synthetic(settings)
    named = {p.name for p in Core(lib).people.persons()}
    every = [(p.id, p.name, p.faces, p.hidden) for p in Core(lib).people.persons(include_hidden=True)]
    lib.close()
    assert {"Ada", "Zed"} <= named, named
    assert not [p for p in every if p[1] and not p[2]], every  # no name left on an empty person


def test_a_journal_line_cut_short_does_not_swallow_the_next(tmp_path):
    """A crash during an append leaves half a line; the next correction starts a line of its
    own (before, it was appended onto the torn one, and neither could be read)."""
    from clusterids.store import corrections_log

    env, _ = _library(tmp_path)
    settings = load_settings({}, environ=env)
    lib = open_synthetic(settings)
    core = Core(lib)
    a, b, _c = (p.id for p in core.people.persons())
    _call(core, "people.rename", person=str(a), name="Ada")
    log = tmp_path / "library" / corrections_log.LOG_FILE
    log.write_bytes(log.read_bytes()[:-40])  # the rename's line cut short
    _call(core, "people.rename", person=str(b), name="Bob")
    lib.close()
    lines = corrections_log.lines_after(tmp_path / "library", 0)
    assert lines[-1]["args"] == {"person": b, "name": "Bob"}


def test_a_database_that_lost_its_last_commits_to_a_damaged_wal_says_so_and_restore_brings_them(tmp_path):
    """A crash left a rename in the WAL only, and the WAL was damaged: SQLite opens the older
    database and says nothing (the fault trial: `status` and `people` as if nothing happened, the
    next correction numbered past the lost one). Every opener, the quick reads too, refuses with
    one line while the journal holds corrections the database lacks after a session that did not
    close; a restore brings them back; a database simply older than its journal is a warning."""
    from ..test_cli_words import runner

    env, _ = _library(tmp_path)
    settings = load_settings({}, environ=env)
    db = tmp_path / "library" / "library.db"
    older = db.read_bytes()
    lib = open_synthetic(settings)
    a = next(p.id for p in Core(lib).people.persons())
    _call(Core(lib), "people.rename", person=str(a), name="Ada")
    lib.close()
    for extra in ("-wal", "-shm"):
        db.with_name(db.name + extra).unlink(missing_ok=True)
    db.write_bytes(older)  # what SQLite reads past a damaged WAL: the commits before it
    db.with_name("library.db-wal").write_bytes(b"")  # a WAL SQLite reads no frame of
    marker = db.with_name("library.db.open")
    marker.touch()  # the session that made them did not close
    with pytest.raises(UserError, match="lacks its last commits") as refused:
        open_synthetic(settings)
    assert "clusterids restore" in refused.value.hint and str(marker) in refused.value.hint
    said = runner(env)("people", ok=False)
    assert said.exit_code == 1 and "1 correction (rename) in corrections.jsonl is missing" in said.output
    assert marker.exists()  # refused again at the next open, until the user decides
    done = offline(settings).call(operations.get("backups.restore"), {})
    assert done.corrections_replayed == 1, done
    lib = open_synthetic(settings)
    assert any(p.name == "Ada" for p in Core(lib).people.persons())
    lib.close()


def test_a_journal_that_cannot_be_written_says_the_correction_is_made(tmp_path):
    """The journal a folder (or a full disk at its append): the correction is committed, and the
    command said only a traceback, so the user believed it had failed."""
    from ..test_cli_words import runner

    env, _ = _library(tmp_path)
    log = tmp_path / "library" / "corrections.jsonl"
    log.unlink(missing_ok=True)
    log.mkdir()
    run = runner(env)
    person = run("people", "--json").stdout.split('"id": ')[1].split(",")[0]
    done = run("rename", person, "Ada", ok=False)
    assert done.exit_code == 1 and "the correction is made, but the journal" in done.output, done.output
    assert "clusterids backup" in done.output and "Traceback" not in done.output
    assert "Ada" in run("people").output
