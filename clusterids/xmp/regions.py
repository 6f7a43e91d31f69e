"""What a photo's XMP says about its people: face regions (MWG, Microsoft Photo, ACDSee),
``People/`` tags (digiKam's TagsList, Lightroom's hierarchicalSubject) and, in a sidecar, the
orientation. Read from the photo's own packet and from its sidecar; where both carry a kind
of it, the sidecar's wins (as digiKam does)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from . import orient, packet
from .orient import Box

# digiKam's own tags under People/: not names of anyone
NOT_NAMES = frozenset({"unknown", "unconfirmed", "ignored"})


@dataclass(frozen=True)
class Region:
    box: Box  # normalised, in the stored pixels (before the orientation)
    name: str | None  # None: an unnamed region (a hint only)
    kind: str  # "Face", "Pet", "Focus", ... ("Face" when the program wrote none)
    schema: str  # "mwg", "mp" or "acdsee"


@dataclass(frozen=True)
class Metadata:
    regions: list[Region] | None = None  # None: no region list at all
    people: list[str] | None = None  # names from People/ tags; None: no such tags
    orientation: int | None = None  # tiff:Orientation (a sidecar's is applied to the photo)
    applied_to: tuple[float, float] | None = None  # MWG AppliedToDimensions (w, h), stored pixels
    where: str = ""  # "photo", "sidecar" or "photo+sidecar"
    problems: list[str] = field(default_factory=list)

    @property
    def named(self) -> list[Region]:
        return [r for r in self.regions or [] if r.name and r.kind.lower() == "face"]

    @property
    def empty(self) -> bool:
        return not self.regions and not self.people and self.orientation is None


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _centred(x: float | None, y: float | None, w: float | None, h: float | None) -> Box | None:
    if x is None or y is None or w is None or h is None or w <= 0 or h <= 0:
        return None  # a point or a circle marks no face
    return orient.clip((x - w / 2, y - h / 2, x + w / 2, y + h / 2))


def _name(value: str | None) -> str | None:
    text = " ".join((value or "").split())
    return text or None


def _mwg_like(meta: Any, ns: str, area: str, area_ns: str, dim_ns: str, schema: str) -> list[Region]:
    """MWG regions, or ACDSee's of the same shape (centre-based, normalised)."""
    base = "Regions/" + ns + ":RegionList"
    out: list[Region] = []
    dims = (_float(packet.get(meta, ns, f"Regions/{ns}:AppliedToDimensions/{dim_ns}:w")),
            _float(packet.get(meta, ns, f"Regions/{ns}:AppliedToDimensions/{dim_ns}:h")))
    for i in range(1, packet.count(meta, ns, base) + 1):
        item = f"{base}[{i}]"
        values = [_float(packet.get(meta, ns, f"{item}/{ns}:{area}/{area_ns}:{k}")) for k in "xywh"]
        unit = (packet.get(meta, ns, f"{item}/{ns}:{area}/{area_ns}:unit") or "normalized").lower()
        dw, dh = dims
        if unit == "pixel" and dw and dh:  # not the standard's, but written in the wild
            values = [v / d if v is not None else None for v, d in zip(values, (dw, dh, dw, dh), strict=True)]
        box = _centred(*values)
        if box is None:
            continue
        kind = packet.get(meta, ns, f"{item}/{ns}:Type") or "Face"
        out.append(Region(box, _name(packet.get(meta, ns, f"{item}/{ns}:Name")), kind, schema))
    return out


def _microsoft(meta: Any) -> list[Region]:
    """Microsoft Photo regions: ``MPReg:Rectangle`` "x, y, w, h" from the top left, normalised."""
    base = "MP:RegionInfo/MPRI:Regions"
    out: list[Region] = []
    for i in range(1, packet.count(meta, "MP", base) + 1):
        rect = packet.get(meta, "MP", f"{base}[{i}]/MPReg:Rectangle") or ""
        parts = [_float(p) for p in rect.split(",")]
        if len(parts) != 4 or any(p is None for p in parts):
            continue
        x, y, w, h = (float(p) for p in parts if p is not None)
        box = orient.clip((x, y, x + w, y + h)) if w > 0 and h > 0 else None
        if box is None:
            continue
        name = _name(packet.get(meta, "MP", f"{base}[{i}]/MPReg:PersonDisplayName"))
        out.append(Region(box, name, "Face", "mp"))
    return out


def _people(meta: Any) -> list[str] | None:
    """Names under People/ (digiKam) or People| (Lightroom); digiKam's system tags left out."""
    found: list[str] | None = None
    for ns, path, sep in (("digiKam", "digiKam:TagsList", "/"), ("lr", "lr:hierarchicalSubject", "|")):
        for i in range(1, packet.count(meta, ns, path) + 1):
            tag = packet.get(meta, ns, f"{path}[{i}]") or ""
            parts = [p.strip() for p in tag.split(sep)]
            found = [] if found is None else found
            if len(parts) >= 2 and parts[0].lower() == "people" and parts[-1] \
                    and parts[-1].lower() not in NOT_NAMES:
                found.append(parts[-1])
    if found is None:
        return None
    return list({n.lower(): n for n in found}.values())


def of(meta: Any, where: str) -> Metadata:
    """What one parsed packet says."""
    regions = None
    if packet.count(meta, "mwg-rs", "Regions/mwg-rs:RegionList") or packet.get(meta, "mwg-rs", "Regions") is not None:
        regions = _mwg_like(meta, "mwg-rs", "Area", "stArea", "stDim", "mwg")
    for extra in (_microsoft(meta), _mwg_like(meta, "acdsee-rs", "DLYArea", "acdsee-stArea", "acdsee-stDim",
                                              "acdsee")):
        if extra:
            regions = (regions or []) + [r for r in extra if not _duplicate(r, regions or [])]
    w = _float(packet.get(meta, "mwg-rs", "Regions/mwg-rs:AppliedToDimensions/stDim:w"))
    h = _float(packet.get(meta, "mwg-rs", "Regions/mwg-rs:AppliedToDimensions/stDim:h"))
    return Metadata(regions=regions, people=_people(meta), orientation=orient.valid(packet.get(meta, "tiff",
                    "tiff:Orientation")), applied_to=(w, h) if w and h else None, where=where)


def _duplicate(region: Region, others: list[Region]) -> bool:
    """digiKam writes each face twice, as MWG and as Microsoft regions: the MWG one is kept
    (it is the one we update, so after a rename here an old Microsoft name is not read back)."""
    return any(orient.iou(region.box, o.box) > 0.5 for o in others)


def merged(photo: Metadata | None, sidecar: Metadata | None) -> Metadata | None:
    """The photo's metadata with its sidecar's laid over it: each kind the sidecar carries wins."""
    if sidecar is None or photo is None:
        return sidecar or photo
    return replace(
        photo,
        regions=sidecar.regions if sidecar.regions is not None else photo.regions,
        applied_to=sidecar.applied_to if sidecar.regions is not None else photo.applied_to,
        people=sidecar.people if sidecar.people is not None else photo.people,
        orientation=sidecar.orientation,  # the photo's own is EXIF's, read by the decoder
        where="photo+sidecar",
        problems=photo.problems + sidecar.problems,
    )
