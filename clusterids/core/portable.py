"""Portable people: a library's persons and corrections in one JSON file, and back (i20).

``people export FILE`` writes every person (name, hidden, cover, birth date) and every corrected face as
(photo content hash, box, person): assigned and split faces (pinned), rejected ones, the
faces of named persons (members, so that a name given to a cluster travels too), (i18) the
ignored faces with their reason, and the faces marked by hand (``hand``: where the other
library finds no face there, its models make one from the box, as ``mark-face`` does). Boxes are in
the photo's displayed pixels with the photo's size, so nothing depends on the model pack or the
database engine. ``people import FILE`` applies them to another library as corrections (the
store's: in the journal, undone by ``undo``), finding each face by its photo's hash and the best
box overlap, and reports what it could not find.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from .. import __version__
from ..errors import UserError
from ..store import grouping, reads
from ..store import people as store_people
from ..store.library import Library
from ..store.rows import FaceRow, PhotoRow
from ..xmp import match
from .people import birth_date
from .results import PeopleExported, PeopleImported, Unmatched

FORMAT, VERSION = "clusterids-people", 1
MATCH_IOU = 0.5  # two packs' boxes of one face overlap far more than two faces' boxes


REASONS = ("ignored", "not_a_face")


def _face_entry(face: FaceRow, photo: PhotoRow, key: int | None) -> dict[str, Any]:
    return {"photo": photo.sha256, "path": photo.path, "size": [photo.width, photo.height],
            "box": [round(v, 2) for v in face.bbox], "person": key}


def export(lib: Library, file: str) -> PeopleExported:
    """Write the library's persons and corrections to ``file`` (JSON, written atomically)."""
    persons, faces, rejected, ignored = [], [], [], []
    with lib.db.read() as s:
        photos = reads.photos_by_id(s)
        by_id = reads.persons(s, merged=False)
        all_faces = {f.id: f for f, _ in reads.faces_with_paths(s)}
        rejections = reads.rejections(s)
        hand = reads.hand_faces(s)
    for person in by_id.values():
        cover = all_faces.get(person.cover_face_id) if person.cover_face_id else None
        entry = _face_entry(cover, photos[cover.photo_id], person.id) \
            if cover is not None and cover.person_id == person.id else None
        persons.append({"key": person.id, "name": person.name, "hidden": person.hidden, "cover": entry,
                        **({"born": person.born} if person.born else {})})
    for face in all_faces.values():
        if face.ignored is not None:
            ignored.append({**_face_entry(face, photos[face.photo_id], None), "reason": face.ignored})
        owner = by_id.get(face.person_id) if face.person_id is not None else None
        marked = {"hand": True} if face.id in hand else {}
        if owner is None or not (face.pinned or owner.name):
            if marked and face.ignored is None:  # an unknown face marked by hand: made there too
                faces.append({**_face_entry(face, photos[face.photo_id], None), "state": "marked", **marked})
            continue
        faces.append({**_face_entry(face, photos[face.photo_id], owner.id),
                      "state": "assigned" if face.pinned else "member", **marked})
    for face_id, person_id in rejections:
        rejected_face = all_faces.get(face_id)
        if rejected_face is not None and person_id in by_id:
            rejected.append(_face_entry(rejected_face, photos[rejected_face.photo_id], person_id))
    doc = {"format": FORMAT, "version": VERSION, "clusterids": __version__, "model": lib.pack.spec,
           "exported_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "persons": persons, "faces": faces, "rejected": rejected, "ignored": ignored}
    tmp = f"{file}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1, ensure_ascii=False)
        os.replace(tmp, file)
    except OSError as exc:
        raise UserError(f"cannot write {file}: {exc.strerror or exc}", "choose a file in a folder you can write to") \
            from exc
    return PeopleExported(file=file, persons=len(persons), faces=len(faces), rejected=len(rejected),
                          ignored=len(ignored))


def _load(file: str) -> dict[str, Any]:
    try:
        with open(file, encoding="utf-8") as fh:
            doc = json.load(fh)
    except OSError as exc:
        raise UserError(f"cannot read {file}: {exc.strerror or exc}", "check the path") from exc
    except json.JSONDecodeError as exc:
        raise UserError(f"{file} is not JSON ({exc.msg}, line {exc.lineno})",
                        "give a file written by 'clusterids people export'") from exc
    except (RecursionError, UnicodeDecodeError, MemoryError) as exc:  # nested past the parser's reach, or no text
        raise UserError(f"{file} is not a people file of clusterids ({type(exc).__name__})",
                        "give a file written by 'clusterids people export'") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise UserError(f"{file} is not a people file of clusterids",
                        "give a file written by 'clusterids people export'")
    if int(doc.get("version", 0)) > VERSION:
        raise UserError(f"{file} was written by a newer clusterids (format {doc.get('version')})", "update clusterids")
    return doc


class _Finder:
    """Faces of this library by photo content and box overlap."""

    def __init__(self, lib: Library) -> None:
        self.lib = lib
        self.cache: dict[str, list[tuple[int, tuple[float, float, float, float], int, int]]] = {}

    def find(self, entry: dict[str, Any]) -> int | str:
        sha = str(entry.get("photo") or "")
        if sha not in self.cache:
            with self.lib.db.read() as s:
                self.cache[sha] = [(f.id, (f.x1, f.y1, f.x2, f.y2), w or 1, h or 1)
                                   for f, w, h in reads.faces_with_content(s, sha)]
        faces = self.cache[sha]
        if not faces:
            return "no photo with this content in the library"
        w, h = (entry.get("size") or [None, None])[:2]
        box = tuple(float(v) for v in entry["box"])
        scored = []
        for fid, fbox, pw, ph in faces:
            theirs = match.normalised(box, float(w or pw), float(h or ph))
            scored.append((match.iou(theirs, match.normalised(fbox, pw, ph)), fid))
        best, fid = max(scored)
        if best < MATCH_IOU:
            return f"no face at this place in the photo (best overlap {best:.2f})"
        return fid

    def mark(self, entry: dict[str, Any], why: str) -> int | str:
        """A face marked by hand in the other library and found nowhere here, made from its box by
        this library's models (one correction, as ``mark-face`` makes it); else why not."""
        from . import marks

        sha = str(entry.get("photo") or "")
        with self.lib.db.read() as s:
            photo = reads.photo_with_content(s, sha)
        if photo is None:
            return why
        w, h = (entry.get("size") or [None, None])[:2]
        fx, fy = (photo.width or 1) / float(w or photo.width or 1), (photo.height or 1) / float(h or photo.height or 1)
        x1, y1, x2, y2 = (float(v) for v in entry["box"])
        try:
            box = marks.checked_box(self.lib, photo, [x1 * fx, y1 * fy, x2 * fx, y2 * fy])
            made = store_people.mark_face(self.lib.db, photo.id, marks.embedded(self.lib, photo, box), None)
        except UserError as exc:
            return f"{why}; not made from its box: {exc}"
        self.cache.pop(sha, None)
        return made.face


def import_file(lib: Library, file: str) -> PeopleImported:
    """Apply a people file to this library as corrections; what matched and what did not."""
    doc = _load(file)
    finder = _Finder(lib)
    unmatched: list[Unmatched] = []
    groups: dict[str, dict[int, list[int]]] = {"assigned": defaultdict(list), "member": defaultdict(list),
                                               "rejected": defaultdict(list)}
    entries = [(e.get("state", "assigned"), e) for e in doc.get("faces") or []]
    entries += [("rejected", e) for e in doc.get("rejected") or []]
    entries += [("ignored", e) for e in doc.get("ignored") or []]
    aside: dict[str, list[int]] = defaultdict(list)  # reason -> faces
    for state, entry in entries:
        found = finder.find(entry)
        if isinstance(found, str) and entry.get("hand") is True:
            found = finder.mark(entry, found)
        if isinstance(found, str):
            unmatched.append(Unmatched(photo=entry.get("photo"), path=entry.get("path"), box=entry.get("box"),
                                       state=state, reason=found))
        elif state == "ignored":
            aside[entry.get("reason") if entry.get("reason") in REASONS else "ignored"].append(found)
        elif state in groups:
            groups[state][int(entry["person"])].append(found)
    persons = {int(p["key"]): p for p in doc.get("persons") or []}
    with lib.db.read() as s:
        by_name: dict[str, int] = {}
        for p in reads.persons(s, merged=False).values():
            if p.name:
                by_name.setdefault(p.name.lower(), p.id)
    target: dict[int, int] = {}  # the file's person key -> this library's person
    for key, person in persons.items():
        if person.get("name") and str(person["name"]).lower() in by_name:
            target[key] = by_name[str(person["name"]).lower()]
    out = {"persons_matched": len(target), "persons_created": 0, "faces_assigned": 0, "faces_joined": 0,
           "faces_rejected": 0, "faces_ignored": 0}
    for key, ids in groups["assigned"].items():
        name = (persons.get(key) or {}).get("name")
        done = store_people.assign(lib.db, str(target[key]) if key in target else name, ids)
        target[key] = done.person.id
        out["persons_created"] += int(done.created)
        out["faces_assigned"] += len(ids)
    out["faces_joined"] = _join(lib, groups["member"], target, persons, out)
    for key, ids in groups["rejected"].items():
        if key in target:
            store_people.reject(lib.db, str(target[key]), ids)
            out["faces_rejected"] += len(ids)
        else:
            unmatched += [Unmatched(face=i, state="rejected", reason="its person has no face in this library")
                          for i in ids]
    for reason, ids in aside.items():
        store_people.ignore(lib.db, ids, reason)
        out["faces_ignored"] += len(ids)
    for key, person in persons.items():
        if key not in target:
            continue
        if person.get("hidden"):
            store_people.set_person(lib.db, "hide", str(target[key]), hidden=True)
        if isinstance(person.get("born"), str):
            with contextlib.suppress(UserError):  # not a date this version reads: the rest goes on
                store_people.set_born(lib.db, str(target[key]), birth_date(person["born"]))
        cover = finder.find(person["cover"]) if person.get("cover") else None
        if isinstance(cover, int):
            with contextlib.suppress(UserError):  # the cover face went to someone else here
                store_people.set_cover(lib.db, str(target[key]), cover)
    return PeopleImported(**out, unmatched=unmatched)


def _join(lib: Library, members: dict[int, list[int]], target: dict[int, int], persons: dict[int, Any],
          out: dict[str, int]) -> int:
    """Faces of a named cluster join its person as the clustering would: not pinned (a recluster
    may still move them), no journal entry; a person named nowhere else is created for them."""
    joined = 0
    for key, ids in members.items():
        if key not in target:
            name = (persons.get(key) or {}).get("name")
            if not name:
                continue
            first = store_people.assign(lib.db, str(name), ids[:1])  # the name needs a face to exist
            target[key], ids = first.person.id, ids[1:]
            out["persons_created"] += int(first.created)
        if ids:
            joined += len(grouping.join(lib.db, target[key], ids))
    return joined
