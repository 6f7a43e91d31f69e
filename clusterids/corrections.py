"""Manual corrections: assign, reject, merge, split, rename, hide, unhide, and undo.

Each correction is one transaction and one journal entry holding the state it replaced, so
``undo`` can put it back. Every recluster obeys them (see clustering/people.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from . import faults
from .errors import NotFound, UserError
from .store import mirror, reads, writes
from .store.db import Face, Person, Session
from .store.library import Library
from .store.reads import MAX_ID, find_person


def find_face(session: Session, face_id: int | str) -> Face:
    text = str(face_id).strip()
    face = reads.get_face(session, int(text)) if text.isdigit() and int(text) <= MAX_ID else None
    if face is None:
        raise NotFound(f"no face {face_id}", "see 'clusterids faces' for face ids")
    return face


def _snapshot(session: Session, faces: Iterable[Face], persons: Iterable[Person]) -> dict[str, Any]:
    faces = list(faces)
    rejections: dict[str, list[int]] = {}
    for f in faces:
        rejections[str(f.id)] = sorted(reads.rejected_persons(session, f.id))
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
        return writes.new_person(session, name), True


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
    rows = reads.faces_per_photo(session, person_id, photo_ids)
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
            writes.delete_rejections(s, ids, target.id)
            mirror.mark(s)
            writes.add_journal(s, "assign", {"faces": ids, "person": target.id}, before)
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
                writes.add_rejection(s, face.id, target.id)
                if face.person_id == target.id:
                    face.person_id, face.pinned = None, False
                    moved.append(face.id)
            mirror.mark(s)
            writes.add_journal(s, "reject", {"faces": ids, "person": target.id}, before)
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
            faces = reads.faces_of(s, ids)
            rejected_faces = reads.faces_rejected_for(s, ids)
            before = _snapshot(s, {f.id: f for f in faces + rejected_faces}.values(), [keep, *others])
            for f in faces:
                f.person_id = keep.id
            writes.move_rejections(s, ids, keep.id)
            for p in others:
                p.merged_into = keep.id
            mirror.mark(s)
            keep.name = kept_name
            writes.add_journal(s, "merge", {"into": keep.id, "persons": ids, "name": kept_name}, before)
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
                photo = reads.photo_by_path(s, path)
                found = [f for f in (photo.faces if photo else []) if f.person_id == source.id]
                if not found:
                    raise UserError(f"no face of person {source.id} in {path}", "check the photo's path")
                chosen.update((f.id, f) for f in found)
            if not chosen:
                raise UserError("split needs faces", "give --faces ID... or --photos PATH...")
            before = _snapshot(s, chosen.values(), [])
            new = writes.new_person(s)
            before["created"] = [new.id]
            for f in chosen.values():
                f.person_id, f.pinned = new.id, True
                writes.add_rejection(s, f.id, source.id)
            mirror.mark(s)
            writes.add_journal(s, "split", {"person": source.id, "faces": sorted(chosen), "new": new.id}, before)
        self._after({new.id: sorted(chosen)})
        return {"person": source.id, "new": new.id, "faces": sorted(chosen)}

    def _set(self, op: str, person: str, **values: Any) -> dict[str, Any]:
        with self.lib.session() as s, s.begin():
            target = find_person(s, person)
            before = _snapshot(s, [], [target])
            for k, v in values.items():
                setattr(target, k, v)
            mirror.mark(s, vectors=False)
            writes.add_journal(s, op, {"person": target.id, **values}, before)
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
            clash = reads.person_named(s, name, target.id)
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
            writes.keep_apart(s, a, b)
            return {"persons": [a, b]}

    def hide(self, person: str, hidden: bool = True) -> dict[str, Any]:
        return self._set("hide" if hidden else "unhide", person, hidden=hidden)

    def undo(self) -> dict[str, Any]:
        with self.lib.session() as s, s.begin():
            entry = reads.last_journal_entry(s)
            if entry is None:
                raise UserError("nothing to undo", "the journal has no correction left")
            before = entry.before
            moved: dict[int | None, list[int]] = {}
            for fid, person_id, pinned in before["faces"]:
                face = reads.get_face(s, fid)
                if face is None:
                    continue
                face.person_id, face.pinned = person_id, pinned
                moved.setdefault(person_id, []).append(fid)
            for pid, name, hidden, merged_into in before["persons"]:
                writes.restore_person(s, pid, name, hidden, merged_into)
            for fid, person_ids in before["rejections"].items():
                writes.delete_face_rejections(s, int(fid))
                s.flush()
                for pid in person_ids:
                    if reads.get_person(s, pid) is not None:
                        writes.insert_rejection(s, int(fid), pid)
            s.flush()
            for pid in before.get("created", []):
                created = reads.get_person(s, pid)
                if created is not None:
                    writes.delete_person_rejections(s, pid)
                    others = reads.faces_of(s, [pid])
                    for f in others:
                        f.person_id, f.pinned = None, False
                        moved.setdefault(None, []).append(f.id)
                    writes.delete_person(s, created)
            entry.undone = True
            mirror.mark(s)
            result = {"undone": entry.op, "args": entry.args}
        self._after(moved)
        return result
