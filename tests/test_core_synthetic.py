"""The core on synthetic vectors: the constraint planner, album switching and undo, fast and
without model files or shared data. The library is real (SQLite, Qdrant Edge, album folders);
only the model pack is a stand-in, handed to the store the way app.open_library hands the
real one (the store's ModelSource)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from clusterids.core import Core
from clusterids.outputs.albums import folder_name
from clusterids.store import reads
from clusterids.store.library import Library
from clusterids.upkeep import invariants

from .synthetic import DIM, add_photos, synthetic_library, unit


@pytest.fixture
def lib(tmp_path: Path) -> Iterator[Library]:
    with synthetic_library(tmp_path) as library:
        yield library


@pytest.fixture
def core(lib: Library) -> Core:
    return Core(lib)


@pytest.fixture
def three(lib: Library, tmp_path: Path) -> dict[str, Any]:
    """Three people with six photos each, and one photo where a look-alike of the first
    stands beside them (two faces of one photo: two people)."""
    rng = np.random.default_rng(7)
    centres = unit(rng.normal(size=(3, DIM)))
    photos = [[unit(centres[i] + 0.04 * rng.normal(size=DIM))] for i in range(3) for _ in range(6)]
    photos.append([unit(centres[0] + 0.04 * rng.normal(size=DIM)), unit(centres[0] + 0.04 * rng.normal(size=DIM))])
    ids = add_photos(lib, tmp_path / "photos", photos)
    return {"faces": [ids[6 * i : 6 * i + 6] for i in range(3)], "pair": ids[-1]}


def persons_of(lib: Library) -> dict[int, list[int]]:
    people = Core(lib).people
    return {p.id: [f.id for f in people.faces(str(p.id))] for p in people.persons()}


def albums_of(lib: Library) -> dict[str, set[str]]:
    root = lib.settings.albums_path
    return {e.name: set(os.listdir(e)) for e in root.iterdir() if not e.name.startswith(".")}


def run(core: Core, name: str, /, **kwargs: Any) -> Any:
    """One operation as the CLI and the daemon run it: the call, then the catch-up."""
    from clusterids.core import operations

    return core.call(operations.get(name), kwargs)


def owner(lib: Library, face: int) -> int | None:
    return next((pid for pid, faces in persons_of(lib).items() if face in faces), None)


def test_the_planner_makes_one_person_each_and_keeps_two_faces_of_a_photo_apart(lib, core, three):
    run(core, "people.recluster")
    people = persons_of(lib)
    assert len(people) == 3
    groups = [sorted(f[0] for f in three["faces"][i]) for i in range(3)]
    first = owner(lib, groups[0][0])
    assert first is not None
    for group in groups:
        assert len({owner(lib, f) for f in group}) == 1
    # the look-alike pair: one of the two joins the first person, never both
    assert sum(owner(lib, f) == first for f in three["pair"]) == 1
    assert invariants.check(lib).ok, invariants.check(lib).problems


def test_corrections_survive_a_recluster_from_scratch_and_undo_puts_them_back(lib, core, three):
    run(core, "people.recluster")
    a_face, b_face = three["faces"][0][0][0], three["faces"][1][0][0]
    a, b = owner(lib, a_face), owner(lib, b_face)
    assert a is not None and b is not None and a != b
    moved = three["faces"][0][1][0]
    run(core, "people.assign", person=str(b), face_ids=[moved])  # pinned to b
    rejected = three["faces"][0][2][0]
    run(core, "people.reject", person=str(a), face_ids=[rejected])  # never a again
    run(core, "people.recluster", from_scratch=True)
    assert owner(lib, moved) == b
    assert owner(lib, rejected) != a
    assert invariants.check(lib).ok, invariants.check(lib).problems

    run(core, "people.undo")  # the rejection goes: the next recluster may bring it back
    run(core, "people.undo")  # the assignment goes back to before it
    assert owner(lib, moved) == a
    run(core, "people.recluster", from_scratch=True)
    assert owner(lib, rejected) == a and owner(lib, moved) == a


def test_albums_switch_with_a_rename_merge_hide_and_their_undo(lib, core, three):
    run(core, "people.recluster")
    a, b = owner(lib, three["faces"][0][0][0]), owner(lib, three["faces"][1][0][0])
    assert a is not None and b is not None
    before = albums_of(lib)
    assert set(before) == {folder_name(pid, None) for pid in persons_of(lib)}
    assert all(len(entries) in (6, 7) for entries in before.values())

    run(core, "people.rename", person=str(a), name="Grandma")
    after = albums_of(lib)
    assert "Grandma" in after and folder_name(a, None) not in after
    assert after["Grandma"] == before[folder_name(a, None)]  # the same photos, under the new name

    run(core, "people.merge", persons=[str(a), str(b)])
    merged = albums_of(lib)
    assert len(merged) == 2 and merged["Grandma"] == before[folder_name(a, None)] | before[folder_name(b, None)]

    run(core, "people.hide", person=str(a))
    assert "Grandma" not in albums_of(lib)

    for _ in range(3):  # hide, merge, rename: each undone, the albums follow
        run(core, "people.undo")
    assert albums_of(lib) == before
    assert invariants.check(lib).ok, invariants.check(lib).problems


def test_a_file_the_user_put_in_an_album_is_kept_through_every_change(lib, core, three):
    """Albums are ours, but a note or an edit saved into one is the user's: a rebuild carries it
    to the album's next version, doctor finds nothing wrong (before, its repair looped), and an
    album that goes leaves it in a plain folder of that name."""
    run(core, "people.recluster")
    a, b = owner(lib, three["faces"][0][0][0]), owner(lib, three["faces"][1][0][0])
    run(core, "people.rename", person=str(a), name="Grandma")
    root = lib.settings.albums_path
    (root / "Grandma" / "notes.txt").write_text("the trip to Rome")
    assert invariants.check(lib).ok, invariants.check(lib).problems
    run(core, "people.merge", persons=[str(a), str(b)])  # a new version of Grandma's album
    assert (root / "Grandma" / "notes.txt").read_text() == "the trip to Rome"
    assert len(albums_of(lib)["Grandma"] - {"notes.txt"}) >= 12
    assert invariants.check(lib).ok, invariants.check(lib).problems
    entry = sorted(albums_of(lib)["Grandma"] - {"notes.txt"})[0]  # a link of ours, replaced by an edit
    (root / "Grandma" / entry).unlink()
    (root / "Grandma" / entry).write_bytes(b"an edited copy")
    assert invariants.check(lib).ok, invariants.check(lib).problems
    run(core, "people.split", person=str(a), face_ids=[three["faces"][1][0][0]])  # a new version again
    stem, ext = os.path.splitext(entry)
    assert (root / "Grandma" / f"{stem} (yours){ext}").read_bytes() == b"an edited copy"
    assert (root / "Grandma" / entry).is_symlink()  # ours again beside it
    run(core, "people.hide", person=str(a))  # the album goes, the note and the edit stay
    assert not (root / "Grandma").is_symlink()
    assert sorted(os.listdir(root / "Grandma")) == sorted(["notes.txt", f"{stem} (yours){ext}"])
    assert invariants.check(lib).ok, invariants.check(lib).problems


def test_an_album_whose_name_passes_back_and_forth_in_merges_and_undos_stays(lib, core, three):
    """Merged into the other person (who takes the name) and undone: the other person's album
    leaves the name; it removed the link the named person's album had just made there."""
    run(core, "people.recluster")
    a, b = owner(lib, three["faces"][0][0][0]), owner(lib, three["faces"][1][0][0])
    run(core, "people.rename", person=str(a), name="Grandma")
    for keep, other in ((a, b), (b, a)):
        run(core, "people.merge", persons=[str(keep), str(other)])
        run(core, "people.undo")
        assert "Grandma" in albums_of(lib), (keep, other)
        assert invariants.check(lib).ok, invariants.check(lib).problems


