"""What the library keeps of a photo's XMP (the ``photos.xmp`` JSON column), and which of it
is still to be applied. The store keeps it (store/photos.py ``xmp_state``, the rule of a read).

``regions``: [name, kind, x1, y1, x2, y2] as read (normalised, stored pixels); ``people``: the
names of its People tags; ``applied``: the keys of the names already made corrections (a
re-read applies only what changed, so a correction made here since is not undone by an
unchanged sidecar); ``ours`` and ``tags``: the regions and tags we wrote, to recognise them.
"""

from __future__ import annotations

from typing import Any

from ..store.photos import XmpSeen, xmp_state
from .orient import Box
from .regions import Metadata, Region

State = dict[str, Any]


def region_key(name: str, box: Box) -> str:
    return "r:" + name.lower() + ":" + ",".join(f"{v:.3f}" for v in box)


def tag_key(name: str) -> str:
    return "t:" + name.lower()


def regions(state: State | None) -> list[Region]:
    return [Region((x1, y1, x2, y2), name, kind, "stored")
            for name, kind, x1, y1, x2, y2 in (state or {}).get("regions") or []]


def named(state: State | None) -> list[Region]:
    return [r for r in regions(state) if r.name and r.kind.lower() == "face"]


def keys(state: State | None) -> set[str]:
    """Every name the state asks for: its named face regions, and its People tags."""
    out = {region_key(r.name or "", r.box) for r in named(state)}
    return out | {tag_key(n) for n in (state or {}).get("people") or []}


def pending(state: State | None) -> bool:
    return bool(keys(state) - set((state or {}).get("applied") or []))


def said(meta: Metadata | None) -> State:
    """What ``meta`` says that the library keeps: its regions and its People tags, each kind only
    where the XMP has one (an absent kind drops what was read before)."""
    out: State = {}
    if meta is not None and meta.regions is not None:
        out["regions"] = [[r.name, r.kind, *(round(v, 6) for v in r.box)] for r in meta.regions]
    if meta is not None and meta.people is not None:
        out["people"] = meta.people
    return out


def seen(meta: Metadata | None) -> XmpSeen:
    """``meta`` as the indexer hands it to the store: what it says, and the names it gives."""
    kept = said(meta)
    return XmpSeen(kept, frozenset(keys(kept)))


def updated(old: State | None, meta: Metadata | None, faces_new: bool) -> State | None:
    """The state after reading ``meta``. ``faces_new``: the photo's faces were detected anew,
    so every name applies again (the old faces and their corrections are gone)."""
    return xmp_state(old, said(meta), faces_new)
