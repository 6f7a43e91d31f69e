"""What the user did to a photo's faces, kept through an edit of the photo (its content changed:
exposure, a re-save, a retouch), in the indexer's own transaction.

An edited photo is read again and its faces replaced by the models' new ones. Before, the old
faces went with everything done to them: a name given by ``assign`` to the only face of a
person took the person away. Now each old face that carried something (a person, a pin, a
rejection, being ignored) hands it to the new face whose box overlaps it most (intersection over
union at least 0.5) and whose vector is alike, as a change of model pack does (clustering/carry.py);
a face that moved in the frame (a crop) is found by a vector far closer still; a photo turned in an
editor (its pixels a quarter or a half turn of the old ones) finds its faces where the turn took
them. A face marked by hand stays as it is while the photo keeps its size (its box still means
the same pixels), unless a new face of the detector lies over it, which then takes it over.
After a crop (a smaller frame, the same turn) it moves as the photo's other faces moved, when
they all moved alike at their size, and keeps its vector (the same pixels); it goes when
nothing tells where it went.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from . import outbox
from .db import Face, FaceMove, Person, Photo, Rejection
from .rows import box_iou

SAME_FACE = 0.5  # a face found again in the edited pixels has nearly its box again...
ALIKE = 0.5  # ...and nearly its vector (cosine): two people who swapped places never pass both
MOVED = 0.8  # a face away from its old box (a crop, a turn) is found by its vector alone, this close
CROP_SIZE = 0.1  # a crop keeps a face's size: found again, its box is within a tenth of it
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Was:
    """An old face of the photo and what it carried."""

    face: int
    box: tuple[float, float, float, float]
    vector: bytes
    person: int | None
    pinned: bool
    rejected: tuple[int, ...]
    ignored: str | None
    hand: bool


@dataclass(frozen=True)
class Before:
    """A photo's faces before its new content: what they carried, the hand faces kept for now,
    and whether the frame shrank in the same turn (a crop: those move with the other faces)."""

    faces: tuple[Was, ...] = ()
    keep: frozenset[int] = frozenset()
    cropped: bool = False
    turns: tuple[int, ...] = ()  # quarter-turns the new pixels may be of the old (the sizes allow them)
    size: tuple[int, int] = (0, 0)  # the old pixels' width and height


NOTHING = Before()  # a new photo's


def before(session: Session, photo: Photo | None, width: int | None, height: int | None,
           orientation: int | None) -> Before:
    """What ``photo`` (None: a new one) had, for the new content of ``width`` x ``height``."""
    if photo is None:  # a photo that failed since keeps its faces for its next reading (store/photos.py)
        return NOTHING
    old = remember(session, photo.id)
    turn = (photo.orientation or 1) == (orientation or 1)
    same = turn and (photo.width, photo.height) == (width, height)
    cropped = (turn and not same and None not in (width, height, photo.width, photo.height)
               and (width or 0) <= (photo.width or 0) and (height or 0) <= (photo.height or 0))
    hand = frozenset(w.face for w in old if w.hand)
    turns: tuple[int, ...] = ()
    if turn and None not in (width, height, photo.width, photo.height):  # turned in an editor, not by EXIF
        swapped = (width, height) == (photo.height, photo.width)
        turns = ((1, 3) if swapped else ()) + ((2,) if same else ())
    return Before(tuple(old), hand if same or cropped else frozenset(), cropped, turns,
                  (photo.width or 0, photo.height or 0))


def _turned(box: Box, quarter: int, size: tuple[int, int]) -> Box:
    """``box`` of the old pixels (``size``) where it lies once they are turned ``quarter``
    quarter-turns counter-clockwise (an editor's rotate, PIL's ROTATE_90 for 1)."""
    w, h = size
    x1, y1, x2, y2 = box
    if quarter == 1:
        return y1, w - x2, y2, w - x1
    if quarter == 3:
        return h - y2, x1, h - y1, x2
    return w - x2, h - y2, w - x1, h - y1


def remember(session: Session, photo_id: int) -> list[Was]:
    """The photo's faces that carry something the user did, or were marked by hand (locked on a
    server until the transaction ends: a correction meanwhile waits, and is not overwritten)."""
    faces = session.execute(select(Face.id, Face.x1, Face.y1, Face.x2, Face.y2, Face.vector, Face.person_id,
                                   Face.pinned, Face.ignored, Face.origin)
                            .where(Face.photo_id == photo_id).order_by(Face.id).with_for_update()).all()
    rejected: dict[int, list[int]] = {}
    for fid, pid in session.execute(select(Rejection.face_id, Rejection.person_id)
                                    .where(Rejection.face_id.in_([f[0] for f in faces]))):
        rejected.setdefault(fid, []).append(pid)
    return [Was(fid, (x1, y1, x2, y2), vector, person, bool(pinned), tuple(rejected.get(fid, ())), ignored,
                origin == "hand")
            for fid, x1, y1, x2, y2, vector, person, pinned, ignored, origin in faces
            if person is not None or pinned or fid in rejected or ignored or origin == "hand"]


def give(session: Session, target: Face, person: int | None, pinned: bool, ignored: str | None,
         rejected: Sequence[int], persons: set[int]) -> bool:
    """What an old face carried, given to the face that replaces it (after an edit here; after a
    change of model pack in grouping.carry_over); persons gone since are left out. Whether its
    person or its ignoring changed."""
    if person in persons:
        target.person_id, target.pinned = person, pinned
    if ignored is not None:
        target.person_id, target.pinned, target.ignored = None, False, ignored
    for pid in rejected:
        if pid in persons and session.get(Rejection, (target.id, pid)) is None:
            session.add(Rejection(face_id=target.id, person_id=pid))
    return person in persons or ignored is not None


def _offset(moves: list[tuple[Box, Box]]) -> tuple[float, float] | None:
    """How far a crop moved the photo: the faces found again (old box, new box) all at their
    size, their centres all moved alike (within a tenth of the smallest); None otherwise."""
    import numpy as np

    if not moves:
        return None
    for o, n in moves:
        for was, now in ((o[2] - o[0], n[2] - n[0]), (o[3] - o[1], n[3] - n[1])):
            if abs(now - was) > CROP_SIZE * was:
                return None
    shifts = np.array([((n[0] + n[2] - o[0] - o[2]) / 2, (n[1] + n[3] - o[1] - o[3]) / 2) for o, n in moves])
    dx, dy = np.median(shifts, axis=0)
    side = min(min(o[2] - o[0], o[3] - o[1]) for o, _ in moves)
    if np.abs(shifts - (dx, dy)).max() > CROP_SIZE * side:
        return None
    return float(dx), float(dy)


def _follow_crop(session: Session, photo_id: int, hand: list[int], offset: tuple[float, float] | None) -> list[int]:
    """Move the hand faces by the crop's ``offset``; those it takes out of the frame (or all,
    when no offset is known) are returned, to go."""
    photo = session.get(Photo, photo_id)
    if offset is None or photo is None or photo.width is None or photo.height is None:
        return hand
    dx, dy = offset
    gone = []
    for fid in hand:
        face = session.get(Face, fid)
        if face is None:
            continue
        x1, y1, x2, y2 = face.x1 + dx, face.y1 + dy, face.x2 + dx, face.y2 + dy
        if x1 < -1 or y1 < -1 or x2 > photo.width + 1 or y2 > photo.height + 1:
            gone.append(fid)
            continue
        face.x1, face.y1 = max(0.0, x1), max(0.0, y1)
        face.x2, face.y2 = min(float(photo.width), x2), min(float(photo.height), y2)
        face.landmarks = [[x + dx, y + dy] for x, y in face.landmarks or []]
    return gone


def hand_over(session: Session, photo_id: int, before: Before) -> tuple[set[int], int]:
    """Give each old face's person, pin, rejections and ignoring to the new face over it, the
    closest pairs first; a hand face still there (``before.keep``) is taken over by a new face
    over it, or stays (after a crop, moved with the other faces, or goes). The new faces that
    took something over, and how many old ones found none."""
    import numpy as np

    old, kept = list(before.faces), before.keep

    new = [f for f in session.scalars(select(Face).where(Face.photo_id == photo_id).order_by(Face.id))
           if f.id not in kept]
    pairs = []  # (in place, how close, old, new): the faces in place first, then those that moved
    for i, was in enumerate(old):
        v = np.frombuffer(was.vector, np.float32)
        for j, f in enumerate(new):
            w = np.frombuffer(f.vector, np.float32)
            alike = float(v @ w) if len(v) == len(w) else -1.0
            now = (f.x1, f.y1, f.x2, f.y2)  # where it is: in place, or where a turn of the pixels took it
            overlap = max([box_iou(was.box, now)] + [box_iou(_turned(was.box, q, before.size), now)
                                                     for q in before.turns])
            if overlap >= SAME_FACE and alike >= ALIKE:
                pairs.append((1, overlap, i, j))
            elif alike >= MOVED:
                pairs.append((0, alike, i, j))
    persons = set(session.scalars(select(Person.id).where(Person.id.in_({w.person for w in old} |
                                                                        {p for w in old for p in w.rejected}))))
    taken_old: set[int] = set()
    carried: set[int] = set()
    gone: list[int] = []
    moves: list[tuple[Box, Box]] = []  # (old box, new box) of the detector's faces found again
    for _, _, i, j in sorted(pairs, reverse=True):
        target = new[j]
        if i in taken_old or target.id in carried:
            continue
        was = old[i]
        taken_old.add(i)
        carried.add(target.id)
        if not was.hand:
            moves.append((was.box, (target.x1, target.y1, target.x2, target.y2)))
        session.merge(FaceMove(old_id=was.face, new_id=target.id))  # undo of an older correction follows
        give(session, target, was.person, was.pinned, was.ignored, was.rejected, persons)
        if was.face in kept:  # the detector finds it now: its face takes the hand face's place
            gone.append(was.face)
    if before.cropped:
        hand = [w.face for i, w in enumerate(old) if i not in taken_old and w.face in kept]
        if hand:
            gone += _follow_crop(session, photo_id, hand, _offset(moves))
            outbox.mark(session, outbox.SIDECAR, [photo_id])  # the regions moved
    dropped = set(gone)
    if gone:
        session.execute(delete(Face).where(Face.id.in_(gone)))
        outbox.mark(session, outbox.VECTOR, gone)
    if carried:
        session.flush()
        outbox.mark(session, outbox.PAYLOAD, sorted(carried))
        outbox.mark(session, outbox.ALBUMS)
        outbox.mark(session, outbox.SIDECAR, [photo_id])
    lost = sum(1 for i, w in enumerate(old) if i not in taken_old and (w.face not in kept or w.face in dropped))
    return carried, lost
