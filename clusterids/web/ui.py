"""What the web page reads beyond the CLI's operations: pages of people, a person's faces and
photos by date, a photo with its face boxes, what became of uploads. Thumbnails, uploads and
zips are media (see clusterids/media)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import NotFound, UserError
from ..media.inbox import inbox
from ..queries import people
from ..store import reads
from ..store.library import Library

SORTS = ("photos", "name", "newest")


def people_page(lib: Library, include_hidden: bool = False, offset: int = 0, limit: int = 200,
                sort: str = "photos", q: str = "", unnamed: bool = True) -> dict[str, Any]:
    """A page of persons with a cover face each, sorted and filtered, and the count of unknown faces."""
    if sort not in SORTS:
        raise UserError(f"cannot sort people by {sort!r}", f"sort by one of: {', '.join(SORTS)}")
    rows = people(lib, include_hidden, include_empty=False, covers=True)
    needle = q.strip().casefold()
    if needle:
        rows = [r for r in rows if needle in (r["name"] or f"Person_{r['id']}").casefold()]
    if not unnamed:
        rows = [r for r in rows if r["name"]]
    if sort == "name":  # named first, alphabetically; then the unnamed by id
        rows.sort(key=lambda r: (r["name"] is None, (r["name"] or "").casefold(), r["id"]))
    elif sort == "newest":
        rows.sort(key=lambda r: (r["newest"] or "", r["id"]), reverse=True)
    with lib.session() as s:
        unknown = reads.unknown_face_count(s)
    return {"total": len(rows), "unknown": unknown, "people": rows[offset : offset + limit]}


def person_page(lib: Library, person: int | None, offset: int = 0, limit: int = 300) -> dict[str, Any]:
    """A person's faces and photos, the photos by date taken (``person`` None: the unknown faces)."""
    with lib.session() as s:
        if person is None:
            info: dict[str, Any] = {"id": None, "name": "Unknown faces", "hidden": False}
        else:
            p = reads.get_person(s, person)
            if p is None or p.merged_into is not None:
                raise NotFound(f"there is no person {person}", "go back to the people page")
            info = {"id": p.id, "name": p.name, "hidden": p.hidden, "cover": p.cover_face_id}
        faces = reads.person_face_rows(s, person)
        photo_ids = sorted({f[1] for f in faces})
        dated = sorted(((t or "", pid) for pid, t in reads.photo_dates(s, photo_ids[: 20 * limit])), reverse=True)
    return {**info, "total_faces": len(faces), "has_album": person is not None and not info["hidden"],
            "faces": [{"id": f[0], "photo": f[1], "det_score": f[2]} for f in faces[offset : offset + limit]],
            "total_photos": len(photo_ids),
            "photos": [{"id": pid, "taken": t or None} for t, pid in dated[:limit]]}


def photo_view(lib: Library, photo_id: int) -> dict[str, Any]:
    """A photo with every face box (in the stored pixels' frame) and its person's name."""
    with lib.session() as s:
        photo = reads.get_photo(s, photo_id)
        if photo is None or photo.status != "ok":
            raise NotFound(f"there is no photo {photo_id}", "go back to the people page")
        names = reads.names_in_photo(s, photo_id)
        faces = [{"id": f.id, "bbox": f.bbox, "person": f.person_id,
                  "name": (names.get(f.person_id) or f"Person_{f.person_id}") if f.person_id else None}
                 for f in sorted(photo.faces, key=lambda f: f.x1)]
        return {"id": photo.id, "name": Path(photo.path).name, "taken": photo.taken_at,
                "width": photo.width, "height": photo.height, "faces": faces}


def upload_states(lib: Library, names: list[str]) -> list[dict[str, Any]]:
    """What became of uploaded files (inbox names): waiting, indexed with N faces, or failed and why."""
    folder = inbox(lib)
    out: list[dict[str, Any]] = []
    with lib.session() as s:
        for name in names:
            path = folder / os.path.basename(name)
            photo = reads.photo_by_path(s, str(path))
            if photo is None:
                out.append({"name": path.name, "state": "waiting"})
            elif photo.status != "ok":
                out.append({"name": path.name, "state": "failed", "reason": photo.error})
            else:
                out.append({"name": path.name, "state": "ok", "faces": len(photo.faces)})
    return out


