"""Carrying persons and corrections across a re-embedding (``reindex --model X``).

A new pack makes new faces (new ids, slightly different boxes). What the old faces carried is
kept in the database in the transaction that forgets them, and handed over by each index run
until every photo was read again: a reindex cut short by a crash loses nothing. Each old face that belonged
to a person, was pinned, rejected from someone or ignored hands that over to the new face of the same
photo whose box overlaps it most (intersection over union at least 0.5), so names, albums
and corrections survive a change of model. A face the user marked by hand that no new face
overlaps is embedded again from its box by the new pack first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from ..store import grouping, reads
from ..store.grouping import Carried
from ..store.library import Library
from ..store.rows import box_iou

MIN_IOU = 0.5
Box = tuple[float, float, float, float]


iou = box_iou  # the store's: a replay of the journal finds faces by their boxes too


def best_match(box: Box, candidates: Sequence[Box], min_iou: float = MIN_IOU) -> int | None:
    """The candidate overlapping ``box`` most, if by at least ``min_iou``."""
    scored = [(iou(box, c), i) for i, c in enumerate(candidates)]
    overlap, i = max(scored, default=(0.0, -1))
    return i if i >= 0 and overlap >= min_iou else None


def remember(lib: Library) -> dict[str, list[Carried]]:
    """Per photo path: its faces that carry something (a person, a pin, a rejection, being ignored)."""
    out: dict[str, list[Carried]] = defaultdict(list)
    with lib.db.read() as s:
        rejected: dict[int, list[int]] = defaultdict(list)
        for fid, pid in reads.rejections(s):
            rejected[fid].append(pid)
        for fid, x1, y1, x2, y2, person, pinned, path, ignored, origin in reads.faces_with_boxes(s):
            hand = origin == "hand"
            if person is not None or pinned or fid in rejected or ignored is not None or hand:
                out[path].append(Carried((x1, y1, x2, y2), person, bool(pinned), tuple(rejected.get(fid, ())),
                                         ignored, hand, fid))
    return out


def restore(lib: Library, old: dict[str, list[Carried]]) -> int:
    """Hand each remembered face's person, pin and rejections to its new face; returns how many."""
    _mark_again(lib, old)
    return grouping.carry_over(lib.db, old, best_match)


def pending(lib: Library) -> dict[str, list[Carried]]:
    """What a change of model pack still has to hand over (kept in the database when it began)."""
    return grouping.pending_carry(lib.db)


def finish(lib: Library) -> int:
    """After an index run: hand over what a change of model pack left pending, for the photos
    read again by now (a reindex that a crash cut short goes on with the next run)."""
    left = pending(lib)
    return restore(lib, left) if left else 0


def _mark_again(lib: Library, old: dict[str, list[Carried]]) -> None:
    """The faces marked by hand that the new pack did not find, embedded again from their boxes;
    a photo that cannot be read now keeps its person's other faces, and loses only those."""
    from ..store.photos import add_faces
    from ..xmp.embed import region_faces
    from ..xmp.names import decoded_now

    for path, faces in old.items():
        hand = [f for f in faces if f.hand]
        if not hand:
            continue
        with lib.db.read() as s:
            photo = reads.photo_at(s, path)
            found = [(f.x1, f.y1, f.x2, f.y2) for f in reads.faces(s, photo_id=photo.id)] if photo is not None else []
        missed = [f.box for f in hand if best_match(f.box, found) is None]
        if photo is None or photo.status != "ok" or not missed:
            continue
        decoded = decoded_now(lib, photo)
        if isinstance(decoded, str):
            continue
        add_faces(lib.db, photo.id, region_faces(lib.model(), lib.settings, decoded, missed, origin="hand"))
