"""The indexer's writer (store/photos.py): a photo's faces go in as one bulk INSERT, and each id
it returns must be its own face's, on SQLite and PostgreSQL alike: the outbox marks, the
persons a copy keeps and the faces put aside all follow those ids."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sqlalchemy import select

from clusterids.store import outbox
from clusterids.store.db import Face, Outbox, Person, Photo
from clusterids.store.photos import NewFace, PhotoFacts, PhotoWriter, Seen

from .synthetic import DIM, FRONTAL, synthetic_library


def _face(i: int, person: int | None = None, ignored: str | None = None) -> NewFace:
    vector = np.zeros(DIM, np.float32)
    vector[i % DIM] = 1.0
    return NewFace((10.0 * i, 1.0, 10.0 * i + 50, 51.0), FRONTAL, 0.9, 50.0, 100.0, vector.tobytes(), 20.0 + i,
                   person_id=person, ignored=ignored)


def test_each_stored_face_gets_its_own_id_and_marks(tmp_path: Path, database_url: str) -> None:
    with synthetic_library(tmp_path, database_url=database_url) as lib:
        with lib.db.transaction() as s:  # a person for the faces of a copy to keep
            person = Person(name="Ann")
            s.add(person)
            s.flush()
            ann = person.id
        faces = [_face(0, person=ann), _face(1, ignored="stranger"), _face(2), _face(3), _face(4)]
        with PhotoWriter(lib.db) as writer:
            writer.store(Seen(str(tmp_path / "a.jpg"), 10, 1), "a" * 64, PhotoFacts(800, 600, None, 1), faces)
            writer.store(Seen(str(tmp_path / "b.jpg"), 11, 2), "b" * 64, PhotoFacts(640, 480, None, 6), [])
        with lib.db.read() as s:
            a = s.scalar(select(Photo).where(Photo.path == str(tmp_path / "a.jpg")))
            b = s.scalar(select(Photo).where(Photo.path == str(tmp_path / "b.jpg")))
            assert a is not None and b is not None
            assert (a.size, a.mtime_ns, a.width, a.status) == (10, 1, 800, "ok")
            assert (b.size, b.orientation, b.status) == (11, 6, "ok")
            rows = {f.x1: f for f in s.scalars(select(Face).where(Face.photo_id == a.id))}
            assert sorted(rows) == [0.0, 10.0, 20.0, 30.0, 40.0]
            for i, x1 in enumerate(sorted(rows)):  # each row holds the face given at its place
                f = rows[x1]
                assert np.frombuffer(f.vector, np.float32).argmax() == i and f.norm == 20.0 + i
            assert rows[0.0].person_id == ann and rows[10.0].ignored == "stranger"
            marks = {kind: sorted(r for (r,) in s.execute(select(Outbox.ref).where(Outbox.kind == kind)))
                     for kind in (outbox.VECTOR, outbox.ASSIGN)}
            ids = {x1: f.id for x1, f in rows.items()}
            assert marks[outbox.VECTOR] == sorted(ids.values())
            # only the faces with no person and not put aside wait for the instant assignment
            assert marks[outbox.ASSIGN] == sorted([ids[20.0], ids[30.0], ids[40.0]])
