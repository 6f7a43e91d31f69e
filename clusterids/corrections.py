"""Manual corrections: assign, reject, merge, split, rename, hide, unhide, and undo.

Each correction is one transaction and one journal entry holding the state it replaced, so
``undo`` can put it back. Every recluster obeys them (see clustering/people.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from . import faults
from .errors import NotFound, UserError
from .store import mirror
from .store.db import Face, Journal, KeepApart, Person, Photo, Rejection
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


def _person_or_new(session: Session, token: str, create: bool) -> tuple[Person, bool]:
    """The person named by ``token``; a new person of that name when none is and ``create``."""
    try:
        return find_person(session, token), False
    except NotFound:
        name = str(token).strip()
        if not create or not name or name.isdigit():
            raise
        person = Person(name=name)
        session.add(person)
        session.flush()
        return person, True


def _merged_name(persons: list[Person], chosen: str | None) -> str | None:
    if chosen is not None and chosen.strip():
        return chosen.strip()
    names = list(dict.fromkeys(p.name for p in persons if p.name))
    if len(names) > 1:
        raise UserError(f"the persons have different names ({', '.join(repr(n) for n in names)})",
                        "choose the name to keep (clusterids merge --name NAME ...)")
    return names[0] if names else None


def _photos_with_two_faces(session: Session, person_id: int, photo_ids: set[int]) -> list[int]:
    """Of ``photo_ids``, those showing ``person_id`` more than once (a face is likely wrong)."""
    rows = session.execute(select(Face.photo_id, func.count(Face.id))
                           .where(Face.person_id == person_id, Face.photo_id.in_(photo_ids))
                           .group_by(Face.photo_id))
    return sorted(pid for pid, n in rows if n > 1)


class Corrections:
    """The corrections on one library; each method is one transaction plus its journal entry."""

    def __init__(self, lib: Library) -> None:
        self.lib = lib

    def _after(self, moved: dict[int | None, list[int]]) -> None:
        faults.point("correct.after_commit")
        mirror.set_persons(self.lib, moved)

    def assign(self, person: str, face_id: int | None = None, face_ids: list[int] | None = None,
               create: bool = True) -> dict[str, Any]:
        """Faces belong to ``person`` from now on: one journal entry however many faces, so one
        gesture is undone at once. A name no person has creates that person (``create``)."""
        ids = list(dict.fromkeys([*([face_id] if face_id is not None else []), *(face_ids or [])]))
        if not ids:
            raise UserError("assign needs a face", "give FACE, or --faces ID (repeatable)")
        with self.lib.session() as s, s.begin():
            faces = [find_face(s, fid) for fid in ids]
            target, created = _person_or_new(s, person, create)
            before = _snapshot(s, faces, [])
            if created:
                before["created"] = [target.id]
            for face in faces:
                face.person_id, face.pinned = target.id, True
            s.execute(delete(Rejection).where(Rejection.face_id.in_(ids), Rejection.person_id == target.id))
            mirror.mark(s)
            s.add(Journal(op="assign", args={"faces": ids, "person": target.id}, before=before))
            s.flush()
            shared = _photos_with_two_faces(s, target.id, {f.photo_id for f in faces})
        self._after({target.id: ids})
        out: dict[str, Any] = {"face": ids[0], "faces": ids, "person": target.id, "name": target.name,
                               "created": created, "warnings": []}
        if shared:
            out["warnings"].append(f"{len(shared)} photo(s) now show {target.name or f'Person_{target.id}'} twice "
                                   f"(photo ids {', '.join(map(str, shared[:5]))}): one face may be someone else")
        return out

    def reject(self, person: str, face_id: int | None = None, face_ids: list[int] | None = None) -> dict[str, Any]:
        """Faces are not ``person``, ever: one journal entry however many faces."""
        ids = list(dict.fromkeys([*([face_id] if face_id is not None else []), *(face_ids or [])]))
        if not ids:
            raise UserError("reject needs a face", "give FACE")
        with self.lib.session() as s, s.begin():
            faces = [find_face(s, fid) for fid in ids]
            target = find_person(s, person)
            before = _snapshot(s, faces, [])
            moved = []
            for face in faces:
                if s.get(Rejection, (face.id, target.id)) is None:
                    s.add(Rejection(face_id=face.id, person_id=target.id))
                if face.person_id == target.id:
                    face.person_id, face.pinned = None, False
                    moved.append(face.id)
            mirror.mark(s)
            s.add(Journal(op="reject", args={"faces": ids, "person": target.id}, before=before))
        self._after({None: moved} if moved else {})
        return {"face": ids[0], "faces": ids, "rejected": target.id}

    def merge(self, persons: list[str], name: str | None = None) -> dict[str, Any]:
        """Make ``persons`` one, keeping the first one's id. The name kept is ``name``, else the one
        name among them; two different names and no ``name`` is an error asking which."""
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
            kept_name = _merged_name([keep, *others], name)
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
            keep.name = kept_name
            s.add(Journal(op="merge", args={"into": keep.id, "persons": ids, "name": kept_name}, before=before))
            fids = [f.id for f in faces]
        self._after({keep.id: fids})
        return {"person": keep.id, "merged": ids, "faces": len(fids), "name": kept_name}

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

    def rename(self, person: str, name: str | None) -> dict[str, Any]:
        """Name a person; a blank name removes the name (the person is Person_ID again)."""
        name = (name or "").strip()
        if not name:
            return self._set("rename", person, name=None)
        if name.isdigit():
            raise UserError(f"the name {name!r} is all digits and would read as a person id", "choose another")
        with self.lib.session() as s:
            target = find_person(s, person)
            clash = s.scalar(select(Person).where(Person.name == name, Person.merged_into.is_(None),
                                                  Person.id != target.id))
            if clash is not None:
                raise UserError(f"person {clash.id} is named {name!r} already",
                                f"merge the two instead (clusterids merge {clash.id} {target.id})")
        return self._set("rename", person, name=name)

    def cover(self, person: str, face_id: int) -> dict[str, Any]:
        """Show ``person`` by this face of theirs (a choice of display: not in the journal)."""
        with self.lib.session() as s, s.begin():
            target = find_person(s, person)
            face = find_face(s, face_id)
            if face.person_id != target.id:
                raise UserError(f"face {face.id} is not a face of person {target.id}", "choose one of its faces")
            target.cover_face_id = face.id
            return {"person": target.id, "cover": face.id}

    def keep_apart(self, persons: list[str]) -> dict[str, Any]:
        """Two persons are not one: the merge suggestions never pair them again."""
        if len(persons) != 2:
            raise UserError("keep-apart needs two persons", "name exactly two")
        with self.lib.session() as s, s.begin():
            a, b = sorted({find_person(s, t).id for t in persons})
            if s.get(KeepApart, (a, b)) is None:
                s.add(KeepApart(person_a=a, person_b=b))
            return {"persons": [a, b]}

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
