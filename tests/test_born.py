"""A person's birth date (Immich #17454): their faces in photos taken before it leave them, and no
recluster, instant assignment or suggestion gives them one again, unless the user gave it by hand;
an estimated date (a file's modification time) never counts; one correction, undone at once.
On the synthetic library (no models)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from clusterids.core import Core
from clusterids.errors import UserError
from clusterids.store.db import Photo
from clusterids.store.library import Library

from .synthetic import DIM, add_photos, synthetic_library, unit
from .test_core_synthetic import owner, persons_of, run


@pytest.fixture
def lib(tmp_path: Path, database_url: str) -> Iterator[Library]:
    """On both engines: the dates are compared in SQL (PostgreSQL's collation, SQLite's bytes)."""
    with synthetic_library(tmp_path, **({"database_url": database_url} if database_url else {})) as library:
        yield library


def _dated(lib: Library, faces: list[list[int]], dates: list[str], estimated: bool = False) -> None:
    """The photos of ``faces`` (one list per photo) taken on ``dates``."""
    from clusterids.store.db import Face

    with lib.db.transaction() as s:
        for ids, when in zip(faces, dates, strict=True):
            photo = s.get(Photo, s.get(Face, ids[0]).photo_id)
            photo.taken_at, photo.taken_estimated = when, estimated


@pytest.fixture
def family(lib: Library, tmp_path: Path) -> dict[str, Any]:
    """A father photographed every year from 1975 to 1984 and, alike to him, his son in 2012-2014."""
    rng = np.random.default_rng(5)
    centre = unit(rng.normal(size=DIM))
    photos = [[unit(centre + 0.04 * rng.normal(size=DIM))] for _ in range(13)]
    ids = add_photos(lib, tmp_path / "photos", photos)
    years = [1975 + k for k in range(10)] + [2012, 2013, 2014]
    _dated(lib, ids, [f"{y}-06-01T12:00:00" for y in years])
    return {"centre": centre, "rng": rng, "old": [p[0] for p in ids[:10]], "young": [p[0] for p in ids[10:]],
            "folder": tmp_path / "photos"}


def test_a_birth_date_takes_the_photos_from_before_it_away_and_keeps_them_away(lib: Library, family) -> None:
    core = Core(lib)
    run(core, "people.recluster")
    (son,) = persons_of(lib)  # one person: the father's childhood-like faces and the son's
    pinned = family["old"][0]
    run(core, "people.assign", person=str(son), face_ids=[pinned])  # the user says this one is his
    done = run(core, "people.born", person=str(son), date="2012-01-15")
    assert done.born == "2012-01-15" and done.pinned_before == [pinned]
    assert sorted(done.left) == sorted(family["old"][1:])
    assert sorted(persons_of(lib)[son]) == sorted([pinned, *family["young"]])

    run(core, "people.recluster", from_scratch=True)
    assert all(owner(lib, f) != son for f in family["old"][1:]), "a recluster must not give them back"
    assert owner(lib, pinned) == son and all(owner(lib, f) == son for f in family["young"])
    # someone else's (the father's): unknown faces, to be named, never the son again
    assert {owner(lib, f) for f in family["old"][1:]} == {None}
    asked = core.people.suggest(str(son), 100)
    assert not {s.face for s in asked.faces} & set(family["old"])

    # a new photo from before the birth is never the son's; an estimated date does not count
    rng = family["rng"]
    new = add_photos(lib, family["folder"], [[unit(family["centre"] + 0.04 * rng.normal(size=DIM))] for _ in range(3)],
                     start=100)
    _dated(lib, new[:1], ["1999-03-01T10:00:00"])
    _dated(lib, new[1:2], ["2013-03-01T10:00:00"])
    _dated(lib, new[2:], ["2001-03-01T10:00:00"], estimated=True)
    run(core, "people.recluster")
    assert owner(lib, new[0][0]) != son and owner(lib, new[1][0]) == son and owner(lib, new[2][0]) == son

    history = core.people.history(1)[0]
    assert history.op == "born"


def test_undo_puts_the_faces_back_and_a_bad_date_is_one_line(lib: Library, family) -> None:
    core = Core(lib)
    run(core, "people.recluster")
    (son,) = persons_of(lib)
    before = sorted(persons_of(lib)[son])
    run(core, "people.born", person=str(son), date="2012-01-15")
    assert sorted(persons_of(lib)[son]) == sorted(family["young"])
    assert run(core, "people.undo").undone == "born"
    assert sorted(persons_of(lib)[son]) == before
    with lib.db.read() as s:
        from clusterids.store.db import Person

        assert s.scalar(select(Person.born).where(Person.id == son)) is None
    bad_dates = (("30/05/2012", "is not a date"), ("1700-01-01", "not a birth date"), ("2012-02-30", "not a date"),
                 ("2999-01-01", "in the future"))
    for bad, said in bad_dates:
        with pytest.raises(UserError, match=said):
            run(core, "people.born", person=str(son), date=bad)
    # no date again is no correction (nothing to undo); a person is found by how they are called
    assert run(core, "people.born", person=f"person_{son}", date="").born is None
    assert core.people.history(10) == []
    with pytest.raises(UserError, match="how an unnamed person is called"):
        run(core, "people.assign", person="Person_999", face_ids=[family["old"][0]])


def test_a_merge_holds_the_birth_date_for_every_face_and_its_undo_gives_them_back(lib: Library, tmp_path) -> None:
    rng = np.random.default_rng(8)
    a, b = unit(rng.normal(size=DIM)), unit(rng.normal(size=DIM))
    ids = add_photos(lib, tmp_path / "photos", [[unit(c + 0.04 * rng.normal(size=DIM))] for c in [a] * 5 + [b] * 4])
    years = [1975 + k for k in range(5)] + [2012 + k for k in range(4)]
    _dated(lib, ids, [f"{y}-06-01T12:00:00" for y in years])
    core = Core(lib)
    run(core, "people.recluster")
    dad, son = owner(lib, ids[0][0]), owner(lib, ids[5][0])
    assert dad is not None and son is not None and dad != son
    run(core, "people.born", person=str(son), date="2012-01-01")
    run(core, "people.merge", persons=[str(dad), str(son)])  # the son's date comes with him
    assert core.people.person(str(dad)).born == "2012-01-01"
    assert sorted(persons_of(lib)[dad]) == sorted(f[0] for f in ids[5:])
    run(core, "people.undo")
    assert core.people.person(str(dad)).born is None
    assert sorted(persons_of(lib)[dad]) == sorted(f[0] for f in ids[:5])


def test_undo_of_a_cleared_birth_date_takes_the_early_faces_away_again(lib: Library, family) -> None:
    """The date cleared, a recluster gave the person the early faces back; the undo of the clear
    puts the date back, and with it the rule: those faces leave at once, not at the next recluster."""
    core = Core(lib)
    run(core, "people.recluster")
    (son,) = persons_of(lib)
    run(core, "people.born", person=str(son), date="2012-01-15")
    run(core, "people.born", person=str(son), date="")
    run(core, "people.recluster", from_scratch=True)
    son = owner(lib, family["young"][0])
    assert all(owner(lib, f) == son for f in family["old"])  # no date: one person again
    assert run(core, "people.undo").undone == "born"
    assert sorted(persons_of(lib)[son]) == sorted(family["young"])
