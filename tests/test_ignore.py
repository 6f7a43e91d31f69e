"""Ignored faces (issue 18): out of the unknown faces and of their person, never suggested nor
clustered, kept through a recluster from scratch, a change of model and copies, and undone as
any correction. The core on the synthetic library (no models), then the CLI on real photos."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from clusterids.clustering.people import params
from clusterids.core import Core
from clusterids.core.suggestions import FACE_OFFSETS, cuts
from clusterids.outputs.albums import folder_name
from clusterids.store.library import Library
from clusterids.upkeep import invariants

from .conftest import SCRFD_PACK, SOLVAY, needs_shared
from .synthetic import DIM, add_photos, synthetic_library, unit
from .test_core_synthetic import albums_of, owner, persons_of, run


@pytest.fixture
def lib(tmp_path: Path) -> Iterator[Library]:
    # no attaching of single faces: the crowd below stays unknown, close enough to be suggested
    with synthetic_library(tmp_path, attach_eps=-1) as library:
        yield library


@pytest.fixture
def core(lib: Library) -> Core:
    return Core(lib)


@pytest.fixture
def two(lib: Library, tmp_path: Path) -> dict[str, Any]:
    """Two people with six photos each, and a crowd photo of three strangers who look like the
    first person (close enough to be suggested for them, too far to join them)."""
    rng = np.random.default_rng(11)
    centres = unit(rng.normal(size=(2, DIM)))
    photos = [[unit(centres[i] + 0.04 * rng.normal(size=DIM))] for i in range(2) for _ in range(6)]
    likely = cuts(params(lib).eps, FACE_OFFSETS)[0]  # the queue's cut (core/suggestions.py)
    strangers = [_at(centres[0], likely - 0.05, rng) for _ in range(3)]  # alone near it: the lead lifts them
    ids = add_photos(lib, tmp_path / "photos", [*photos, strangers])
    return {"faces": [[p[0] for p in ids[6 * i : 6 * i + 6]] for i in range(2)], "crowd": ids[-1]}


def _at(centre: np.ndarray, similarity: float, rng: np.random.Generator) -> np.ndarray:
    """A unit vector this similar to ``centre`` (a unit vector), in a random direction."""
    r = rng.normal(size=DIM)
    across = unit(r - (r @ centre) * centre)
    return unit(similarity * centre + np.sqrt(1 - similarity**2) * across)


def unknown(core: Core) -> set[int]:
    return {f.id for f in core.people.faces(unknown=True)}


def suggested(core: Core, person: int) -> set[int]:
    return {s.face for s in core.people.suggest(str(person), 100).faces}


def test_an_ignored_face_leaves_unknown_suggestions_and_its_person_and_stays_so(lib, core, two):
    run(core, "people.recluster")
    a = owner(lib, two["faces"][0][0])
    assert a is not None and unknown(core) >= set(two["crowd"])
    crowd = two["crowd"]
    assert suggested(core, a) & set(crowd), "the strangers are close enough to be suggested (the test's premise)"
    unknown_before = core.people.page().unknown
    albums_before = albums_of(lib)[folder_name(a, None)]

    stranger = run(core, "people.ignore", face_ids=crowd[:2])
    assert stranger.reason == "ignored" and stranger.persons == []
    mine = two["faces"][0][5]  # a face of person a, in its own photo
    left = run(core, "people.ignore", face_ids=[mine], not_a_face=True)
    assert left.reason == "not_a_face" and left.persons == [a]

    ignored = {*crowd[:2], mine}
    assert not unknown(core) & ignored
    assert core.people.page().unknown == unknown_before - 2
    assert mine not in persons_of(lib)[a] and len(persons_of(lib)[a]) == 5
    assert len(albums_of(lib)[folder_name(a, None)]) == len(albums_before) - 1  # its photo left the album
    assert not suggested(core, a) & ignored
    assert {f.id: f.ignored for f in core.people.faces(ignored=True)} == \
        {crowd[0]: "ignored", crowd[1]: "ignored", mine: "not_a_face"}
    assert [c.op for c in core.people.history()][:2] == ["ignore", "ignore"]

    run(core, "people.recluster", from_scratch=True)  # no recluster takes them back
    assert owner(lib, mine) is None and not unknown(core) & ignored
    assert not suggested(core, a) & ignored
    assert invariants.check(lib).ok, invariants.check(lib).problems

    run(core, "people.undo")  # the not-a-face goes: the face is a's again, at once
    assert owner(lib, mine) == a and mine not in {f.id for f in core.people.faces(ignored=True)}
    assert len(albums_of(lib)[folder_name(a, None)]) == len(albums_before)
    run(core, "people.undo")
    assert unknown(core) >= set(crowd) and core.people.page().unknown == unknown_before
    assert core.people.faces(ignored=True) == []
    assert invariants.check(lib).ok, invariants.check(lib).problems


def test_unignore_makes_a_face_unknown_again_and_the_instant_assignment_offers_it(lib, core, two):
    run(core, "people.recluster")
    a = owner(lib, two["faces"][0][0])
    mine = two["faces"][0][3]
    run(core, "people.ignore", face_ids=[mine])
    assert owner(lib, mine) is None
    back = run(core, "people.unignore", face_ids=[mine])
    assert back.reason is None and core.people.faces(ignored=True) == []
    assert owner(lib, mine) == a  # its neighbours are a's: it joins them as a new face would
    assert invariants.check(lib).ok, invariants.check(lib).problems


def test_the_instant_assignment_and_people_import_skip_an_ignored_face(lib, core, two):
    from clusterids.store import grouping, outbox

    run(core, "people.recluster")
    a = owner(lib, two["faces"][0][0])
    mine = two["faces"][0][4]
    run(core, "people.ignore", face_ids=[mine])
    with lib.db.transaction() as s:  # offered to the persons again, as a copy's faces are
        outbox.mark(s, outbox.ASSIGN, [mine])
    core.catch_up()
    assert grouping.join(lib.db, a, [mine]) == []
    assert owner(lib, mine) is None and {f.id for f in core.people.faces(ignored=True)} == {mine}


def test_ignore_names_a_missing_face_in_one_line(core, two):
    from clusterids.errors import UserError

    with pytest.raises(UserError, match="no face 999999"):
        run(core, "people.ignore", face_ids=[999_999])
    with pytest.raises(UserError, match="ignore needs a face"):
        run(core, "people.ignore", face_ids=[])


def test_a_change_of_model_hands_the_ignoring_to_the_overlapping_face(lib, core, two):
    """What reindex does around the new pack's faces (clustering/carry.py): remember, forget,
    index again (here: the same boxes a little moved), restore."""
    from clusterids.clustering import carry
    from clusterids.store.db import Face
    from clusterids.store.photos import forget_everything

    run(core, "people.recluster")
    crowd = two["crowd"]
    run(core, "people.ignore", face_ids=[crowd[0]])
    run(core, "people.ignore", face_ids=[crowd[1]], not_a_face=True)
    with lib.db.read() as s:
        boxes = {f.id: (f.photo.path, f.x1, f.x2) for f in s.query(Face).filter(Face.id.in_(crowd))}
    remembered = carry.remember(lib)
    forget_everything(lib.db)
    core.catch_up()
    folder = Path(boxes[crowd[0]][0]).parent
    rng = np.random.default_rng(3)
    new = add_photos(lib, folder.parent / "again", [[unit(rng.normal(size=DIM)) for _ in range(3)]])[0]
    with lib.db.transaction() as s:  # the new faces are in the old photo, with boxes 2 px off
        for fid in new:
            s.get(Face, fid).photo.path = boxes[crowd[0]][0]
            s.get(Face, fid).x1 += 2
    assert carry.restore(lib, remembered) == 2  # the third stranger carried nothing
    core.catch_up()
    assert {f.id: f.ignored for f in core.people.faces(ignored=True)} == {new[0]: "ignored", new[1]: "not_a_face"}
    assert unknown(core) == {new[2]}
    run(core, "people.undo")  # the last correction, made on the old pack's face, reaches its new face
    assert {f.id: f.ignored for f in core.people.faces(ignored=True)} == {new[0]: "ignored"}
    assert unknown(core) == {new[1], new[2]}


@needs_shared
def test_faces_ignored_on_the_cli_stay_ignored_through_recluster_and_reindex(run: Callable[..., Any],
                                                                             run_json: Callable[..., Any],
                                                                             photos: Path) -> None:
    run_json("index", photos)
    run_json("recluster")
    faces = run_json("faces")
    crowd = sorted((f for f in faces if Path(f["photo"]).name == SOLVAY.name and f["person"] is None),
                   key=lambda f: f["id"])
    assert len(crowd) >= 4
    person = run_json("people")[0]
    theirs = run_json("faces", "--person", person["id"])[0]["id"]
    said = run("ignore", crowd[0]["id"], crowd[1]["id"], theirs).stdout
    assert said.startswith("3 faces are ignored; ")
    assert run("ignore", "--not-a-face", crowd[2]["id"]).stdout == f"face {crowd[2]['id']} is not a face\n"
    ignored = {crowd[0]["id"]: "ignored", crowd[1]["id"]: "ignored", theirs: "ignored", crowd[2]["id"]: "not_a_face"}

    def check(ids: dict[int, str]) -> None:
        assert {f["id"]: f["ignored"] for f in run_json("faces", "--ignored")} == ids
        assert not {f["id"] for f in run_json("faces", "--unknown")} & set(ids)
        for p in run_json("people", "--all"):
            assert not {f["id"] for f in run_json("faces", "--person", p["id"])} & set(ids)
        asked = run_json("suggest", "--person", person["id"], "--limit", "200")["faces"]
        assert not {s["face"] for s in asked} & set(ids)

    check(ignored)
    assert next(p for p in run_json("people") if p["id"] == person["id"])["faces"] == person["faces"] - 1
    assert "ignored" in run("faces", "--ignored").stdout and "not a face" in run("faces", "--ignored").stdout
    run_json("recluster", "--from-scratch")
    check(ignored)
    assert run("history").stdout.splitlines()[1].endswith(f"face {crowd[2]['id']} ignored as not a face")

    boxes = {f["id"]: (Path(f["photo"]).name, f["bbox"]) for f in faces if f["id"] in ignored}
    result = run_json("reindex", "--model", SCRFD_PACK)
    assert result["faces_carried"] >= len(ignored)
    after = run_json("faces", "--ignored")
    # each ignored face handed its reason to the new face of its photo over it
    from clusterids.clustering.carry import iou

    for old, (name, box) in boxes.items():
        match = [f for f in after if Path(f["photo"]).name == name and iou(box, f["bbox"]) >= 0.5]
        assert len(match) == 1 and match[0]["ignored"] == ignored[old], (old, name)
    check({f["id"]: f["ignored"] for f in after})


def test_the_cli_ignores_lists_and_undoes_in_words(tmp_path: Path) -> None:
    """On the synthetic library: the commands' words, the list of ignored faces, a recluster from
    scratch, undo, and a face that is not there, in one line."""
    import json

    from .synthetic import people_photos
    from .test_cli_words import build, runner

    cli = runner(build(tmp_path, people_photos(2, 6)))
    person = json.loads(cli("people", "--json").stdout)[0]
    who = person["name"] or f"Person_{person['id']}"
    faces = [f["id"] for f in json.loads(cli("faces", "--person", person["id"], "--json").stdout)]
    assert cli("ignore", faces[0], faces[1]).stdout == f"2 faces are ignored; {who} lost them\n"
    assert cli("ignore", "--not-a-face", faces[2]).stdout == f"face {faces[2]} is not a face; {who} lost it\n"
    table = cli("faces", "--ignored").stdout.splitlines()[1:]
    rows = {int(line.split()[0]): line.split("  ")[1].strip() for line in table}
    assert rows == {faces[0]: "ignored", faces[1]: "ignored", faces[2]: "not a face"}
    cli("recluster", "--from-scratch")
    assert sorted(f["id"] for f in json.loads(cli("faces", "--ignored", "--json").stdout)) == sorted(faces[:3])
    assert next(p for p in json.loads(cli("people", "--json").stdout) if p["id"] == person["id"])["faces"] == 3
    assert cli("undo").stdout == f"undone: face {faces[2]} ignored as not a face\n"
    assert cli("unignore", faces[0]).stdout == f"face {faces[0]} is unknown again\n"
    assert cli("history").stdout.splitlines()[1].endswith(f"face {faces[0]} taken back from the ignored")
    bad = cli("ignore", 999_999, ok=False)
    assert bad.exit_code == 1 and bad.stderr.count("\n") == 1 and "no face 999999" in bad.stderr


def test_undo_after_a_recluster_dropped_the_person_leaves_the_faces_unknown(lib, core, two):
    run(core, "people.recluster")
    a = owner(lib, two["faces"][0][0])
    theirs = two["faces"][0]
    run(core, "people.ignore", face_ids=theirs[:5])  # one face left: too few for a cluster
    run(core, "people.recluster", from_scratch=True)
    assert a not in persons_of(lib)
    run(core, "people.undo")
    assert set(theirs[:5]) <= unknown(core) and core.people.faces(ignored=True) == []
    assert invariants.check(lib).ok, invariants.check(lib).problems
