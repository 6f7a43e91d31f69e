"""Our names written into XMP: MWG regions of the named faces, digiKam's ``People/Name`` tags
and Lightroom's ``People|Name``, merged into what is there.

Merged, not replaced: every property another program wrote stays. Regions we wrote last time
(recorded in the library) are rewritten; another program's region over a face we name takes
our name and our box (the user's correction here is the newest word on that face; one region
a face, so no reader sees it twice) and is ours from then on, its other fields kept; every
other region stays as it is. Sidecars are written atomically (a temporary file,
then a rename); the photo itself only through exiftool (``--embed``), which keeps a backup.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Any

from ..errors import UserError
from . import orient, packet
from .orient import Box

LIST = "Regions/mwg-rs:RegionList"
SAME = 1e-4  # a region we wrote, read back: equal within the decimals we write
DECIMALS = 6
OWN_IOU = 0.5  # another program's region over one of our faces is that face's


@dataclass(frozen=True)
class Named:
    name: str
    box: Box  # normalised, in the stored pixels


@dataclass
class Merged:
    text: str
    ours: list[Named]  # the regions that are ours now (to recognise them next time)
    tags: list[str]  # the People tags we added
    renamed: int  # regions of other programs given our name


def _regions(meta: Any) -> list[tuple[int, Box | None, str | None]]:
    """(index, stored box or None when it is no area, name) of each MWG region."""
    out = []
    for i in range(1, packet.count(meta, "mwg-rs", LIST) + 1):
        vals = []
        for k in "xywh":
            raw = packet.get(meta, "mwg-rs", f"{LIST}[{i}]/mwg-rs:Area/stArea:{k}")
            try:
                vals.append(float(raw) if raw is not None else None)
            except ValueError:
                vals.append(None)
        box = None
        if None not in vals:
            x, y, w, h = (float(v) for v in vals if v is not None)
            box = (x - w / 2, y - h / 2, x + w / 2, y + h / 2) if w > 0 and h > 0 else None
        out.append((i, box, packet.get(meta, "mwg-rs", f"{LIST}[{i}]/mwg-rs:Name")))
    return out


def _is_ours(box: Box | None, name: str | None, ours: list[Named]) -> bool:
    return box is not None and any(o.name == name and all(abs(a - b) < SAME for a, b in zip(o.box, box, strict=True))
                                   for o in ours)


def _set_area(meta: Any, item: str, box: Box) -> None:
    uri = packet.NS["mwg-rs"]
    x, y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    for key, value in (("x", x), ("y", y), ("w", box[2] - box[0]), ("h", box[3] - box[1])):
        meta.set_property(uri, f"{item}/mwg-rs:Area/stArea:{key}", f"{value:.{DECIMALS}f}")
    meta.set_property(uri, f"{item}/mwg-rs:Area/stArea:unit", "normalized")


def _rounded(box: Box) -> Box:
    x, y = round((box[0] + box[2]) / 2, DECIMALS), round((box[1] + box[3]) / 2, DECIMALS)
    w, h = round(box[2] - box[0], DECIMALS), round(box[3] - box[1], DECIMALS)
    return (x - w / 2, y - h / 2, x + w / 2, y + h / 2)


def _tags(meta: Any, names: list[str], before: list[str]) -> list[str]:
    """People tags: ours that no longer name anyone go, missing ones are added; the rest stay."""
    added: list[str] = []
    wanted = {n.lower(): n for n in names}
    for ns, path, sep in (("digiKam", "digiKam:TagsList", "/"), ("lr", "lr:hierarchicalSubject", "|")):
        uri = packet.NS[ns]
        present: dict[str, int] = {}
        for i in range(packet.count(meta, ns, path), 0, -1):
            value = packet.get(meta, ns, f"{path}[{i}]") or ""
            head, _, name = value.partition(sep)
            if head.lower() != "people" or not name:
                continue
            if name in before and name.lower() not in wanted:
                meta.delete_property(uri, f"{path}[{i}]")
            else:
                present[name.lower()] = i
        ordered = ns == "digiKam"  # digiKam's TagsList is a Seq, Lightroom's subjects a Bag
        for key, name in wanted.items():
            if key not in present:
                meta.append_array_item(uri, path, f"People{sep}{name}",
                                       {"prop_value_is_array": True, "prop_array_is_ordered": ordered})
                added.append(name)
    return sorted(set(added) | {n for n in before if n.lower() in wanted})


def merge(meta: Any, faces: list[Named], stored: tuple[int, int], ours: list[Named],
          tags_before: list[str]) -> Merged:
    """Lay our named faces over ``meta`` (changed in place); the sidecar's new text."""
    uri = packet.NS["mwg-rs"]
    for i, box, name in reversed(_regions(meta)):
        if _is_ours(box, name, ours):
            meta.delete_property(uri, f"{LIST}[{i}]")
    now: list[Named] = []
    renamed = 0
    taken: set[int] = set()
    left = list(range(len(faces)))
    for i, box, name in _regions(meta):
        if box is None:
            continue
        best = max(left, key=lambda j: orient.iou(box, faces[j].box), default=None)
        if best is None or orient.iou(box, faces[best].box) < OWN_IOU or best in taken:
            continue
        taken.add(best)
        left.remove(best)
        mine = faces[best].name
        if (name or "").lower() != mine.lower():
            meta.set_property(uri, f"{LIST}[{i}]/mwg-rs:Name", mine)
            renamed += 1
        else:
            mine = name or mine  # their spelling of the same name stays
        if packet.get(meta, "mwg-rs", f"{LIST}[{i}]/mwg-rs:Type") is None:
            meta.set_property(uri, f"{LIST}[{i}]/mwg-rs:Type", "Face")
        _set_area(meta, f"{LIST}[{i}]", faces[best].box)  # the face's box as it is here
        now.append(Named(mine, _rounded(faces[best].box)))
    for j in left:
        face = faces[j]
        meta.append_array_item(uri, LIST, None, {"prop_value_is_array": True}, prop_value_is_struct=True)
        item = f"{LIST}[{packet.count(meta, 'mwg-rs', LIST)}]"
        meta.set_property(uri, f"{item}/mwg-rs:Name", face.name)
        meta.set_property(uri, f"{item}/mwg-rs:Type", "Face")
        _set_area(meta, item, face.box)
        now.append(Named(face.name, _rounded(face.box)))
    if packet.count(meta, "mwg-rs", LIST) or faces:
        for key, value in (("w", str(stored[0])), ("h", str(stored[1])), ("unit", "pixel")):
            meta.set_property(uri, f"Regions/mwg-rs:AppliedToDimensions/stDim:{key}", value)
    tags = _tags(meta, [f.name for f in faces], tags_before)
    return Merged(packet.serialise(meta), now, tags, renamed)