def test_the_planner_alone_splits_a_cluster_that_holds_two_faces_of_one_photo(lib, three):
    """Handed one cluster with both faces of a photo in it (as a bridge through a look-alike
    could make), the planner keeps one, the nearer to the others, and leaves the other unknown."""
    from clusterids.clustering import people

    faces = people.load_faces(lib)
    row = {int(f): i for i, f in enumerate(faces.ids)}
    labels = np.full(len(faces.ids), -1)
    for ident, group in enumerate(three["faces"]):
        for photo in group:
            labels[row[photo[0]]] = ident
    for f in three["pair"]:
        labels[row[f]] = 0
    plan = people.plan(lib, faces, labels)
    first = plan.assignment[three["faces"][0][0][0]]
    kept = [f for f in three["pair"] if plan.assignment[f] == first]
    assert len(kept) == 1 and plan.assignment[({*three["pair"]} - {*kept}).pop()] is None
    assert len(plan.new_keys) == 3


def test_the_planner_is_pure_and_obeys_pins_rejections_and_merges():
    """plan_with on a hand-made table: no library, no database."""
    from clusterids.clustering.people import FaceTable, Known, plan_with

    e1, e2 = np.eye(4, dtype=np.float32)[0], np.eye(4, dtype=np.float32)[1]
    faces = FaceTable(
        ids=np.array([1, 2, 3, 4, 5, 6, 7, 8]),
        vectors=np.stack([e1, e1, e1, e1, e2, e2, e1, e2]),
        person=np.array([10, 10, 30, -1, -1, 20, -1, 20]),  # 30 was merged into 10
        pinned=np.array([False, False, False, False, False, True, False, True]),
        can_core=np.ones(8, bool),
        photo=np.arange(8),
    )
    labels = np.array([0, 0, 0, 0, 0, 0, -1, -1])
    known = Known(merged_into={10: None, 20: None, 30: 10}, named=frozenset({20}), rejected={4: {10}})
    plan = plan_with(faces, labels, known)
    assert plan.assignment == {1: 10, 2: 10, 3: 10,  # the cluster goes to the person most had (30 is 10)
                               4: 20,  # rejected for 10: the only other person of its cluster
                               5: 20,  # nearer to 20's pinned face than to 10's faces
                               6: 20,  # pinned
                               7: None,  # in no cluster, not pinned: unknown
                               8: 20}  # in no cluster, but pinned: stays
    assert plan.new_keys == []
    fresh = plan_with(faces, np.array([0, 0, 0, 1, 1, -1, 1, -1]), Known({}, frozenset(), {}))
    assert fresh.new_keys == [-1] and {fresh.assignment[i] for i in (4, 5, 7)} == {-1}


