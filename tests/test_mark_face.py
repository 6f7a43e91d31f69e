"""Faces marked by hand (a box drawn around a face the detector missed): embedded from the box by
the library's models as the detector's own face would be, one correction that undo takes back,
replayed onto a restored copy, and embedded again by a change of model pack."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from clusterids.app import offline, open_core
from clusterids.config import load_settings
from clusterids.core import Core, operations
from clusterids.indexer.embed import embed_photo
from clusterids.store import people as store_people
from clusterids.store.db import Face, Person
from clusterids.store.photos import NewFace

from .conftest import LFW, SCRFD_PACK, needs_shared, on_sqlite
from .synthetic import DIM, add_photos, open_synthetic, people_photos, unit

MISSED = ("--set", "min_face_px=1000")  # every face of a 250 px LFW photo is too small: none is stored


def _one_photo(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    src = LFW / "Aaron_Eckhart" / "Aaron_Eckhart_0001.jpg"
    shutil.copy(src, folder / src.name)
    return folder / src.name


def _faces(env: dict[str, str]) -> list[Face]:
    core = open_core(load_settings({}, environ=env))
    try:
        with core.lib.db.read() as s:
            faces = list(s.scalars(select(Face)))
            s.expunge_all()
        assert sorted(core.lib.index.ids()) == sorted(f.id for f in faces), "the vector index follows the database"
        return faces
    finally:
        core.lib.close()


@needs_shared
def test_a_face_marked_by_hand_is_embedded_as_the_detector_would_and_undo_takes_it_away(tmp_path, env, run,
                                                                                          run_json):
    photo = _one_photo(tmp_path)
    assert run_json("--model", SCRFD_PACK, "index", photo.parent, *MISSED)["faces_added"] == 0
    core = open_core(load_settings({}, environ=env))
    try:
        _, (detected,) = embed_photo(core.lib, photo)  # the face the detector finds with the defaults
    finally:
        core.lib.close()
    box = ",".join(f"{v:g}" for v in detected.bbox)

    made = run_json("mark-face", photo, box, "Ann Marked")
    assert made["created"] and made["label"] == "Ann Marked" and made["found"], made
    assert made["bbox"] == pytest.approx(detected.bbox, abs=0.01)
    (face,) = _faces(env)
    assert (face.id, face.origin, face.pinned, face.person_id) == (made["face"], "hand", True, made["person"])
    # the detector's landmarks inside the box: the vector the detector's own face has
    assert float(np.frombuffer(face.vector, np.float32) @ detected.vector) > 0.97
    for twice in (box, "60,30,200,230", "230,240,70,50"):  # the same box, a loose one, corners reversed
        again = run("mark-face", "1", twice, ok=False)
        assert again.exit_code == 1 and f"has a box on this face already (face {face.id})" in again.stderr, twice
    outside = run("mark-face", "1", "300,300,400,400", ok=False).stderr
    assert "is outside photo 1 (Aaron_Eckhart_0001.jpg, 250x250)" in outside
    second = run_json("mark-face", "1", "-8,-8,40,40", f"Person_{made['person']}")
    assert second["person"] == made["person"] and "now shows Ann Marked twice" in second["warnings"][0]
    assert "marked by hand as Ann Marked" in run("history").stdout

    assert run_json("undo")["undone"] == "mark_face" and len(_faces(env)) == 1
    assert run_json("undo")["undone"] == "mark_face"
    assert _faces(env) == [] and run_json("people") == []  # the person it created goes with it


def test_a_face_marked_by_hand_comes_back_on_a_restored_copy_with_what_was_done_to_it(tmp_path):
    """The plain journal keeps the marked face whole: a replay makes it again, and a later
    correction of that face reaches the face the replay made."""
    env = {"CLUSTERIDS_LIBRARY": str(tmp_path / "library"), "CLUSTERIDS_PROGRESS": "false"}
    settings = load_settings({}, environ=env)
    lib = open_synthetic(settings)
    ids = add_photos(lib, tmp_path / "photos", people_photos(2, 4))
    core = Core(lib)
    core.call(operations.get("people.recluster"), {})  # a copy of the library is made here
    vector = unit(np.random.default_rng(3).normal(size=DIM)).astype(np.float32)
    face = NewFace(bbox=(20.0, 20.0, 90.0, 100.0), landmarks=[[40.0, 50.0]] * 5, det_score=0.0, size_px=70.0,
                   sharpness=50.0, vector=vector.tobytes(), norm=None, origin="hand")
    with lib.db.read() as s:
        photo = s.get(Face, ids[0][0]).photo_id
    marked = store_people.mark_face(lib.db, photo, face, None)
    core.call(operations.get("people.assign"), {"person": "Grace", "face_ids": [marked.face]})
    lib.close()

    db = tmp_path / "library" / "library.db"
    for extra in ("-wal", "-shm"):
        db.with_name(db.name + extra).unlink(missing_ok=True)
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])
    done = offline(settings).call(operations.get("backups.restore"), {})
    assert done.corrections_replayed == 2 and done.corrections_skipped == [], done
    lib = open_synthetic(settings)
    try:
        with lib.db.read() as s:
            (back,) = s.scalars(select(Face).where(Face.origin == "hand"))
            assert (back.photo_id, back.bbox, back.vector, back.pinned) == (photo, list(face.bbox), face.vector, True)
            grace = s.get(Person, back.person_id) if back.person_id is not None else None
            assert grace is not None and grace.name == "Grace"
    finally:
        lib.close()


@needs_shared
@on_sqlite
def test_a_change_of_model_embeds_a_face_marked_by_hand_again_where_the_new_pack_misses_it(tmp_path, env, run_json):
    photo = _one_photo(tmp_path)
    run_json("--model", SCRFD_PACK, "index", photo.parent, *MISSED)
    made = run_json("mark-face", photo, "83,66,168,189", "Ann Marked")
    result = run_json("reindex", "--model", "open", *MISSED)  # the new pack misses it too
    assert result["faces_added"] == 0 and result["faces_carried"] == 1, result
    (face,) = _faces(env)
    assert face.origin == "hand" and face.bbox == made["bbox"] and face.pinned
    assert len(face.vector) == 4 * 128 and face.person_id == made["person"]
    assert face.id != made["face"]
    run_json("undo")  # the mark, made before the change of model, reaches the face it became
    assert _faces(env) == []


@needs_shared
@on_sqlite
def test_a_face_marked_by_hand_moves_to_another_library_where_its_pack_misses_it(tmp_path, env, run_json):
    photo = _one_photo(tmp_path)
    run_json("--model", SCRFD_PACK, "index", photo.parent, *MISSED)
    run_json("mark-face", photo, "83,66,168,189", "Ann Marked")
    file = tmp_path / "people.json"
    run_json("people", "export", file)
    other = ("-L", tmp_path / "other")
    assert run_json(*other, "--model", "open", "index", photo.parent, *MISSED)["faces_added"] == 0
    result = run_json(*other, "people", "import", file)
    assert result["faces_assigned"] == 1 and result["unmatched"] == [], result
    (face,) = run_json(*other, "faces")
    assert face["bbox"] == [83.0, 66.0, 168.0, 189.0]
    assert next(p for p in run_json(*other, "people") if p["id"] == face["person"])["name"] == "Ann Marked"


@needs_shared
@on_sqlite
def test_a_face_marked_without_a_name_says_whose_the_library_made_it(tmp_path, env, run, run_json):
    """Marked as an unknown face, it is given at once to the person it looks like (the instant
    assignment): the answer says so, not "an unknown face"."""
    folder = tmp_path / "photos"
    folder.mkdir()
    first, second = sorted((LFW / "Abel_Pacheco").glob("*.jpg"))[:2]
    for p in (first, second):
        shutil.copy(p, folder / p.name)
    assert run_json("--model", SCRFD_PACK, "index", folder, *MISSED)["faces_added"] == 0
    core = open_core(load_settings({}, environ=env))
    try:
        boxes = [",".join(f"{v:g}" for v in embed_photo(core.lib, folder / p.name)[1][0].bbox) for p in (first, second)]
    finally:
        core.lib.close()
    abel = run_json("mark-face", folder / first.name, boxes[0], "Abel")["person"]
    said = run("mark-face", folder / second.name, boxes[1]).stdout
    assert f"person {abel} (Abel), who it looks like" in said, said
    assert [f["person"] for f in run_json("faces")] == [abel, abel]
