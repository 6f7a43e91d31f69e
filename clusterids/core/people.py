"""Operations on people: the list, their faces, the recluster, every correction (each its own
method: one transaction and one journal entry in the store), the suggestions, and the page's
views of people."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..store.rows import LABEL, label
from .operations import MAX_NAME, Count, Name, PersonRef, operation
from .results import (
    Assigned,
    Born,
    Correction,
    Cover,
    Face,
    FaceCard,
    Hidden,
    Ignored,
    KeptApart,
    Marked,
    Merged,
    Moved,
    Named,
    Parted,
    PeoplePage,
    Person,
    PersonCard,
    PersonPage,
    PhotoCard,
    Reclustered,
    Rejected,
    Renamed,
    Split,
    Suggestions,
    Undone,
)

if TYPE_CHECKING:
    from ..store.journal import Entry
    from ..store.library import Library
    from . import Core

SORTS = ("photos", "name", "newest")


class PeopleController:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.lib = core.lib

    # -- questions ---------------------------------------------------------------------------

    @operation(reads_only=True)
    def persons(self, include_hidden: bool = False) -> list[Person]:
        """Persons, most faces first (with INCLUDE_HIDDEN: hidden and empty ones too)."""
        from ..store import reads

        with self.lib.db.read() as s:
            rows = reads.person_counts(s)
        out = [Person(id=c.person.id, name=c.person.name, label=c.person.label, faces=c.faces, photos=c.photos,
                      hidden=c.person.hidden)
               for c in rows if include_hidden or (not c.person.hidden and c.faces)]
        return sorted(out, key=lambda r: (-r.faces, r.id))

    @operation(reads_only=True)
    def faces(self, person: PersonRef | None = None, unknown: bool = False, ignored: bool = False) -> list[Face]:
        """Faces: id, photo, box, detection score, person (one person's, only the unknown ones, or
        only the IGNORED ones)."""
        from ..store import reads

        with self.lib.db.read() as s:
            pid = reads.find_person(s, person).id if person is not None else None
            rows = reads.faces_with_paths(s, pid, unknown, ignored)
        return [Face(id=f.id, photo=path, bbox=f.bbox, det_score=f.det_score, person=f.person_id, ignored=f.ignored)
                for f, path in rows]

    @operation()
    def suggest(self, person: PersonRef | None = None, limit: Count = 20) -> Suggestions:
        """Questions likely to be answered yes: persons that may be one, and unknown faces that may
        be PERSON (without one: unknown faces that may be someone)."""
        from .suggestions import suggestions

        return suggestions(self.lib, person, min(max(limit, 0), 500))

    # -- the recluster -----------------------------------------------------------------------

    @operation()
    def recluster(self, dry_run: bool = False, from_scratch: bool = False) -> Reclustered:
        """Group faces into persons, keeping every correction (FROM_SCRATCH: rebuild the graph)."""
        from .. import faults
        from ..clustering import people as rule
        from ..outputs.thumbs import prune_thumbs
        from ..store import grouping
        from ..store.grouping import PlanWrite
        from .backups import keep_copy

        lib = self.lib
        p = rule.params(lib)
        faces = rule.load_faces(lib)
        graph = rule.graph_for(lib, faces, from_scratch)
        labels = rule.labels_for(lib, faces, graph, p)
        plan = rule.plan(lib, faces, labels)
        report = rule.diff(faces, plan)
        if not dry_run:
            new_keys, moves = rule.moves(faces, plan)
            grouping.apply_plan(lib.db, PlanWrite(new_keys, moves))
            faults.point("recluster.after_commit")
            self.core.catch_up()
            prune_thumbs(lib)  # cached face crops of faces that are gone
            keep_copy(self.core, bool(moves or new_keys))
        return Reclustered(
            new=report["new"], removed=report["removed"], merged=[Moved(**m) for m in report["merged"]],
            split=[Parted(**x) for x in report["split"]], faces_moved=report["faces_moved"], eps=p.eps,
            min_samples=p.min_samples, faces=len(faces.ids), clusters=int(labels.max() + 1) if len(labels) else 0,
            unknown=sum(1 for v in plan.assignment.values() if v is None), applied=not dry_run)

    # -- corrections -------------------------------------------------------------------------

    @operation()
    def assign(self, person: PersonRef, face_ids: list[int], create: bool = True) -> Assigned:
        """FACE_IDS belong to PERSON (an id or exact name) from now on, as one correction that one
        undo reverts; a name no person has creates that person (CREATE)."""
        from .. import faults
        from ..errors import UserError
        from ..store import people as store_people

        ids = list(dict.fromkeys(face_ids))
        if not ids:
            raise UserError("assign needs a face", "give FACE, or --faces ID (repeatable)")
        _check_name(person)
        done = store_people.assign(self.lib.db, person, ids, create)
        faults.point("correct.after_commit")
        warnings = [_twice(self.lib, done.person.label, done.shared_photos)] if done.shared_photos else []
        return Assigned(face=ids[0], faces=done.faces, person=done.person.id, name=done.person.name,
                        label=done.person.label, created=done.created, warnings=warnings,
                        shared_photos=done.shared_photos)

    @operation()
    def reject(self, person: PersonRef, face_ids: list[int]) -> Rejected:
        """FACE_IDS are not PERSON: they never go to that person again (one correction)."""
        from .. import faults
        from ..errors import UserError
        from ..store import people as store_people

        ids = list(dict.fromkeys(face_ids))
        if not ids:
            raise UserError("reject needs a face", "give FACE")
        done = store_people.reject(self.lib.db, person, ids)
        faults.point("correct.after_commit")
        return Rejected(face=ids[0], faces=done.faces, rejected=done.person.id, label=done.person.label)

    @operation()
    def ignore(self, face_ids: list[int], not_a_face: bool = False) -> Ignored:
        """Put FACE_IDS aside (a stranger, a crowd; NOT_A_FACE: no face at all): out of the unknown
        faces and of their person, never suggested nor clustered again; one correction."""
        return self._ignore(face_ids, "not_a_face" if not_a_face else "ignored")

    @operation()
    def unignore(self, face_ids: list[int]) -> Ignored:
        """Take ignored FACE_IDS back: unknown faces again, which clustering may place."""
        return self._ignore(face_ids, None)

    def _ignore(self, face_ids: list[int], reason: str | None) -> Ignored:
        from .. import faults
        from ..errors import UserError
        from ..store import people as store_people
        from ..store import reads

        ids = list(dict.fromkeys(face_ids))
        if not ids:
            verb, where = ("ignore", "--unknown") if reason is not None else ("unignore", "--ignored")
            raise UserError(f"{verb} needs a face", f"give FACE... (see 'clusterids faces {where}')")
        done = store_people.ignore(self.lib.db, ids, reason)
        faults.point("correct.after_commit")
        with self.lib.db.read() as s:
            rows = [reads.get_person(s, pid) for pid in done.left]
        return Ignored(faces=done.faces, reason=done.reason, persons=[r.id for r in rows if r],
                       labels=[r.label for r in rows if r])

    @operation()
    def mark_face(self, photo: str, box: list[float], person: PersonRef | None = None) -> Marked:
        """A face the detector missed: BOX (x1, y1, x2, y2 in the photo's pixels as shown) in PHOTO
        (an id or path) becomes a face, PERSON's when given (a new name creates that person), else
        an unknown face; one correction, which undo takes back by deleting the face."""
        from .. import faults
        from ..store import people as store_people
        from . import marks

        if person is not None:
            _check_name(person)
        row = marks.photo_of(self.lib, photo)
        box_kept = marks.checked_box(self.lib, row, box)
        face = marks.embedded(self.lib, row, box_kept)
        done = store_people.mark_face(self.lib.db, row.id, face, person)
        faults.point("correct.after_commit")
        who = done.person
        placed = False
        if who is None:  # an unknown face: the instant assignment may know whose it is, say so now
            from ..store import reads

            self.core.catch_up(albums=False)
            with self.lib.db.read() as s:
                now = reads.get_face(s, done.face)
                who = reads.get_person(s, now.person_id) if now is not None and now.person_id is not None else None
            placed = who is not None
        warnings = [_twice(self.lib, who.label, [row.id])] if who is not None and done.twice else []
        return Marked(face=done.face, photo=row.id, bbox=list(box_kept), found=face.det_score > 0,
                      person=who.id if who else None, name=who.name if who else None,
                      label=who.label if who else None, created=done.created, placed=placed, warnings=warnings)

    @operation()
    def merge(self, persons: list[PersonRef], name: Name | None = None) -> Merged:
        """Make PERSONS one person from now on, keeping the first one's id and the one name among
        them (NAME: the name to keep when they have different names)."""
        from .. import faults
        from ..store import people as store_people

        if name:
            _check_name(name)
        done = store_people.merge(self.lib.db, list(persons), name)
        faults.point("correct.after_commit")
        return Merged(person=done.person.id, merged=[p.id for p in done.merged], faces=done.faces,
                      name=done.person.name, label=done.person.label, merged_labels=[p.label for p in done.merged],
                      kept_label=done.kept_label)

    @operation()
    def split(self, person: PersonRef, face_ids: list[int] | None = None, photos: list[str] | None = None) -> Split:
        """Move some faces of PERSON (FACE_IDS, or its faces in PHOTOS) to a new person; they
        never rejoin PERSON."""
        from .. import faults
        from ..store import people as store_people

        done = store_people.split(self.lib.db, person, list(face_ids or []), list(photos or []))
        faults.point("correct.after_commit")
        return Split(person=done.person.id, new=done.new.id, faces=done.faces, label=done.person.label,
                     new_label=done.new.label)

    @operation()
    def rename(self, person: PersonRef, name: Name | None) -> Renamed:
        """Name PERSON (its album folder follows); an empty NAME removes the name."""
        from ..errors import UserError
        from ..store import people as store_people

        text = (name or "").strip()
        if text.isdigit():
            raise UserError(f"the name {text!r} is all digits and would read as a person id", "choose another")
        if LABEL.fullmatch(text):
            raise UserError(f"the name {text!r} is how an unnamed person is called", "choose another")
        _check_name(text)
        row = store_people.set_person(self.lib.db, "rename", person, name=text or None)
        return Renamed(person=row.id, name=row.name, label=row.label)

    @operation()
    def born(self, person: PersonRef, date: str | None) -> Born:
        """PERSON was born on DATE (YYYY-MM-DD; empty: no date): their faces in photos taken
        before it (by a camera's or a file name's date) leave them, and none comes back, unless
        pinned to them by hand; one correction."""
        from ..store import people as store_people

        done = store_people.set_born(self.lib.db, person, birth_date(date))
        return Born(person=done.person.id, born=done.person.born, label=done.person.label, left=done.left,
                    pinned_before=done.pinned_before)

    @operation()
    def hide(self, person: PersonRef) -> Hidden:
        """Hide PERSON from the list and the albums."""
        return self._hide(person, True)

    @operation()
    def unhide(self, person: PersonRef) -> Hidden:
        """Show a hidden PERSON again."""
        return self._hide(person, False)

    def _hide(self, person: PersonRef, hidden: bool) -> Hidden:
        from ..store import people as store_people

        row = store_people.set_person(self.lib.db, "hide" if hidden else "unhide", person, hidden=hidden)
        return Hidden(person=row.id, hidden=row.hidden, label=row.label)

    @operation()
    def cover(self, person: PersonRef, face: int) -> Cover:
        """Show PERSON by FACE, one of their faces (a choice of display, not a correction)."""
        from ..store import people as store_people

        row = store_people.set_cover(self.lib.db, person, face)
        return Cover(person=row.id, cover=face)

    @operation()
    def keep_apart(self, persons: list[PersonRef]) -> KeptApart:
        """Two PERSONS are not one: the merge suggestions never pair them again."""
        from ..store import people as store_people

        return KeptApart(persons=store_people.keep_apart(self.lib.db, list(persons)))

    @operation()
    def undo(self) -> Undone:
        """Revert the last correction."""
        from ..store import people as store_people

        done = store_people.undo(self.lib.db)
        return Undone(undone=done.op, args=done.args, labels=[p.label for p in done.persons],
                      correction=_correction(done.entry))

    @operation(reads_only=True)
    def history(self, limit: Count = 20) -> list[Correction]:
        """The last corrections, newest first: the first is what undo reverts."""
        from ..store import journal

        return [_correction(e) for e in journal.history(self.lib.db, min(limit, 1000))]

    # -- the page's views --------------------------------------------------------------------

    @operation(reads_only=True)
    def page(self, hidden: bool = False, offset: Count = 0, limit: Count = 200, sort: str = "photos", q: str = "",
             unnamed: bool = True) -> PeoplePage:
        """A page of persons with a cover face each, sorted and filtered, and the count of unknown faces."""
        from ..errors import UserError
        from ..store import reads

        if sort not in SORTS:
            raise UserError(f"cannot sort people by {sort!r}", f"sort by one of: {', '.join(SORTS)}")
        with self.lib.db.read() as s:
            counts = reads.person_counts(s, covers=True)
            unknown = reads.face_count(s, unknown=True)
        rows = [c for c in counts if c.faces and (hidden or not c.person.hidden)]
        needle = q.strip().casefold()
        if needle:
            rows = [c for c in rows if needle in c.person.label.casefold()]
        if not unnamed:
            rows = [c for c in rows if c.person.name]
        if sort == "name":  # named first, alphabetically; then the unnamed by id
            rows.sort(key=lambda c: (c.person.name is None, (c.person.name or "").casefold(), c.person.id))
        elif sort == "newest":
            rows.sort(key=lambda c: (c.newest or "", c.person.id), reverse=True)
        else:
            rows.sort(key=lambda c: (-c.faces, c.person.id))
        offset, limit = max(offset, 0), min(max(limit, 0), 1000)
        cards = [PersonCard(id=c.person.id, name=c.person.name, label=c.person.label, faces=c.faces,
                            photos=c.photos, hidden=c.person.hidden, cover=c.cover, newest=c.newest,
                            newest_estimated=c.newest_estimated)
                 for c in rows[offset: offset + limit]]
        return PeoplePage(total=len(rows), unknown=unknown, people=cards)

    @operation(reads_only=True)
    def person(self, person: PersonRef = "unknown", offset: Count = 0, limit: Count = 300) -> PersonPage:
        """A person's faces and photos, the photos by date taken (PERSON "unknown": the unknown faces)."""
        from ..errors import NotFound
        from ..store import reads

        offset, limit = max(offset, 0), min(max(limit, 0), 2000)
        text = person.strip()
        pid = None if text == "unknown" else int(text) if text.isascii() and text.isdigit() and \
            0 < int(text) <= reads.MAX_ID else -1
        with self.lib.db.read() as s:
            row = reads.get_person(s, pid) if pid is not None and pid > 0 else None
            if pid is not None and (row is None or row.merged_into is not None):
                raise NotFound(f"there is no person {text if pid and pid > 0 else repr(text[:40])}",
                               "go back to the people page")
            faces = reads.faces(s, person_id=pid, unknown=pid is None)
            photo_ids = sorted({f.photo_id for f in faces})
            dated = sorted(((t or "", pid, guess) for pid, t, guess in
                            reads.photo_dates(s, photo_ids[: 20 * limit])), reverse=True)
        return PersonPage(
            id=row.id if row else None, name=row.name if row else "Unknown faces",
            label=row.label if row else "Unknown faces", hidden=row.hidden if row else False,
            cover=row.cover_face_id if row else None, born=row.born if row else None, total_faces=len(faces),
            has_album=row is not None and not row.hidden,
            faces=[FaceCard(id=f.id, photo=f.photo_id, det_score=f.det_score) for f in faces[offset: offset + limit]],
            total_photos=len(photo_ids),
            photos=[PhotoCard(id=pid, taken=t or None, taken_estimated=guess) for t, pid, guess in dated[:limit]])


def _correction(e: Entry) -> Correction:
    return Correction(id=e.id, at=e.at, op=e.op, args=e.args, faces=e.faces, created=e.created,
                      persons=[Named(id=p.id, label=p.label, was=p.was) for p in e.persons])


def _twice(lib: Library, who: str, photo_ids: list[int]) -> str:
    """The warning that photos now show one person twice, naming the photos."""
    from pathlib import Path

    from ..store import reads

    with lib.db.read() as s:
        names = [Path(row.path).name for row in (reads.get_photo(s, pid) for pid in photo_ids[:3]) if row]
    if len(photo_ids) == 1:
        return f"the photo {names[0] if names else photo_ids[0]} now shows {who} twice: one of the two faces " \
               "may be someone else"
    more = f" and {len(photo_ids) - len(names)} more" if len(photo_ids) > len(names) else ""
    return f"{len(photo_ids)} photos now show {who} twice ({', '.join(names)}{more}): in each, one of the two " \
           "faces may be someone else"


def birth_date(text: str | None) -> str | None:
    """A birth date as stored ("YYYY-MM-DD"), None for none; a date that is none, one line."""
    from datetime import date

    from ..dates import FIRST_YEAR
    from ..errors import UserError

    t = (text or "").strip()
    if not t:
        return None
    try:
        when = date.fromisoformat(t)
    except ValueError:
        raise UserError(f"{t[:40]!r} is not a date", "write it as YYYY-MM-DD, e.g. 2012-05-30") from None
    if when > date.today():
        raise UserError(f"{when.isoformat()} is in the future", "give the day the person was born")
    if when.year < FIRST_YEAR:
        raise UserError(f"{when.isoformat()} is not a birth date a photo can follow",
                        f"give a year from {FIRST_YEAR} on")
    return when.isoformat()


def _check_name(name: str) -> None:
    from ..errors import UserError

    if len(name) > MAX_NAME:
        raise UserError(f"the name is {len(name)} characters long", f"give a name of at most {MAX_NAME}")


__all__ = ["PeopleController", "label"]
