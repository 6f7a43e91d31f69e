"""Manual corrections: assign, reject, merge, split, rename, hide, unhide, and undo.

Each correction is one transaction and one journal entry holding the state it replaced, so
``undo`` can put it back. Every recluster obeys them (see clustering/people.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from . import faults
from .errors import NotFound, UserError
from .store import mirror
from .store.db import Face, Journal, Person, Photo, Rejection
from .store.library import Library

MAX_ID = 2**63 - 1  # larger numbers name nothing, and SQLite cannot even bind them


def find_person(session: Session, token: str | int) -> Person:
    """A person by id or exact name; a merged person resolves to the one it joined."""
    text = str(token).strip()
    person = None
    if text.isdigit() and int(text) <= MAX_ID:
        person = session.get(Person, int(text))
    if person is None:
        matches = list(session.scalars(select(Person).where(Person.name == text, Person.merged_into.is_(None))))
        if len(matches) > 1:
            raise UserError(f"{len(matches)} persons are named {text!r}", "give the person's id instead")
        person = matches[0] if matches else None
    if person is None:
        raise NotFound(f"no person {text!r}", "see 'clusterids people --all' for ids and names")
    seen = set()
    while person.merged_into is not None and person.id not in seen:
        seen.add(person.id)
        person = session.get(Person, person.merged_into) or person
    return person


def find_face(session: Session, face_id: int | str) -> Face:
    text = str(face_id).strip()
    face = session.get(Face, int(text)) if text.isdigit() and int(text) <= MAX_ID else None
    if face is None:
        raise NotFound(f"no face {face_id}", "see 'clusterids faces' for face ids")
    return face


def _snapshot(session: Session, faces: Iterable[Face], persons: Iterable[Person]) -> dict[str, Any]:
    faces = list(faces)
    rejections: dict[str, list[int]] = {}
    for f in faces:
        rejections[str(f.id)] = sorted(session.scalars(select(Rejection.person_id).where(Rejection.face_id == f.id)))
    return {
        "faces": [[f.id, f.person_id, f.pinned] for f in faces],
        "persons": [[p.id, p.name, p.hidden, p.merged_into] for p in persons],
        "rejections": rejections,
        "created": [],
    }


class Corrections:
    """The corrections on one library; each method is one transaction plus its journal entry."""

    def __init__(self, lib: Library) -> None:
        self.lib = lib

    def _after(self, moved: dict[int | None, list[int]]) -> None:
        faults.point("correct.after_commit")
        mirror.set_persons(self.lib, moved)

    def assign(self, face_id: int, person: str) -> dict[str, Any]:
        with self.lib.session() as s, s.begin():
            face = find_face(s, face_id)
            target = find_person(s, person)
            before = _snapshot(s, [face], [])
            face.person_id, face.pinned = target.id, True
            s.execute(delete(Rejection).where(Rejection.face_id == face.id, Rejection.person_id == target.id))
            mirror.mark(s)
            s.add(Journal(op="assign", args={"face": face.id, "person": target.id}, before=before))
        self._after({target.id: [face.id]})
        return {"face": face.id, "person": target.id}

    def reject(self, face_id: int, person: str) -> dict[str, Any]:
        with self.lib.session() as s, s.begin():
            face = find_face(s, face_id)
            target = find_person(s, person)
            before = _snapshot(s, [face], [])
            if s.get(Rejection, (face.id, target.id)) is None:
                s.add(Rejection(face_id=face.id, person_id=target.id))
            moved = face.person_id == target.id
            if moved:
                face.person_id, face.pinned = None, False
            mirror.mark(s)
            s.add(Journal(op="reject", args={"face": face.id, "person": target.id}, before=before))
        self._after({None: [face.id]} if moved else {})
        return {"face": face.id, "rejected": target.id}

    def merge(self, persons: list[str]) -> dict[str, Any]:
        if len(persons) < 2:
            raise UserError("merge needs two persons or more", "write: clusterids merge KEEP OTHER...")
        with self.lib.session() as s, s.begin():
            keep = find_person(s, persons[0])
            others = []
            for token in persons[1:]:
                p = find_person(s, token)
                if p.id != keep.id and p not in others:
                    others.append(p)
            if not others:
                raise UserError("nothing to merge: the persons named are one already", "name two persons")
            ids = [p.id for p in others]
            faces = list(s.scalars(select(Face).where(Face.person_id.in_(ids))))
            rejected_faces = list(s.scalars(select(Face).join(Rejection, Rejection.face_id == Face.id)
                                            .where(Rejection.person_id.in_(ids))))
            before = _snapshot(s, {f.id: f for f in faces + rejected_faces}.values(), [keep, *others])
            for f in faces:
                f.person_id = keep.id
            for r in list(s.scalars(select(Rejection).where(Rejection.person_id.in_(ids)))):
                if s.get(Rejection, (r.face_id, keep.id)) is None:
                    s.add(Rejection(face_id=r.face_id, person_id=keep.id))
                s.delete(r)
            for p in others:
                p.merged_into = keep.id
            mirror.mark(s)
            s.add(Journal(op="merge", args={"into": keep.id, "persons": ids}, before=before))
            fids = [f.id for f in faces]
        self._after({keep.id: fids})
        return {"person": keep.id, "merged": ids, "faces": len(fids)}

    def split(self, person: str, face_ids: list[int], photos: list[str]) -> dict[str, Any]:
        with self.lib.session() as s, s.begin():
            source = find_person(s, person)
            chosen: dict[int, Face] = {}
            for fid in face_ids:
                face = find_face(s, fid)
                if face.person_id != source.id:
                    raise UserError(f"face {fid} is not a face of person {source.id}",
                                    f"see 'clusterids faces --person {source.id}'")
                chosen[face.id] = face
            for path in photos:
                photo = s.scalar(select(Photo).where(Photo.path == path))
                found = [f for f in (photo.faces if photo else []) if f.person_id == source.id]
                if not found:
                    raise UserError(f"no face of person {source.id} in {path}", "check the photo's path")
                chosen.update((f.id, f) for f in found)
            if not chosen:
                raise UserError("split needs faces", "give --faces ID... or --photos PATH...")
            before = _snapshot(s, chosen.values(), [])
            new = Person()
            s.add(new)
            s.flush()
            before["created"] = [new.id]
            for f in chosen.values():
                f.person_id, f.pinned = new.id, True
                if s.get(Rejection, (f.id, source.id)) is None:
                    s.add(Rejection(face_id=f.id, person_id=source.id))
            mirror.mark(s)
            s.add(Journal(op="split", args={"person": source.id, "faces": sorted(chosen), "new": new.id},
                          before=before))
        self._after({new.id: sorted(chosen)})
        return {"person": source.id, "new": new.id, "faces": sorted(chosen)}

    def _set(self, op: str, person: str, **values: Any) -> dict[str, Any]:
        with self.lib.session() as s, s.begin():
            target = find_person(s, person)
            before = _snapshot(s, [], [target])
            for k, v in values.items():
                setattr(target, k, v)
            mirror.mark(s, vectors=False)
            s.add(Journal(op=op, args={"person": target.id, **values}, before=before))
            return {"person": target.id, **values}

    def rename(self, person: str, name: str) -> dict[str, Any]:
        name = name.strip()
        if not name:
            raise UserError("a person's name cannot be empty", "give a name")
        if name.isdigit():
            raise UserError(f"the name {name!r} is all digits and would read as a person id", "choose another")
        with self.lib.session() as s:
            target = find_person(s, person)
            clash = s.scalar(select(Person).where(Person.name == name, Person.merged_into.is_(None),
                                                  Person.id != target.id))
            if clash is not None:
                raise UserError(f"person {clash.id} is named {name!r} already",
                                f"merge them: clusterids merge {clash.id} {target.id}")
        return self._set("rename", person, name=name)

    def hide(self, person: str, hidden: bool = True) -> dict[str, Any]:
        return self._set("hide" if hidden else "unhide", person, hidden=hidden)

    def undo(self) -> dict[str, Any]:
        with self.lib.session() as s, s.begin():
            entry = s.scalar(select(Journal).where(Journal.undone.is_(False)).order_by(Journal.id.desc()).limit(1))
            if entry is None:
                raise UserError("nothing to undo", "the journal has no correction left")
            before = entry.before
            moved: dict[int | None, list[int]] = {}
            for fid, person_id, pinned in before["faces"]:
                face = s.get(Face, fid)
                if face is None:
                    continue
                face.person_id, face.pinned = person_id, pinned
                moved.setdefault(person_id, []).append(fid)
            for pid, name, hidden, merged_into in before["persons"]:
                person = s.get(Person, pid) or Person(id=pid)
                person.name, person.hidden, person.merged_into = name, hidden, merged_into
                s.add(person)
            for fid, person_ids in before["rejections"].items():
                s.execute(delete(Rejection).where(Rejection.face_id == int(fid)))
                s.flush()
                for pid in person_ids:
                    if s.get(Person, pid) is not None:
                        s.add(Rejection(face_id=int(fid), person_id=pid))
            s.flush()
            for pid in before.get("created", []):
                created = s.get(Person, pid)
                if created is not None:
                    s.execute(delete(Rejection).where(Rejection.person_id == pid))
                    others = list(s.scalars(select(Face).where(Face.person_id == pid)))
                    for f in others:
                        f.person_id, f.pinned = None, False
                        moved.setdefault(None, []).append(f.id)
                    s.delete(created)
            entry.undone = True
            mirror.mark(s)
            result = {"undone": entry.op, "args": entry.args}
        self._after(moved)
        return result
