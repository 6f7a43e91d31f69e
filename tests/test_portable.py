"""Portable people (issue 20): a library's persons and corrections exported to a file and
imported into another library of another width of vectors (another model pack), on SQLite and
on PostgreSQL, matched by photo content and box overlap. Synthetic vectors: no model runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from clusterids.config import load_settings
from clusterids.core import Core, operations
from clusterids.errors import UserError
from clusterids.store import outbox, reads
from clusterids.store.db import Face, Photo
from clusterids.store.library import Library, PackChoice, open_library
from clusterids.upkeep import invariants

from .synthetic import FRONTAL


class Pack:
    """A ModelSource of a given width, nothing to load (the faces are written by the test)."""

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def negotiate(self, stored: PackChoice | None) -> tuple[PackChoice, Any, list[str]]:
        return stored or PackChoice(f"synthetic{self.dim}", f"sha256:{self.dim}", self.dim), None, []

    def load(self, spec: str, key: str | None = None) -> tuple[PackChoice, Any]:
        raise AssertionError("no model is needed here")


def _library(tmp_path: Path, name: str, dim: int, database_url: str = "") -> Library:
    env = {"CLUSTERIDS_LIBRARY": str(tmp_path / name), "CLUSTERIDS_PROGRESS": "false"}
    if database_url:
        env["CLUSTERIDS_DATABASE_URL"] = database_url
    return open_library(load_settings({}, environ=env), Pack(dim), create=True)


def _photos(lib: Library, folder: Path, shift: float, dim: int) -> dict[str, list[int]]:
    """Four photos of two faces each, the same content (hash) in both libraries; boxes moved by
    ``shift`` pixels (another detector); photo name -> its face ids."""
    rng = np.random.default_rng(dim)
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, list[int]] = {}
    with lib.db.transaction() as s:
        stored = []
        for n in range(4):
            photo = Photo(path=str(folder / f"p{n}.jpg"), size=1, mtime_ns=0, sha256=f"{n:064x}", width=600,
                          height=400)
            s.add(photo)
            s.flush()
            faces = []
            for k in range(2):
                v = rng.normal(size=dim).astype(np.float32)
                faces.append(Face(photo_id=photo.id, x1=50.0 + 300 * k + shift, y1=60.0 + shift, x2=200.0 + 300 * k,
                                  y2=240.0, landmarks=FRONTAL, det_score=0.9, size_px=150.0, sharpness=100.0,
                                  vector=(v / np.linalg.norm(v)).tobytes()))
            s.add_all(faces)
            s.flush()
            stored += faces
            out[photo.path.rsplit("/", 1)[1]] = [f.id for f in faces]
        outbox.mark(s, outbox.VECTOR, [f.id for f in stored])
    Core(lib).catch_up()
    return out


def run(lib: Library, name: str, /, **kwargs: Any) -> Any:
    """One operation as the CLI and the daemon run it: the call, then the catch-up."""
    return Core(lib).call(operations.get(name), kwargs)


@pytest.fixture
def source(tmp_path: Path) -> Iterator[tuple[Library, dict[str, list[int]]]]:
    lib = _library(tmp_path, "old", 16)
    faces = _photos(lib, tmp_path / "photos", 0.0, 16)
    yield lib, faces
    lib.close()


def test_people_move_to_another_pack_and_engine_with_their_corrections(source, tmp_path, database_url) -> None:
    old, faces = source
    run(old, "people.assign", person="Ann", face_ids=[faces["p0.jpg"][0], faces["p1.jpg"][0]])
    run(old, "people.assign", person="Bob", face_ids=[faces["p0.jpg"][1]])
    run(old, "people.assign", person="Bob", face_ids=[faces["p2.jpg"][1]])
    run(old, "people.reject", person="Ann", face_ids=[faces["p3.jpg"][0]])
    run(old, "people.hide", person="Bob")
    run(old, "people.born", person="Bob", date="1990-04-02")
    run(old, "people.ignore", face_ids=[faces["p1.jpg"][1]])  # i18: put aside travels too
    run(old, "people.ignore", face_ids=[faces["p3.jpg"][1]], not_a_face=True)
    ann = run(old, "people.persons")[0].id
    run(old, "people.cover", person=str(ann), face=faces["p1.jpg"][0])
    path = tmp_path / "people.json"
    summary = run(old, "metadata.export_people", file=str(path))
    assert (summary.file, summary.persons, summary.faces, summary.rejected, summary.ignored) == \
        (str(path), 2, 4, 1, 2)
    doc = json.loads(path.read_text())
    doc["faces"].append({"photo": "f" * 64, "path": "/gone.jpg", "size": [600, 400], "box": [1, 2, 3, 4],
                         "person": ann, "state": "assigned"})
    path.write_text(json.dumps(doc))

    new = _library(tmp_path, "new", 8, database_url)  # another width of vectors, maybe PostgreSQL
    try:
        moved = _photos(new, tmp_path / "photos", 6.0, 8)  # the same photos, boxes a little off
        run(new, "people.assign", person="ann", face_ids=[moved["p2.jpg"][0]])  # she is here already
        result = run(new, "metadata.import_people", file=str(path))
        assert result.faces_assigned == 4 and result.faces_rejected == 1 and result.faces_ignored == 2
        assert {f.id: f.ignored for f in run(new, "people.faces", ignored=True)} == \
            {moved["p1.jpg"][1]: "ignored", moved["p3.jpg"][1]: "not_a_face"}
        assert result.persons_matched == 1 and result.persons_created == 1
        assert [u.reason for u in result.unmatched] == ["no photo with this content in the library"]
        people = {p.name: p for p in run(new, "people.persons", include_hidden=True)}
        assert sorted(people) == ["Bob", "ann"] and people["Bob"].hidden and people["ann"].faces == 3
        assert run(new, "people.person", person=str(people["Bob"].id)).born == "1990-04-02"
        got = {(Path(f.photo).name, f.id) for f in run(new, "people.faces", person="ann")}
        assert {("p0.jpg", moved["p0.jpg"][0]), ("p1.jpg", moved["p1.jpg"][0])} <= got
        with new.db.read() as s:
            assert reads.get_face(s, moved["p1.jpg"][0]).pinned
            assert reads.rejections(s, face_id=moved["p3.jpg"][0]) == [(moved["p3.jpg"][0], people["ann"].id)]
        assert invariants.check(new).ok, invariants.check(new).problems
        assert run(new, "people.undo").undone in ("born", "hide", "reject", "assign")
    finally:
        new.close()


def test_a_file_that_is_not_a_people_file_is_one_line(source, tmp_path) -> None:
    old, _ = source
    bad = tmp_path / "x.json"
    bad.write_text("{not json")
    with pytest.raises(UserError, match="is not JSON"):
        run(old, "metadata.import_people", file=str(bad))
    bad.write_text("{}")
    with pytest.raises(UserError, match="not a people file"):
        run(old, "metadata.import_people", file=str(bad))
    bad.write_text("[" * 100_000)  # nested past the parser's reach: a RecursionError traceback before
    with pytest.raises(UserError, match="not a people file"):
        run(old, "metadata.import_people", file=str(bad))
    bad.write_bytes(b"\xff\xfe{}")  # no UTF-8 text
    with pytest.raises(UserError, match="not a people file"):
        run(old, "metadata.import_people", file=str(bad))