def write_atomic(path: str, text: str) -> None:
    """Replace ``path`` by ``text`` at once: a reader sees the old file or the new one, whole. A
    sidecar that is a link (to a folder of sidecars kept elsewhere) stays a link: its target is
    what is replaced."""
    if os.path.islink(path) and os.path.exists(path):
        path = os.path.realpath(path)
    folder = os.path.dirname(path) or "."
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if os.path.exists(path):
            shutil.copymode(path, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def exiftool() -> str:
    found = shutil.which("exiftool")
    if found is None:
        raise UserError("exiftool is missing, so names cannot be written into the photos themselves",
                        "install it (apt-get install libimage-exiftool-perl), or write sidecars (without --embed)")
    return found


def embed(photo: str, text: str) -> None:
    """Write the XMP into the photo itself through exiftool, which keeps the original beside it
    (``photo_original``, left as it is when one is there already)."""
    tool = exiftool()
    with tempfile.NamedTemporaryFile("w", suffix=".xmp", encoding="utf-8", delete=False) as fh:
        fh.write(text)
        source = fh.name
    try:
        backup = photo + "_original"
        args = [tool, "-q", "-q", "-m", f"-xmp<={source}", photo]
        if os.path.exists(backup):  # the first original is the one worth keeping
            args.insert(1, "-overwrite_original")
        done = subprocess.run(args, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            reason = (done.stderr or done.stdout).strip().splitlines()
            raise UserError(f"exiftool could not write into {photo}: {reason[0] if reason else done.returncode}",
                            "check the file, or write sidecars instead (without --embed)")
    finally:
        os.unlink(source)
