"""Changes to persons, each one transaction: the corrections (with the journal entry that lets
``undo`` put back what they replaced), a recluster's plan, the instant assignment, the persons
carried across a change of model.

Every change marks what derived state must follow it (store/outbox.py): the vector payloads of
the faces that moved, the albums, and the XMP sidecars of the photos whose names changed.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ..errors import NotFound, UserError
from . import corrections_log, journal, outbox
from .database import Database
from .db import Face, FaceMove, Journal, KeepApart, Person, Photo, Rejection
from .photos import NewFace, insert_faces
from .reads import COVER_ORDER, MAX_ID, _find_person, _named, name_key, person_row
from .rows import LABEL, PersonRow, label


def _face(session: Session, face_id: int | str) -> Face:
    text = str(face_id).strip()
    face = session.get(Face, int(text)) if text.isascii() and text.isdigit() and int(text) <= MAX_ID else None
    if face is None:
        raise NotFound(f"no face {face_id}", "see 'clusterids faces' for face ids")
    return face


def _snapshot(session: Session, faces: Iterable[Face], persons: Iterable[Person]) -> dict[str, Any]:
    faces = list(faces)
    return {
        "faces": [[f.id, f.person_id, f.pinned, f.ignored] for f in faces],
        "persons": [[p.id, p.name, p.hidden, p.merged_into, p.born] for p in persons],
        "rejections": {str(f.id): sorted(session.scalars(select(Rejection.person_id)
                                                         .where(Rejection.face_id == f.id))) for f in faces},
        "created": [],
    }


def _moved(session: Session, face_ids: Iterable[int]) -> None:
    """The faces' persons changed: their payloads, the albums and their photos' sidecars follow."""
    ids = list(face_ids)
    outbox.mark(session, outbox.PAYLOAD, ids)
    outbox.mark(session, outbox.ALBUMS)
    _sidecars(session, faces=ids)


def _sidecars(session: Session, faces: list[int] | None = None, persons: list[int] | None = None) -> None:
    """i20: the photos of these faces, and of these persons' faces, show other names now: their
    XMP sidecars follow (the catch-up writes them when xmp_write is "sidecar", else drops the marks)."""
    photos: set[int] = set()
    ids = faces or []
    for start in range(0, len(ids), outbox.CHUNK):
        photos.update(session.scalars(select(Face.photo_id).where(Face.id.in_(ids[start : start + outbox.CHUNK]))))
    if persons:
        photos.update(session.scalars(select(Face.photo_id).where(Face.person_id.in_(persons)).distinct()))
    outbox.mark(session, outbox.SIDECAR, sorted(photos))


def _journal(session: Session, op: str, args: dict[str, Any], before: dict[str, Any], **extra: Any) -> None:
    session.add(Journal(op=op, args=args, before=before))
    faces = args.get("faces") or []
    if "persons_at" not in extra:
        extra["persons_at"] = _persons_at(session, _persons_named(args), faces)
    corrections_log.record(session, op, args, **extra, where=_where(session, faces), undoable=True)


KNOWN_BY = 5  # faces that tell a person again after a restore


def _persons_named(args: dict[str, Any]) -> list[int]:
    named = [args[k] for k in ("person", "into") if isinstance(args.get(k), int)]
    return named + [p for p in args.get("persons", []) if isinstance(p, int)]


def _persons_at(session: Session, person_ids: list[int], other_than: list[int]) -> dict[str, list[Any]]:
    """Where a few faces of each person are (not the faces the correction moves), for the plain
    journal: a database put back from a copy may hold these people under other ids (a recluster
    after the copy renumbered them), and a replay finds them again by their faces (store/replay.py)."""
    out: dict[str, list[Any]] = {}
    moved = set(other_than)  # filtered here: a gesture may move more faces than a query may name
    for pid in person_ids:
        q = select(Face.id).where(Face.person_id == pid).order_by(Face.pinned.desc(), Face.id)
        known: list[int] = []
        for start in itertools.count(0, outbox.CHUNK):
            batch = list(session.scalars(q.offset(start).limit(outbox.CHUNK)))
            known += [f for f in batch if f not in moved][: KNOWN_BY - len(known)]
            if len(known) >= KNOWN_BY or len(batch) < outbox.CHUNK:
                break
        out[str(pid)] = [w for w in _where(session, known) if w]
    return out


def _where(session: Session, face_ids: list[int]) -> list[list[Any] | None]:
    """Where each face is (photo path and box), for the plain journal: after a restore the photos
    indexed since the copy have faces under other ids, found again by their place (store/replay.py)."""
    session.flush()
    at: dict[int, list[Any]] = {}
    for start in range(0, len(face_ids), outbox.CHUNK):
        q = (select(Face.id, Photo.path, Face.x1, Face.y1, Face.x2, Face.y2).join(Photo, Face.photo_id == Photo.id)
             .where(Face.id.in_(face_ids[start: start + outbox.CHUNK])))
        at.update({row[0]: list(row[1:]) for row in session.execute(q)})
    return [at.get(fid) for fid in face_ids]


def _reject(session: Session, face_id: int, person_id: int) -> None:
    if session.get(Rejection, (face_id, person_id)) is None:
        session.add(Rejection(face_id=face_id, person_id=person_id))


def _new_person(session: Session, name: str | None = None) -> Person:
    person = Person(name=name) if name is not None else Person()
    session.add(person)
    session.flush()
    return person


@dataclass(frozen=True)
class Assigned:
    person: PersonRow
    faces: list[int]
    created: bool
    shared_photos: list[int]  # photos now showing the person more than once


@dataclass(frozen=True)
class Rejected:
    person: PersonRow
    faces: list[int]
    moved: list[int]  # the faces that were the person's and are now unknown


@dataclass(frozen=True)
class Merged:
    person: PersonRow
    merged: list[PersonRow]
    faces: int
    kept_label: str  # how the person kept was called before the merge (it may take another's name)


@dataclass(frozen=True)
class Split:
    person: PersonRow
    new: PersonRow
    faces: list[int]


@dataclass(frozen=True)
class Marked:
    face: int
    person: PersonRow | None  # the person it was given, None: an unknown face
    created: bool
    twice: bool = False  # the photo shows that person twice now


@dataclass(frozen=True)
class Undone:
    op: str
    args: dict[str, Any]
    persons: list[PersonRow]  # the persons the entry named, as they are now
    entry: journal.Entry  # the correction undone, as it read before the undo


def assign(db: Database, person: str | None, face_ids: list[int], create: bool = True) -> Assigned:
    """Faces belong to ``person`` from now on: one journal entry however many faces, so one
    gesture is undone at once. A name no person has creates that person (``create``); None
    creates a person without a name (i20: ``people import`` of an unnamed one)."""
    with db.transaction() as s:
        faces = [_face(s, fid) for fid in face_ids]
        ids = [f.id for f in faces]
        target, created = _target(s, person, create)
        before = _snapshot(s, faces, [])
        if created:
            before["created"] = [target.id]
        for face in faces:
            face.person_id, face.pinned, face.ignored = target.id, True, None  # naming a face takes it back
        s.execute(delete(Rejection).where(Rejection.face_id.in_(ids), Rejection.person_id == target.id))
        _moved(s, ids)
        _journal(s, "assign", {"faces": ids, "person": target.id}, before,
                 **({"created_name": target.name} if created else {}))
        s.flush()
        photos = {f.photo_id for f in faces}
        shared = sorted(pid for pid, n in _faces_per_photo(s, target.id, photos) if n > 1)
        return Assigned(person_row(target), ids, created, shared)


def mark_face(db: Database, photo_id: int, face: NewFace, person: str | None) -> Marked:
    """A face the detector missed, marked by hand (``face``: embedded from the box drawn), as
    one correction: pinned to ``person`` when given (a name no person has creates that person),
    else an unknown face that the instant assignment may place. Its undo deletes the face. The
    plain journal keeps the face whole (``made``), so that a replay makes it again."""
    import base64

    with db.transaction() as s:
        photo = s.get(Photo, photo_id)
        if photo is None or photo.status != "ok":
            raise NotFound(f"there is no indexed photo {photo_id}", "index it first")
        target, created = _target(s, person, True) if person is not None else (None, False)
        made_person = [target.id] if created and target is not None else []
        fid = insert_faces(s, photo_id, [replace(face, origin="hand", person_id=target.id if target else None)])[0]
        if target is not None:
            s.execute(update(Face).where(Face.id == fid).values(pinned=True))
        before = {"faces": [], "persons": [], "rejections": {}, "created": made_person,
                  "made": [fid]}
        outbox.mark(s, outbox.VECTOR, [fid])
        if target is None:
            outbox.mark(s, outbox.ASSIGN, [fid])
        _moved(s, [fid])
        extra: dict[str, Any] = {"path": photo.path, "made": {
            "bbox": list(face.bbox), "landmarks": face.landmarks, "det_score": face.det_score,
            "size_px": face.size_px, "sharpness": face.sharpness, "norm": face.norm,
            "vector": base64.b64encode(face.vector).decode("ascii")}}
        if created and target is not None:
            extra["created_name"] = target.name
        _journal(s, "mark_face", {"faces": [fid], "photo": photo_id, "person": target.id if target else None},
                 before, **extra)
        s.flush()
        twice = target is not None and any(n > 1 for _, n in _faces_per_photo(s, target.id, {photo_id}))
        return Marked(fid, person_row(target) if target is not None else None, created, twice)


def made_face(line: dict[str, Any]) -> NewFace:
    """The face a journal line of ``mark_face`` made, whole again (for its replay)."""
    import base64

    m = line["made"]
    return NewFace(bbox=tuple(float(v) for v in m["bbox"]), landmarks=m["landmarks"],  # type: ignore[arg-type]
                   det_score=float(m["det_score"]), size_px=float(m["size_px"]), sharpness=float(m["sharpness"]),
                   vector=base64.b64decode(m["vector"]), norm=m.get("norm"), origin="hand")


def _target(session: Session, person: str | None, create: bool) -> tuple[Person, bool]:
    """The person named by ``person`` (an id or exact name), or a new one of that name (None:
    without a name) when none is and ``create``; whether it was created."""
    if person is None:
        if not create:
            raise NotFound("no person given", "name a person")
        return _new_person(session), True
    try:
        return _find_person(session, person), False
    except NotFound:
        name = person.strip()
        if not create or not name or name.isdigit():
            raise
        if LABEL.fullmatch(name):
            raise UserError(f"{name!r} is how an unnamed person is called, and there is no such person",
                            "give a real name, or see 'clusterids people --all' for the persons") from None
        return _new_person(session, name), True


def _faces_per_photo(session: Session, person_id: int, photo_ids: set[int]) -> list[tuple[int, int]]:
    from sqlalchemy import func

    return [(pid, n) for pid, n in session.execute(
        select(Face.photo_id, func.count(Face.id)).where(Face.person_id == person_id, Face.photo_id.in_(photo_ids))
        .group_by(Face.photo_id))]


def reject(db: Database, person: str, face_ids: list[int]) -> Rejected:
    """Faces are not ``person``, ever: one journal entry however many faces."""
    with db.transaction() as s:
        faces = [_face(s, fid) for fid in face_ids]
        target = _find_person(s, person)
        before = _snapshot(s, faces, [])
        moved = []
        for face in faces:
            _reject(s, face.id, target.id)
            if face.person_id == target.id:
                face.person_id, face.pinned = None, False
                moved.append(face.id)
        _moved(s, moved)
        ids = [f.id for f in faces]
        _journal(s, "reject", {"faces": ids, "person": target.id}, before)
        return Rejected(person_row(target), ids, moved)


@dataclass(frozen=True)
class Ignored:
    faces: list[int]
    reason: str | None  # None: unignored
    left: dict[int, list[int]]  # person -> the faces of theirs now ignored


def ignore(db: Database, face_ids: list[int], reason: str | None) -> Ignored:
    """Put faces aside (``reason``: "ignored" or "not_a_face"; None takes them back as unknown
    faces): out of their person, never suggested nor clustered. One journal entry."""
    with db.transaction() as s:
        faces = [_face(s, fid) for fid in face_ids]
        before = _snapshot(s, faces, [])
        left: dict[int, list[int]] = {}
        for face in faces:
            if face.person_id is not None and reason is not None:
                left.setdefault(face.person_id, []).append(face.id)
                face.person_id, face.pinned = None, False
            face.ignored = reason
        _moved(s, [fid for ids in left.values() for fid in ids])
        ids = [f.id for f in faces]
        if reason is None:  # unknown again: offered to the known persons as a new face is
            outbox.mark(s, outbox.ASSIGN, ids)
        _journal(s, "ignore" if reason is not None else "unignore", {"faces": ids, "reason": reason}, before)
        return Ignored(ids, reason, left)


def merge(db: Database, persons: list[str], name: str | None = None) -> Merged:
    """Make ``persons`` one, keeping the first one's id. The name kept is ``name``, else the one
    name among them; two different names and no ``name`` is an error asking which."""
    if len(persons) < 2:
        raise UserError("merge needs two persons or more", "write: clusterids merge KEEP OTHER...")
    with db.transaction() as s:
        keep = _find_person(s, persons[0])
        others: list[Person] = []
        for token in persons[1:]:
            p = _find_person(s, token)
            if p.id != keep.id and p not in others:
                others.append(p)
        if not others:
            raise UserError("nothing to merge: the persons named are one already", "name two persons")
        ids = [p.id for p in others]
        kept_name = _merged_name([keep, *others], name)
        clash = next(iter(_named(s, kept_name, [keep.id, *ids])), None) if kept_name else None
        if clash is not None:
            raise UserError(f"person {clash.id} is named {clash.name!r} already",
                            f"merge that person too (clusterids merge {keep.id} {' '.join(map(str, ids))} {clash.id}), "
                            "or choose another name")
        kept_label = keep.name or label(keep.id, None)
        faces = list(s.scalars(select(Face).where(Face.person_id.in_(ids))))
        rejected = list(s.scalars(select(Face).join(Rejection, Rejection.face_id == Face.id)
                                  .where(Rejection.person_id.in_(ids))))
        born = keep.born or next((p.born for p in others if p.born), None)  # the kept person's first
        early = [f for f in _dated_before(s, [keep.id, *ids], born) if not f.pinned]
        before = _snapshot(s, {f.id: f for f in faces + rejected + early}.values(), [keep, *others])
        known = _persons_at(s, [keep.id, *ids], [])  # before their faces are one person's
        _keep_cover(s, keep, {f.id for f in early})
        for f in faces:
            f.person_id = keep.id
        for r in list(s.scalars(select(Rejection).where(Rejection.person_id.in_(ids)))):
            _reject(s, r.face_id, keep.id)
            s.delete(r)
        for p in others:
            p.merged_into = keep.id
        keep.name = kept_name
        keep.born = born
        for f in early:  # a birth date now holds for every face of the merged person
            f.person_id = None
        outbox.mark(s, outbox.ASSIGN, [f.id for f in early])
        _moved(s, [f.id for f in faces + early])
        _sidecars(s, persons=[keep.id])
        _journal(s, "merge", {"into": keep.id, "persons": ids, "name": kept_name}, before, persons_at=known)
        return Merged(person_row(keep), [person_row(p) for p in others], len(faces), kept_label)


def _keep_cover(session: Session, keep: Person, leaving: set[int]) -> None:
    """The person kept by a merge goes on showing the face it was shown by (the best of its own,
    unless one was chosen), not a better one of the person merged into it; from then on that
    face is its picture, as one chosen is (Immich's persons keep theirs too). ``leaving``: faces
    the merge takes off it (dated before a birth date the other person brings)."""
    chosen = session.get(Face, keep.cover_face_id) if keep.cover_face_id is not None else None
    if chosen is not None and chosen.person_id == keep.id and chosen.id not in leaving:
        return
    own = [fid for fid in session.scalars(select(Face.id).where(Face.person_id == keep.id)
                                          .order_by(COVER_ORDER, Face.id)) if fid not in leaving]
    if own:
        keep.cover_face_id = own[0]


def _merged_name(persons: list[Person], chosen: str | None) -> str | None:
    if chosen is not None and chosen.strip():
        return chosen.strip()
    by_key = {name_key(p.name): p.name for p in reversed(persons) if p.name}  # the first spelling wins
    names = list(dict.fromkeys(n for n in (by_key.get(name_key(p.name)) for p in persons if p.name) if n))
    if len(names) > 1:
        raise UserError(f"the persons have different names ({', '.join(repr(n) for n in names)})",
                        "choose the name to keep (clusterids merge --name NAME ...)")
    return names[0] if names else None


def split(db: Database, person: str, face_ids: list[int], photos: list[str]) -> Split:
    """Some faces of ``person`` are someone new; they never rejoin ``person``."""
    with db.transaction() as s:
        source = _find_person(s, person)
        chosen: dict[int, Face] = {}
        for fid in face_ids:
            face = _face(s, fid)
            if face.person_id != source.id:
                raise UserError(f"face {fid} is not a face of person {source.id}",
                                f"see 'clusterids faces --person {source.id}'")
            chosen[face.id] = face
        for path in photos:
            found = list(s.scalars(select(Face).join(Photo, Photo.id == Face.photo_id)
                                   .where(Photo.path == path, Face.person_id == source.id)))
            if not found:
                raise UserError(f"no face of person {source.id} in {path}", "check the photo's path")
            chosen.update((f.id, f) for f in found)
        if not chosen:
            raise UserError("split needs faces", "give --faces ID... or --photos PATH...")
        before = _snapshot(s, chosen.values(), [])
        new = _new_person(s)
        before["created"] = [new.id]
        for f in chosen.values():
            f.person_id, f.pinned = new.id, True
            _reject(s, f.id, source.id)
        _moved(s, chosen)
        _journal(s, "split", {"person": source.id, "faces": sorted(chosen), "new": new.id}, before)
        return Split(person_row(source), person_row(new), sorted(chosen))


def set_person(db: Database, op: str, person: str, **values: Any) -> PersonRow:
    """Rename, hide or unhide a person: one journal entry."""
    with db.transaction() as s:
        target = _find_person(s, person)
        if "name" in values and values["name"] is not None:
            clash = next(iter(_named(s, values["name"], [target.id])), None)
            if clash is not None:  # two persons may not share a name, whatever its case
                raise UserError(f"person {clash.id} is named {clash.name!r} already",
                                f"merge the two instead (clusterids merge {clash.id} {target.id})")
        before = _snapshot(s, [], [target])
        for k, v in values.items():
            setattr(target, k, v)
        outbox.mark(s, outbox.ALBUMS)
        _sidecars(s, persons=[target.id])
        _journal(s, op, {"person": target.id, **values}, before)
        s.flush()
        return person_row(target)


@dataclass(frozen=True)
class Born:
    person: PersonRow
    left: list[int]  # the person's faces in photos taken before the date: unknown faces now
    pinned_before: list[int]  # those the user gave them by hand, kept


def set_born(db: Database, person: str, born: str | None) -> Born:
    """A person's birth date (None: none): their faces in photos taken before it leave them,
    unless pinned to them by hand; no later recluster, assignment or suggestion gives them such
    a face (``reads.refusals``). One journal entry; its undo puts the faces back."""
    with db.transaction() as s:
        target = _find_person(s, person)
        if target.born == born:  # nothing changes: no correction to undo
            return Born(person_row(target), [], [])
        early = _dated_before(s, [target.id], born)
        left = [f for f in early if not f.pinned]
        before = _snapshot(s, left, [target])
        target.born = born
        for f in left:
            f.person_id = None
        ids = [f.id for f in left]
        _moved(s, ids)
        outbox.mark(s, outbox.ASSIGN, ids)  # someone else's, perhaps (a parent's childhood photo)
        _journal(s, "born", {"person": target.id, "born": born, "faces": ids}, before)
        s.flush()
        return Born(person_row(target), ids, [f.id for f in early if f.pinned])


def _dated_before(session: Session, person_ids: list[int], born: str | None) -> list[Face]:
    """The faces of these persons in photos taken before ``born`` (a date the camera, the XMP or
    the file name gave: never an estimated one), by id."""
    if born is None:
        return []
    return list(session.scalars(
        select(Face).join(Photo, Face.photo_id == Photo.id)
        .where(Face.person_id.in_(person_ids), Photo.taken_estimated.is_(False), Photo.taken_at.is_not(None),
               Photo.taken_at < born).order_by(Face.id)))


def _now(session: Session, face_id: int) -> Face | None:
    """The face ``face_id`` is now: itself, or the face an edit of its photo or a change of
    model pack handed it to."""
    for _ in range(32):  # a chain of edits, never a loop
        face = session.get(Face, face_id)
        if face is not None:
            return face
        moved = session.get(FaceMove, face_id)
        if moved is None:
            return None
        face_id = moved.new_id
    return None


def set_cover(db: Database, person: str, face_id: int) -> PersonRow:
    """Show ``person`` by this face of theirs (a choice of display: not in the journal)."""
    with db.transaction() as s:
        target = _find_person(s, person)
        face = _face(s, face_id)
        if face.person_id != target.id:
            raise UserError(f"face {face.id} is not a face of person {target.id}", "choose one of its faces")
        target.cover_face_id = face.id
        corrections_log.record(s, "cover", {"person": target.id, "face": face.id}, where=_where(s, [face.id]),
                               persons_at=_persons_at(s, [target.id], []))
        s.flush()
        return person_row(target)


def keep_apart(db: Database, persons: list[str]) -> list[int]:
    """Two persons are not one: the merge suggestions never pair them again."""
    if len(persons) != 2:
        raise UserError("keep-apart needs two persons", "name exactly two")
    with db.transaction() as s:
        pair = sorted({_find_person(s, t).id for t in persons})
        if len(pair) != 2:
            raise UserError("keep-apart needs two different persons", "name two persons")
        a, b = pair
        if s.get(KeepApart, (a, b)) is None:
            s.add(KeepApart(person_a=a, person_b=b))
            corrections_log.record(s, "keep_apart", {"persons": [a, b]}, persons_at=_persons_at(s, [a, b], []))
        return [a, b]


def undo(db: Database) -> Undone:
    """Put back what the last correction not undone yet replaced."""
    with db.transaction() as s:
        entry = s.scalar(select(Journal).where(Journal.undone.is_(False)).order_by(Journal.id.desc()).limit(1))
        if entry is None:
            raise UserError("nothing to undo", "the journal has no correction left")
        what = journal.entry(s, entry)  # its persons called as the correction left them
        before = entry.before
        moved: list[int] = []
        # faces marked by hand go again (a face the detector found over one since stays)
        made = [f for f in (_now(s, fid) for fid in before.get("made", [])) if f is not None and f.origin == "hand"]
        if made:
            ids = [f.id for f in made]
            _sidecars(s, faces=ids)
            s.execute(delete(Rejection).where(Rejection.face_id.in_(ids)))
            s.execute(delete(Face).where(Face.id.in_(ids)))
            outbox.mark(s, outbox.VECTOR, ids)
            outbox.mark(s, outbox.ALBUMS)
        for fid, person_id, pinned, *ignored in before["faces"]:  # entries before i18 have no ignored
            face = _now(s, fid)
            if face is None:
                continue
            if person_id is not None and s.get(Person, person_id) is None:  # a recluster dropped it since
                person_id, pinned = None, False
            face.person_id, face.pinned = person_id, pinned
            face.ignored = ignored[0] if ignored else None
            moved.append(face.id)
        dated: list[Person] = []
        for pid, name, hidden, merged_into, *born in before["persons"]:  # entries before birth dates have none
            p = s.get(Person, pid) or Person(id=pid)
            p.name, p.hidden, p.merged_into = name, hidden, merged_into
            if born:
                p.born = born[0]
                dated += [p] if born[0] else []
            s.add(p)
        s.flush()
        for p in dated:  # a birth date put back holds again: faces given to them meanwhile from before it leave
            early = [f for f in _dated_before(s, [p.id], p.born) if not f.pinned]
            for f in early:
                f.person_id = None
            moved += [f.id for f in early]
            outbox.mark(s, outbox.ASSIGN, [f.id for f in early])
        for old_fid, person_ids in before["rejections"].items():
            face_now = _now(s, int(old_fid))
            if face_now is None:
                continue
            s.execute(delete(Rejection).where(Rejection.face_id == face_now.id))
            s.flush()
            for pid in person_ids:
                if s.get(Person, pid) is not None:
                    s.add(Rejection(face_id=face_now.id, person_id=pid))
        s.flush()
        for pid in before.get("created", []):
            created = s.get(Person, pid)
            if created is not None:
                s.execute(delete(Rejection).where(Rejection.person_id == pid))
                for f in s.scalars(select(Face).where(Face.person_id == pid)):
                    f.person_id, f.pinned = None, False
                    moved.append(f.id)
                s.delete(created)
        entry.undone = True
        corrections_log.record(s, "undo", {})
        _moved(s, moved)
        _sidecars(s, persons=[p[0] for p in before["persons"]])
        s.flush()
        named = [int(v) for k, v in entry.args.items() if k in ("person", "into") and isinstance(v, int)]
        named += [int(v) for v in entry.args.get("persons", []) if isinstance(v, int)]
        now = [person_row(p) for p in (s.get(Person, pid) for pid in named) if p is not None]
        return Undone(entry.op, dict(entry.args), now, what)
