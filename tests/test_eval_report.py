"""``clusterids eval`` shows what went wrong (issue 17): the largest persons with their purity, the
identities each swallows, and the face pairs that joined two identities, so that a failure can be
read, not guessed."""

from __future__ import annotations

import shutil

import numpy as np

from clusterids.evaluation import largest_persons

from .conftest import SCRFD_PACK, lfw_people, needs_shared, on_sqlite
from .vectors import DIM, near, unit


def test_the_report_names_the_pair_that_joined_two_identities() -> None:
    rng = np.random.default_rng(3)
    ann, bob, cat = (unit(rng.normal(size=DIM)) for _ in range(3))
    faces = [near(ann, 0.85, rng) for _ in range(6)] + [near(bob, 0.85, rng) for _ in range(4)]
    faces += [near(cat, 0.85, rng) for _ in range(3)]
    bridge = unit(ann + bob)  # Ann's last face and Bob's first: the look-alikes that joined them
    faces[5], faces[6] = near(bridge, 0.97, rng), near(bridge, 0.97, rng)
    vectors = np.array(faces, np.float32)
    truth = ["ann"] * 6 + ["bob"] * 4 + ["cat"] * 3
    paths = [f"{t}/{i}.jpg" for i, t in enumerate(truth)]
    labels = np.array([0] * 10 + [1] * 3)  # the rule put Ann and Bob in one person
    report = largest_persons(truth, labels, vectors, paths, eps=0.45)
    giant, cat_person = report
    assert (giant["faces"], giant["identity"], giant["purity"], giant["swallowed"]) == (10, "ann", 0.6, 1)
    (link,) = giant["links"]  # one pair of identities, its strongest pair of faces
    assert {link["a"], link["b"]} == {"ann/5.jpg", "bob/6.jpg"}
    assert {link["a_identity"], link["b_identity"]} == {"ann", "bob"}
    assert link["cosine"] == round(float(vectors[5] @ vectors[6]), 4) and link["cosine"] > 0.9
    assert giant["chained"] is False  # a direct look-alike pair, not a chain
    assert cat_person == {"faces": 3, "identity": "cat", "purity": 1.0, "swallowed": 0, "chained": False,
                          "links": []}


def test_a_person_joined_only_through_other_faces_reads_as_a_chain() -> None:
    rng = np.random.default_rng(4)
    ann, bob = (unit(rng.normal(size=DIM)) for _ in range(2))
    vectors = np.array([near(ann, 0.9, rng) for _ in range(3)] + [near(bob, 0.9, rng) for _ in range(3)], np.float32)
    truth = ["ann"] * 3 + ["bob"] * 3
    (person,) = largest_persons(truth, np.zeros(6, np.int64), vectors, [f"{i}.jpg" for i in range(6)], eps=0.45)
    assert person["swallowed"] == 1 and person["links"][0]["cosine"] < 0.55 and person["chained"] is True


@needs_shared
@on_sqlite
def test_eval_prints_the_largest_persons_and_their_links(run, run_json, env, tmp_path) -> None:
    data = tmp_path / "labelled"
    for p in lfw_people(2, min_photos=3, max_photos=3):
        (data / p.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy(p, data / p.parent.name / p.name)
    names = sorted(d.name for d in data.iterdir())
    # a radius so wide that the two people are one: the report must say so and show the link
    wide = ("--set", "eps=0.95", "--set", "join_eps=-1", "--set", "attach_eps=-1")
    report = run_json(*wide, "--model", str(SCRFD_PACK), "eval", data)
    (giant, *_) = report["largest_persons"]
    assert giant["faces"] == 6 and giant["purity"] == 0.5 and giant["swallowed"] == 1
    (link,) = giant["links"]
    assert sorted((link["a_identity"], link["b_identity"])) == names
    assert link["a"].split("/")[0] == link["a_identity"] and (data / link["b"]).is_file()
    text = run(*wide, "--model", str(SCRFD_PACK), "eval", data).stdout
    assert "largest persons (clusterids):" in text and "6 faces, 50% " in text and "1 other identity in it" in text
    assert f"{link['a']} ({link['a_identity']}) ~ {link['b']} ({link['b_identity']}): cosine" in text
    ours = next(r for r in report["results"] if r["method"] == "clusterids")
    assert (ours["taken_over_2pct"], ours["persons_10"], ours["stray_over_2pct"]) == (1, 0, 0)  # all of the other's 3
    assert "clusterids: persons holding more than 2% of another identity's faces: 1; of the 0 persons of 10+" in text
