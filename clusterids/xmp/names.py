"""Names other programs gave, made corrections: the catch-up's step for the photos the indexer
marked (outbox NAMES, upkeep/catchup.py), after the vectors and before the instant assignment.

Each photo's named regions are matched against its faces: a named region over a detected face
(the best overlap each) makes that face a pinned face of the person of that name, created if
needed, through the store's ``assign`` exactly as ``clusterids assign`` does: one correction per
name and run, in ``undo`` and the journal. A named region with no face under it becomes a face
of its own, embedded from the region and marked as coming from metadata. Unnamed regions are
hints only. A People tag names the face only when the photo holds one face and the tags one
person.

Names match persons case-insensitively. What the user did here wins over an unchanged sidecar:
only names not applied before are applied (a re-read after digiKam renames someone moves those
faces; a correction made here since is not undone), and a face rejected for a person never goes
to that person because a file says so. Run again after a crash, it finds the faces it made and
the corrections it did: nothing is done twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import UserError
from ..media.imaging import BadImage, Decoded, decode, read_capped
from ..store import people as store_people
from ..store import reads
from ..store import xmp as store_xmp
from ..store.library import Library
from ..store.photos import add_faces
from ..store.rows import PhotoNames, PhotoRow
from . import match, orient
from . import state as xmp_state
from .embed import region_faces

MAX_NAME = 200  # as long a name as the core takes (core/people.py)


@dataclass
class Wanted:
    name: str
    faces: list[int] = field(default_factory=list)
    paths: dict[int, str] = field(default_factory=dict)  # face -> its photo, for what is skipped


@dataclass
class Plan:
    wanted: dict[str, Wanted] = field(default_factory=dict)  # lower-case name -> faces it names
    missing: dict[int, list[tuple[str, orient.Box]]] = field(default_factory=dict)  # photo -> (name, box px)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # (photo, name, why)
    applied: dict[int, tuple[list[str], frozenset[int]]] = field(default_factory=dict)  # photo -> keys, faces
    retry: list[int] = field(default_factory=list)  # photos that could not be read now

    def want(self, name: str, face_id: int, path: str) -> None:
        entry = self.wanted.setdefault(name.lower(), Wanted(name))
        if face_id not in entry.faces:
            entry.faces.append(face_id)
            entry.paths[face_id] = path


@dataclass(frozen=True)
class Applied:
    faces_named: int = 0
    faces_made: int = 0  # from named regions no detected face is under
    persons_created: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)
    retry: list[int] = field(default_factory=list)


def orientation_of(photo: PhotoNames | PhotoRow) -> int:
    """The orientation the photo's boxes are in: as stored, else (a photo indexed before it was
    kept) the EXIF one it was decoded with."""
    if photo.orientation is not None:
        return photo.orientation
    from ..media.imaging import exif_orientation, open_regular

    try:
        with open_regular(photo.path) as fh:
            return exif_orientation(fh.read(1 << 20))  # the EXIF block is at the start of the file
    except OSError:
        return 1


def _plan_photo(plan: Plan, photo: PhotoNames, faces: list[tuple[int, orient.Box]]) -> None:
    st = photo.xmp
    done = set((st or {}).get("applied") or [])
    named = xmp_state.named(st)
    o, w, h = orientation_of(photo) if named else 1, float(photo.width or 1), float(photo.height or 1)
    boxes = [match.scaled(orient.to_display(r.box, o), w, h) for r in named]
    pairs = match.pairs(boxes, [b for _, b in faces])
    for i, region in enumerate(named):
        name = region.name or ""
        if xmp_state.region_key(name, region.box) in done:
            continue
        if name.isdigit():
            plan.skipped.append((photo.path, name, "a name of digits reads as a person id"))
        elif len(name) > MAX_NAME:
            plan.skipped.append((photo.path, name[:40] + "...", f"longer than {MAX_NAME} characters"))
        elif i in pairs:
            plan.want(name, faces[pairs[i]][0], photo.path)
        else:
            plan.missing.setdefault(photo.id, []).append((name, boxes[i]))
    people = (st or {}).get("people") or []
    if not named and len(people) == 1 and xmp_state.tag_key(people[0]) not in done:
        if len(faces) == 1 and not people[0].isdigit() and len(people[0]) <= MAX_NAME:
            plan.want(people[0], faces[0][0], photo.path)
        elif faces:
            plan.skipped.append((photo.path, people[0], f"a People tag and {len(faces)} faces: which one is unknown"))
    plan.applied[photo.id] = (sorted(xmp_state.keys(st)), frozenset(f for f, _ in faces))


def decoded_now(lib: Library, photo: PhotoNames | PhotoRow) -> Decoded | str:
    """The photo as it is now, turned as its boxes are; or why it cannot be read now."""
    settings = lib.settings
    try:
        data = read_capped(photo.path, settings.max_file_bytes)
        return decode(data, settings.decode_max_side, settings.max_pixels, orientation_of(photo))
    except (OSError, BadImage) as exc:
        return f"cannot be read now: {exc}"


def _add_missing(lib: Library, plan: Plan, photos: dict[int, PhotoNames]) -> int:
    """Faces for the named regions no detected face is under; the number made."""
    made = 0
    for photo_id, regions in plan.missing.items():
        photo = photos[photo_id]
        small = [(n, b) for n, b in regions if min(b[2] - b[0], b[3] - b[1]) < lib.settings.min_face_px / 2]
        regions = [r for r in regions if r not in small]
        plan.skipped += [(photo.path, n, "the region is too small for a face") for n, _ in small]
        if not regions:
            continue
        decoded = decoded_now(lib, photo)
        try:
            if isinstance(decoded, str):
                raise UserError(decoded)
            faces = region_faces(lib.model(), lib.settings, decoded, [b for _, b in regions])
        except UserError as exc:  # the photo, or the models, cannot be read now: tried again later
            plan.skipped += [(photo.path, n, str(exc)) for n, _ in regions]
            plan.applied.pop(photo_id, None)
            plan.retry.append(photo_id)
            continue
        ids = add_faces(lib.db, photo_id, faces)
        keys, seen = plan.applied[photo_id]
        plan.applied[photo_id] = (keys, seen | frozenset(ids))
        for (name, _), face_id in zip(regions, ids, strict=True):
            plan.want(name, face_id, photo.path)
            made += 1
    return made


def _assign(lib: Library, plan: Plan) -> tuple[int, list[str]]:
    """One correction per name; the faces named, and the persons created."""
    with lib.db.read() as s:
        persons: dict[str, int] = {}
        for p in reads.persons(s, merged=False).values():
            if p.name:
                persons.setdefault(p.name.lower(), p.id)
        todo: list[tuple[str, Wanted, list[int]]] = []
        for key, entry in plan.wanted.items():
            target = persons.get(key)
            refused = {f for f, _ in reads.rejections(s, person_id=target)} if target is not None else set()
            ids = []
            for fid in entry.faces:
                face = reads.get_face(s, fid)
                if face is None or (target is not None and face.person_id == target and face.pinned):
                    continue  # gone, or that person's already (applied before a crash)
                if fid in refused:
                    plan.skipped.append((entry.paths[fid], entry.name, f"face {fid} was rejected for this person here"))
                    continue
                ids.append(fid)
            if ids:
                todo.append((str(target) if target is not None else entry.name, entry, ids))
    named, created = 0, []
    for person, entry, ids in todo:
        try:
            done = store_people.assign(lib.db, person, ids)
        except UserError as exc:  # a face gone meanwhile: the rest goes on
            plan.skipped += [(entry.paths[fid], entry.name, str(exc)) for fid in ids]
            continue
        named += len(ids)
        if done.created:
            created.append(entry.name)
    return named, created


def apply(lib: Library, photo_ids: list[int]) -> Applied:
    """Make the names these photos' XMP gives, and that are not applied yet, corrections."""
    with lib.db.read() as s:
        photos = {p.id: p for p in reads.photo_names(s, photo_ids) if p.status == "ok" and p.xmp}
        faces = {pid: [(f.id, (f.x1, f.y1, f.x2, f.y2)) for f in reads.faces(s, photo_id=pid)] for pid in photos}
    if not photos:
        return Applied()
    plan = Plan()
    for pid, photo in photos.items():
        _plan_photo(plan, photo, faces[pid])
    made = _add_missing(lib, plan, photos) if plan.missing else 0
    named, created = _assign(lib, plan)
    store_xmp.mark_applied(lib.db, plan.applied)
    return Applied(named, made, created, plan.skipped, plan.retry)