def test_a_photo_turned_in_an_editor_hands_its_names_to_the_faces_where_the_turn_took_them(lib, core, tmp_path):
    """Turned a quarter in its pixels (no EXIF says so), the photo's faces lie where the turn
    took them, and their vectors are only somewhat alike (the landmarks of a turned face are
    found less well): each name goes to the face at its turned place, none is swapped."""
    from clusterids.store.photos import NewFace, PhotoFacts, PhotoWriter, Seen

    rng = np.random.default_rng(3)
    pair = [unit(rng.normal(size=DIM)), unit(rng.normal(size=DIM))]
    (ids,) = add_photos(lib, tmp_path / "turned", [pair])
    run(core, "people.assign", person="Ann", face_ids=[ids[0]])
    run(core, "people.assign", person="Bob", face_ids=[ids[1]])
    with lib.db.read() as s:
        photo = reads.get_photo(s, reads.get_face(s, ids[0]).photo_id)
    w, h = photo.width, photo.height  # 400 x 200: two faces side by side

    def turned(x1: float, y1: float, x2: float, y2: float) -> tuple[float, float, float, float]:
        return y1, w - x2, y2, w - x1  # a quarter counter-clockwise

    faces = []
    for k, v in enumerate(pair):
        near = unit(v + 0.9 * unit(rng.normal(size=DIM)))  # cosine about 0.7 to the old vector
        faces.append(NewFace(turned(10.0 + 200 * k, 10.0, 150.0 + 200 * k, 150.0), [[0.0, 0.0]] * 5, 0.9, 140.0,
                             500.0, near.astype(np.float32).tobytes()))
    with PhotoWriter(lib.db) as writer:
        writer.store(Seen(photo.path, photo.size + 1, photo.mtime_ns + 1), "f" * 64, PhotoFacts(h, w, None, 1),
                     faces)
    core.catch_up()
    with lib.db.read() as s:
        now = {(f.x1, f.y1): f.person_id for f in reads.faces(s, photo_id=photo.id)}
        ann, bob = (reads.find_person(s, n).id for n in ("Ann", "Bob"))
    assert now == {faces[0].bbox[:2]: ann, faces[1].bbox[:2]: bob}


def test_the_person_kept_by_a_merge_keeps_its_picture(lib, core, three):
    """Merging a person whose faces are larger into another must not give the kept person the
    other's face as its picture (the page showed Serena Williams on Bill Clinton's card)."""
    from clusterids.store.db import Face

    run(core, "people.recluster")
    faces = [[f for photo in three["faces"][i] for f in photo] for i in (0, 1)]
    keep, other = (next(p for p, fs in persons_of(lib).items() if set(fs) >= set(faces[i])) for i in (0, 1))
    with lib.db.transaction() as s:
        for fid in faces[1]:
            s.get(Face, fid).size_px = 400.0  # the other person's faces are the better ones
    with lib.db.read() as s:
        before = next(c.cover for c in reads.person_counts(s, covers=True) if c.person.id == keep)
    assert before in persons_of(lib)[keep]
    run(core, "people.merge", persons=[str(keep), str(other)])
    with lib.db.read() as s:
        after = next(c.cover for c in reads.person_counts(s, covers=True) if c.person.id == keep)
    assert after == before
