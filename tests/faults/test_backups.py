"""Item 22.1: the way back from a damaged database loses nothing: copies kept in backups/, a
plain journal of corrections replayed after a restore, photos indexed again from the folders."""

from __future__ import annotations

import json
import re
import shutil
import stat
import time

import pytest

from clusterids.store import backup

from ..conftest import lfw_people, needs_shared
from .conftest import problems
from .test_damage import one_line_error


@pytest.fixture
def sixty(tmp_path, env, run_json):
    """60 photos of 6 LFW people, indexed and reclustered; one person renamed afterwards."""
    photos = tmp_path / "photos"
    for p in lfw_people(6, min_photos=10, max_photos=10):
        (photos / p.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy(p, photos / p.parent.name / p.name)
    assert run_json("index", photos)["photos_new"] == 60
    run_json("recluster")
    held = [(c.path.name, c.people) for c in backup.copies(tmp_path / "library")]
    assert held and held[0][1] > 0, f"the newest copy is the recluster's, with its persons: {held}"
    pid = run_json("people")[0]["id"]
    run_json("rename", pid, "Renamed After The Copy")
    return {"photos": photos, "library": tmp_path / "library", "person": pid}


def _truncate(db, fraction):
    for extra in ("-wal", "-shm"):
        db.with_name(db.name + extra).unlink(missing_ok=True)
    data = db.read_bytes()
    db.write_bytes(data[: int(len(data) * fraction)])
    return len(data)


@needs_shared
def test_truncated_database_comes_back_whole(sixty, env, run, run_json):
    library = sixty["library"]
    copies = sorted((library / "backups").glob("library-*.db"))
    assert copies and stat.S_IMODE((library / "backups").stat().st_mode) == 0o700
    assert all(stat.S_IMODE(c.stat().st_mode) == 0o600 for c in copies)
    journal = [json.loads(x) for x in (library / "corrections.jsonl").read_text().splitlines()]
    assert journal[-1]["op"] == "rename" and journal[-1]["args"]["name"] == "Renamed After The Copy"
    size = _truncate(library / "library.db", 0.5)

    line = one_line_error(run("status", ok=False))
    assert "damaged" in line and "'clusterids restore'" in line, line
    assert re.search(r"60 photos, \d+ people, (moments|\d+ minutes?) old", line), line
    restored = run_json("restore")
    assert restored["corrections_replayed"] == 1 and restored["photos"] == 60, restored

    assert run_json("status")["photos"] == 60
    named = {p["id"]: p["name"] for p in run_json("people")}
    assert named[sixty["person"]] == "Renamed After The Copy"
    album = library / "albums" / "Renamed After The Copy"
    assert album.is_dir() and len(list(album.iterdir())) >= 1
    assert problems(env) == []
    kept = list(library.glob("library.db.damaged-*"))
    assert len(kept) == 1 and kept[0].stat().st_size == size // 2  # the damaged file is kept


@needs_shared
def test_restore_of_an_older_copy_indexes_what_came_after(sixty, env, run, run_json):
    """Photos added after the copy come back from their folders; corrections since replay."""
    library = sixty["library"]
    older = sorted((library / "backups").glob("library-*.db"))[-1]
    extra = sixty["photos"] / "later"
    extra.mkdir()
    for p in lfw_people(7, min_photos=10, max_photos=2)[-2:]:
        shutil.copy(p, extra / p.name)
    run_json("index", sixty["photos"])
    pid = sixty["person"]
    run_json("hide", pid)
    restored = run_json("restore", older.name)
    assert restored["photos_indexed"] == 2 and restored["photos"] == 62, restored
    assert restored["corrections_replayed"] == 2  # the rename, then the hide
    assert pid not in {p["id"] for p in run_json("people")}  # hidden again
    assert problems(env) == []


@needs_shared
def test_a_replay_finds_each_face_by_its_place_when_the_ids_moved(sixty, env, run_json):
    """After the copy: a face marked by hand on an old photo, then a new photo indexed and its face
    named. The restore indexes the new photo again first, so its face takes the id the hand face
    had; the replay must still name the new photo's face, and make the hand face again."""
    library = sixty["library"]
    older = sorted((library / "backups").glob("library-*.db"))[-1]
    old_photo = sorted((sixty["photos"]).rglob("*.jpg"))[0]
    marked = run_json("mark-face", old_photo, "2,2,60,60")  # the corner of an LFW photo: no face there
    extra = sixty["photos"] / "later"
    extra.mkdir()
    new_photo = lfw_people(7, min_photos=10, max_photos=1)[-1]
    shutil.copy(new_photo, extra / new_photo.name)
    run_json("index", sixty["photos"])
    (new_face,) = [f for f in run_json("faces") if f["photo"].endswith(new_photo.name)]
    assert new_face["id"] > marked["face"]
    run_json("assign", new_face["id"], "Zed")
    restored = run_json("restore", older.name)
    assert restored["corrections_skipped"] == [] and restored["corrections_replayed"] == 3, restored
    faces = run_json("faces")
    (zed,) = [f for f in faces if f["photo"].endswith(new_photo.name)]
    assert zed["id"] != new_face["id"], "the test's premise: the ids moved"
    assert {p["name"] for p in run_json("people")} >= {"Zed"} and zed["person"] is not None
    assert next(p for p in run_json("people") if p["id"] == zed["person"])["name"] == "Zed"
    (hand,) = [f for f in faces if f["photo"] == str(old_photo) and f["bbox"] == [2.0, 2.0, 60.0, 60.0]]
    assert hand["person"] is None
    assert problems(env) == []


@needs_shared
def test_copies_are_generations(sixty, run_json):
    library = sixty["library"]
    for _ in range(4):
        made = run_json("backup")
        assert made["photos"] == 60
        time.sleep(0.01)
    assert len(list((library / "backups").glob("library-*.db"))) == 3


@needs_shared
def test_repair_refuses_an_emptied_database(sixty, env, run):
    """doctor --repair on a database replaced by an empty library would delete every vector."""
    library = sixty["library"]
    db = library / "library.db"
    for extra in ("-wal", "-shm"):
        db.with_name(db.name + extra).unlink(missing_ok=True)
    shutil.move(db, library / "moved.db")
    from clusterids.app import open_library
    from clusterids.config import load_settings

    open_library(load_settings({}, environ=env), create=True).close()  # a new, empty database
    line = one_line_error(run("doctor", "--repair", ok=False))  # the old journal beside it is not its own
    assert "looks emptied or replaced" in line and "clusterids restore" in line, line
    assert len(list((library / "vectors").rglob("*"))) > 0


def test_the_newest_copy_is_the_last_by_name_even_when_the_clock_went_back(tmp_path, monkeypatch):
    """A clock set back between two copies (a machine syncing its time) must not make a restore
    pick the older copy as the newest."""
    import sqlite3

    with sqlite3.connect(tmp_path / backup.DB_FILE) as conn:
        conn.execute("CREATE TABLE t (x)")
    made = []
    for at in (1_800_000_000.5, 1_800_000_000.2, 1_799_999_000.0, 1_800_000_000.500001):
        monkeypatch.setattr(backup.time, "time", lambda at=at: at)
        before = set((tmp_path / backup.BACKUPS_DIR).glob("*.db"))
        backup.make(tmp_path, keep=10)
        (new,) = set((tmp_path / backup.BACKUPS_DIR).glob("*.db")) - before
        made.append(new.name)
    assert sorted(made) == made, made
    assert made[0] == "library-20270115T080000_500000Z.db"


def test_a_file_named_by_hand_in_backups_leaves_the_copies_named_by_their_time(tmp_path):
    import sqlite3

    with sqlite3.connect(tmp_path / backup.DB_FILE) as conn:
        conn.execute("CREATE TABLE t (x)")
    (tmp_path / backup.BACKUPS_DIR).mkdir()
    mine = tmp_path / backup.BACKUPS_DIR / "library-before-upgrade.db"
    mine.write_bytes(b"the user's own")
    for _ in range(4):
        backup.make(tmp_path, keep=3)
    names = sorted(p.name for p in (tmp_path / backup.BACKUPS_DIR).iterdir())
    assert mine.read_bytes() == b"the user's own"
    assert len(names) == 3 and all(re.fullmatch(r"library-\d{8}T\d{6}_\d{6}Z\.db", n) for n in names[:-1]), names
