"""Carrying persons and corrections across a re-embedding (``reindex --model X``).

A new pack makes new faces (new ids, slightly different boxes). Each old face that belonged
to a person, was pinned or rejected from someone hands that over to the new face of the same
photo whose box overlaps it most (intersection over union at least 0.5), so names, albums
and corrections survive a change of model.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from ..store import mirror, reads, writes
from ..store.library import Library

MIN_IOU = 0.5


@dataclass
class OldFace:
    box: tuple[float, float, float, float]
    person: int | None
    pinned: bool
    rejected: list[int] = field(default_factory=list)


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def remember(lib: Library) -> dict[str, list[OldFace]]:
    """Per photo path: its faces that carry something (a person, a pin, a rejection)."""
    out: dict[str, list[OldFace]] = defaultdict(list)
    with lib.session() as s:
        rejected: dict[int, list[int]] = defaultdict(list)
        for fid, pid in reads.rejections(s):
            rejected[fid].append(pid)
        for fid, x1, y1, x2, y2, person, pinned, path in reads.faces_with_boxes(s):
            if person is not None or pinned or fid in rejected:
                out[path].append(OldFace((x1, y1, x2, y2), person, bool(pinned), rejected.get(fid, [])))
    return out


def restore(lib: Library, old: dict[str, list[OldFace]]) -> int:
    """Hand each remembered face's person, pin and rejections to its new face; returns how many."""
    carried = 0
    moved: dict[int, list[int]] = defaultdict(list)
    with lib.session() as s, s.begin():
        persons = reads.person_ids(s)
        for path, faces in old.items():
            photo = reads.photo_by_path(s, path)
            if photo is None:
                continue
            new = list(photo.faces)
            for f in faces:
                scored = [(iou(f.box, (n.x1, n.y1, n.x2, n.y2)), n) for n in new]
                overlap, best = max(scored, key=lambda t: t[0], default=(0.0, None))
                if best is None or overlap < MIN_IOU:
                    continue
                if f.person in persons:
                    best.person_id, best.pinned = f.person, f.pinned
                    moved[f.person].append(best.id)
                for pid in f.rejected:
                    if pid in persons:
                        writes.add_rejection(s, best.id, pid)
                new.remove(best)
                carried += 1
        mirror.mark(s)
    mirror.set_persons(lib, moved)
    return carried
