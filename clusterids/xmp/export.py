"""Our names written out, so digiKam, Lightroom, Immich and PhotoPrism show them.

For each photo: the MWG regions of its faces of named, shown persons (normalised to the
stored pixels, the orientation turned back; ``AppliedToDimensions`` = the stored pixels),
``People/Name`` in digiKam's TagsList and ``People|Name`` in Lightroom's hierarchicalSubject.
Into the photo's sidecar by default (``photo.jpg.xmp`` unless it has ``photo.xmp``), merged
with what is there (see write.py); into the photo itself only with ``embed``, through exiftool,
which keeps the original. A damaged sidecar is reported in one line and left alone. What we
wrote is recorded with the photo (its sidecar's signature too), so our own write is not read
back as a change and the daemon does not loop on it.

``clusterids xmp write`` calls :func:`sync`; so does the catch-up for the photos a correction
or a recluster touched (outbox SIDECAR) when ``xmp_write = "sidecar"``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..media.imaging import content_hash
from ..store import reads
from ..store import xmp as store_xmp
from ..store.library import Library
from ..store.rows import PhotoNames
from . import match, orient, packet, sidecars, write
from . import regions as xmp_regions
from . import state as xmp_state
from .names import orientation_of

CHUNK = 500


@dataclass
class Written:
    written: int = 0
    unchanged: int = 0
    skipped: int = 0
    problems: list[str] = field(default_factory=list)


def _faces(photo: PhotoNames, o: int, rows: list[reads.NamedFace]) -> list[write.Named]:
    w, h = float(photo.width or 1), float(photo.height or 1)
    out = []
    for _, x1, y1, x2, y2, name in rows:
        box = orient.clip(orient.to_stored(match.normalised((x1, y1, x2, y2), w, h), o))
        if box is not None:
            out.append(write.Named(name, box))
    return out


def _stored_size(photo: PhotoNames, o: int) -> tuple[int, int]:
    w, h = int(photo.width or 0), int(photo.height or 0)
    return (h, w) if orient.swaps(o) else (w, h)


def _base(photo: PhotoNames, embed: bool) -> tuple[Any, str | None, str | None]:
    """The XMP to merge into, the sidecar's path (None with ``embed``) and its text as it is."""
    if embed:
        with open(photo.path, "rb") as fh:
            found = packet.find_packet(fh.read())
        return (packet.parse(found) if found else packet.new()), None, None
    path = sidecars.find(photo.path) or photo.path + ".xmp"
    if not os.path.exists(path):
        return packet.new(), path, None
    with open(path, encoding="utf-8", errors="replace") as fh:
        text = fh.read()
    return packet.parse(text), path, text


def _one(lib: Library, photo: PhotoNames, rows: list[reads.NamedFace], embed: bool) -> str:
    """Write one photo's names: 'written', 'unchanged' or 'skipped'."""
    st = dict(photo.xmp or {})
    ours = [write.Named(n, (x1, y1, x2, y2)) for n, x1, y1, x2, y2 in st.get("ours") or []]
    if not rows and not ours and not st.get("tags"):
        return "skipped"  # nothing to say, nothing of ours to take back
    o = orientation_of(photo)
    faces = _faces(photo, o, rows)
    if not faces and not ours and not st.get("tags"):
        return "skipped"
    with packet.held():  # the toolkit's objects made, used and freed by this thread alone
        meta, path, before = _base(photo, embed)
        merged = write.merge(meta, faces, _stored_size(photo, o), ours, st.get("tags") or [])
        unchanged = (not embed and path is not None and before is not None
                     and packet.serialise(packet.parse(before)) == merged.text)
        del meta
    if unchanged:
        return "unchanged"
    if not embed and path is not None:
        write.write_atomic(path, merged.text)
    else:
        write.embed(photo.path, merged.text)
    read_back = packet.read(merged.text, lambda meta: xmp_regions.of(meta, "sidecar"))
    st = xmp_state.updated(st, read_back, faces_new=False) or {}
    st["ours"] = [[n.name, *n.box] for n in merged.ours]
    st["tags"] = merged.tags
    # ours, read back, are applied already: only another program's names stay to be applied
    mine = {xmp_state.region_key(n.name, n.box) for n in merged.ours} | {xmp_state.tag_key(t) for t in merged.tags}
    st["applied"] = sorted(set(st.get("applied") or []) | (mine & xmp_state.keys(st)))
    content = None
    if embed:  # the photo's bytes changed by our hand: not a change to index again
        stat = os.stat(photo.path)
        content = (stat.st_size, stat.st_mtime_ns, content_hash(Path(photo.path).read_bytes()))
    recorded = store_xmp.record_written(lib.db, photo.id, st, xmp_state.pending(st),
                                        sidecar_sig=sidecars.signature(path), content=content)
    return "written" if recorded else "skipped"


def sync(lib: Library, photo_ids: Iterable[int] | None = None, embed: bool = False) -> Written:
    """Write the names of these photos (None: every photo with a named face, or one we wrote to
    before) where they are out of step. A photo that cannot be written is one line in
    ``problems``; a missing Exempi (or exiftool, to ``embed``) is a UserError for the whole run."""
    with lib.db.read() as s:
        ids = sorted(set(photo_ids)) if photo_ids is not None else reads.photos_with_names(s)
    out = Written()
    if not ids:
        return out
    packet.exempi()  # missing: one line for the whole run
    if embed:
        write.exiftool()  # likewise
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        with lib.db.read() as s:
            photos = [p for p in reads.photo_names(s, chunk) if p.status == "ok"]
            rows: dict[int, list[reads.NamedFace]] = {}
            for row in reads.named_faces(s, chunk):
                rows.setdefault(row[0], []).append(row)
        for photo in photos:
            try:
                done = _one(lib, photo, rows.get(photo.id, []), embed)
            except packet.Damaged as exc:
                where = photo.path if embed else (sidecars.find(photo.path) or photo.path)
                out.problems.append(f"{where} is damaged ({exc}): left as it is; fix or remove it")
                continue
            except UserError as exc:
                out.problems.append(str(exc))
                continue
            except OSError as exc:
                out.problems.append(f"cannot write beside {photo.path}: {exc.strerror or exc}")
                continue
            setattr(out, done, getattr(out, done) + 1)
    return out


def photos_under(lib: Library, paths: list[str]) -> list[int] | None:
    """``xmp write PATH...``: the photos at or under ``paths`` (none given: None, every photo)."""
    if not paths:
        return None
    with lib.db.read() as s:
        return [row[0] for row in reads.photos_under(s, [os.path.abspath(p) for p in paths])]
