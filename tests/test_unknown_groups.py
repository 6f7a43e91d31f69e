"""The unknown page's groups (i18) on the synthetic library: unknown faces that resemble each
other form groups, largest first, pairs included; two faces of one photo never share a group; a
chain of close pairs never becomes one group; the faces of no group follow as single faces;
ignored and assigned faces are in neither; the "Ignored" list takes them back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from clusterids.clustering.people import params
from clusterids.core import Core
from clusterids.store.library import Library

from .synthetic import DIM, add_photos, synthetic_library, unit


@pytest.fixture
def lib(tmp_path: Path) -> Iterator[Library]:
    with synthetic_library(tmp_path) as library:
        yield library


def _apart(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` orthonormal vectors: people who look nothing alike."""
    return np.linalg.qr(rng.normal(size=(DIM, n)))[0].T.astype(np.float32)


def _chain(u: np.ndarray, w: np.ndarray, n: int, step_sim: float) -> list[np.ndarray]:
    """``n`` unit vectors along the great circle through ``u`` and ``w`` (orthonormal), each
    ``step_sim`` similar to the one before."""
    angle = float(np.arccos(step_sim))
    return [unit(np.cos(k * angle) * u + np.sin(k * angle) * w) for k in range(n)]


def test_lookalikes_group_largest_first_never_across_a_photo_nor_along_a_chain(lib: Library, tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    ann, bob, cat, u, w = _apart(rng, 5)
    near = lambda c: unit(c + 0.03 * rng.normal(size=DIM))  # noqa: E731
    chain = _chain(u, w, 8, 0.8)  # neighbours within the radius, the ends opposite
    ids = add_photos(lib, tmp_path / "photos", [
        [near(ann)], [near(ann)], [near(ann)],  # three photos of Ann
        [near(ann), near(ann)],  # two Ann lookalikes in one photo: one joins her group, never both
        [near(bob)], [near(bob)],  # a pair
        [near(cat)],  # alone
        *[[v] for v in chain],
    ])
    core = Core(lib)
    page = core.unknown.groups()
    groups = [[f.id for f in g.faces] for g in page.groups]
    anns = {ids[0][0], ids[1][0], ids[2][0]}
    assert len(groups[0]) == 4 and anns < set(groups[0]) and len(set(groups[0]) & set(ids[3])) == 1
    assert [ids[4][0], ids[5][0]] in groups
    assert page.total_faces == sum(len(p) for p in ids) and page.ignored == 0
    grouped = {fid for g in groups for fid in g}
    assert [f.id for f in page.singles] == sorted(set(fid for p in ids for fid in p) - grouped)
    assert ids[6][0] in {f.id for f in page.singles} and page.total_singles == len(page.singles)
    assert [len(g) for g in groups] == sorted((len(g) for g in groups), reverse=True)

    eps = params(lib).eps
    step = {ids[7 + k][0]: k for k in range(len(chain))}
    for g, result in zip(groups, page.groups, strict=True):
        links = [step[f] for f in g if f in step]
        assert not links or max(links) - min(links) <= 3, f"a chain became one group: {links}"
        assert result.spread >= 1 - eps
        assert len({f.photo for f in result.faces}) == len(g)  # one face of a photo at most

    # an ignored face is in no group and no single; it is in the Ignored list, and comes back
    core.people.ignore([ids[0][0]])
    page = core.unknown.groups()
    assert ids[0][0] not in {f.id for g in page.groups for f in g.faces} | {f.id for f in page.singles}
    assert page.ignored == 1 and [f.id for f in core.unknown.ignored().faces] == [ids[0][0]]
    core.people.unignore([ids[0][0]])
    assert core.unknown.ignored().total == 0

    # naming a group: one correction for all its faces; they leave the unknown page
    named = [f.id for f in core.unknown.groups().groups[0].faces]
    core.people.assign("Ann", named)
    after = core.unknown.groups()
    assert not set(named) & ({f.id for g in after.groups for f in g.faces} | {f.id for f in after.singles})
    assert after.total_faces == page.total_faces + 1 - len(named)
    core.people.undo()
    assert core.unknown.groups().total_faces == page.total_faces + 1


def test_a_recluster_graph_gives_the_same_groups(lib: Library, tmp_path: Path) -> None:
    """The stored graph (after a recluster) and the exact neighbours of faces it does not cover
    yet give one answer: a pair the rule leaves unknown (a rejection) is a group either way."""
    rng = np.random.default_rng(9)
    dan = unit(rng.normal(size=DIM))
    ids = add_photos(lib, tmp_path / "photos", [[unit(dan + 0.03 * rng.normal(size=DIM))] for _ in range(3)])
    core = Core(lib)
    before = [[f.id for f in g.faces] for g in core.unknown.groups().groups]
    assert before == [[p[0] for p in ids]]
    core.people.recluster()  # three faces of one person: a person, no unknown face left
    assert core.unknown.groups().total_faces == 0 and (lib.root / "graph.npz").exists()
    person = core.people.faces(unknown=False)[0].person
    assert person is not None
    core.people.reject(str(person), [p[0] for p in ids[:2]])  # two of them are not that person
    assert [[f.id for f in g.faces] for g in core.unknown.groups().groups] == [[ids[0][0], ids[1][0]]]
