"""The suggestions queue asks only what is likely to be answered yes (issue 18): nothing on a clean
library, a person found twice, an unknown face close to its person; never two persons seen
together in one photo, never a face rejected for the person. Synthetic faces in a real library."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from clusterids.clustering.people import params
from clusterids.core import Core
from clusterids.core.suggestions import FACE_OFFSETS, MERGE_OFFSETS, cuts
from clusterids.store.library import Library

from .synthetic import DIM, add_photos, synthetic_library, unit
from .test_core_synthetic import owner, run


@pytest.fixture
def lib(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Library]:
    """A synthetic library; ``@pytest.mark.settings(...)`` overrides settings."""
    mark = request.node.get_closest_marker("settings")
    with synthetic_library(tmp_path, **(dict(mark.kwargs) if mark else {})) as library:
        yield library


RNG = np.random.default_rng(3)
BASIS = np.linalg.qr(RNG.normal(size=(DIM, DIM)))[0].T  # orthonormal rows: people far apart


def near(v: np.ndarray, similarity: float, seed: int) -> np.ndarray:
    """A unit vector at exactly ``similarity`` to ``v``, in a direction of its own."""
    other = np.random.default_rng(seed).normal(size=DIM)
    other -= (other @ v) * v
    return unit(similarity * v + np.sqrt(1 - similarity**2) * unit(other))


def person_of(centre: np.ndarray, n: int, seed: int, spread: float = 0.995) -> list[list[np.ndarray]]:
    """``n`` photos of one person: faces tightly around ``centre`` (at ``spread`` to it)."""
    return [[near(centre, spread, seed + k)] for k in range(n)]


def twins_of(centres: list[np.ndarray], n: int, seed: int, spread: float = 0.9999) -> list[list[list[np.ndarray]]]:
    """``n`` photos of each of two close people, faces tight around their centre yet no copies of one
    another (merge.COPY_SIM), each face moved only away from both centres so that no face of one
    comes closer to the other person than their centres are."""
    span = np.linalg.qr(np.array(centres).T)[0]
    out = []
    for i, centre in enumerate(centres):
        faces = []
        for k in range(n):
            other = np.random.default_rng(seed + 10 * i + k).normal(size=DIM)
            other -= span @ (span.T @ other)
            faces.append([unit(spread * centre + np.sqrt(1 - spread**2) * unit(other))])
        out.append(faces)
    return out


def calls(lib: Library) -> Callable[..., Any]:
    """Operations as the CLI and the daemon run them on ``lib`` (the call, then the catch-up)."""
    return partial(run, Core(lib))


def test_a_clean_library_has_nothing_to_ask(lib: Library, tmp_path: Path) -> None:
    photos = [p for i in range(8) for p in person_of(BASIS[i], 5, 100 * i)]
    photos += [[BASIS[8 + i]] for i in range(4)]  # four strangers seen once
    add_photos(lib, tmp_path / "photos", photos)
    call = calls(lib)
    call("people.recluster")
    assert len(call("people.persons")) == 8
    asked = call("people.suggest")
    assert asked.merges == [] and asked.faces == []
    for p in call("people.persons"):
        assert call("people.suggest", person=str(p.id)).faces == []


def test_a_person_found_twice_is_asked_once_and_never_after_a_photo_together(lib: Library, tmp_path: Path) -> None:
    eps = params(lib).eps
    likely, very = cuts(eps, MERGE_OFFSETS)
    between = (max(likely, very) + (1 - eps)) / 2 if very < 1 - eps else (likely + (1 - eps)) / 2
    assert likely < between < 1 - eps  # close, yet not close enough for the recluster to join them
    twin = near(BASIS[0], between, 1)
    ann, twin_ann = twins_of([BASIS[0], twin], 6, 10)
    ids = add_photos(lib, tmp_path / "photos", ann[:5] + twin_ann[:5] + person_of(BASIS[1], 5, 30))
    call = calls(lib)
    call("people.recluster")
    a, b = (owner(lib, ids[i][0]) for i in (0, 5))
    assert a is not None and b is not None and a != b
    (m,) = call("people.suggest").merges
    assert sorted(m.persons) == sorted([a, b]) and m.likelihood in ("likely", "very likely")
    # one photo shows them side by side: two people after all, never asked again
    both = add_photos(lib, tmp_path / "photos", [ann[5] + twin_ann[5]], start=15)
    call("people.assign", person=str(a), face_ids=[both[0][0]])
    call("people.assign", person=str(b), face_ids=[both[0][1]])
    assert call("people.suggest").merges == []


@pytest.mark.settings(attach_eps=-1)  # no attaching of single faces: the face stays unknown
def test_an_unknown_face_is_asked_about_its_person_until_rejected(lib: Library, tmp_path: Path) -> None:
    eps = params(lib).eps
    likely, _ = cuts(eps, FACE_OFFSETS)
    ids = add_photos(lib, tmp_path / "photos", person_of(BASIS[0], 6, 10) + person_of(BASIS[1], 6, 20)
                     + [[near(BASIS[0], likely + 0.03, 5)], [near(BASIS[1], likely - 0.15, 6)]])
    call = calls(lib)
    call("people.recluster")
    ann = owner(lib, ids[0][0])
    close, far = ids[12][0], ids[13][0]
    assert owner(lib, close) is None  # not close enough to join by itself
    asked = call("people.suggest")
    assert [(f.face, f.person) for f in asked.faces] == [(close, ann)]
    assert [f.face for f in call("people.suggest", person=str(ann)).faces] == [close]
    assert far not in {f.face for f in asked.faces}
    call("people.ignore", face_ids=[close])  # put aside: never a question
    assert call("people.suggest").faces == [] and call("people.suggest", person=str(ann)).faces == []
    call("people.unignore", face_ids=[close])
    assert [f.face for f in call("people.suggest").faces] == [close]
    call("people.reject", person=str(ann), face_ids=[close])
    assert call("people.suggest").faces == []


@pytest.mark.settings(attach_eps=-1)
def test_a_face_as_close_to_two_persons_is_no_question(lib: Library, tmp_path: Path) -> None:
    """"Is this Ann?" is worth asking when the face is Ann's more than anyone else's: a face as
    near Ann as Bob is not asked, where the same nearness to Ann alone is."""
    eps = params(lib).eps
    alike = 1 - eps - 0.12  # near enough to ask when no one else is as near (the plain score's old cut: 0.155)
    rest = np.random.default_rng(7).normal(size=DIM)
    rest -= (rest @ BASIS[0]) * BASIS[0] + (rest @ BASIS[1]) * BASIS[1]
    between = unit(alike * BASIS[0] + alike * BASIS[1] + np.sqrt(1 - 2 * alike**2) * unit(rest))
    ids = add_photos(lib, tmp_path / "photos", person_of(BASIS[0], 6, 10) + person_of(BASIS[1], 6, 20)
                     + person_of(BASIS[2], 6, 30) + [[between], [near(BASIS[2], alike, 8)]])
    call = calls(lib)
    call("people.recluster")
    ann, bob, cy = (owner(lib, ids[i][0]) for i in (0, 6, 12))
    torn, alone = ids[18][0], ids[19][0]
    assert None not in (ann, bob, cy) and owner(lib, torn) is None and owner(lib, alone) is None
    assert [(f.face, f.person) for f in call("people.suggest").faces] == [(alone, cy)]
    assert call("people.suggest", person=str(ann)).faces == [] and call("people.suggest", person=str(bob)).faces == []
