"""What the metadata stage reads: the photo's XMP (its own packet, from the bytes already read,
and its sidecar) for the names other programs gave its faces, and the orientation a sidecar
gives it (i20). The stage itself is ``stages.metadata``."""

from __future__ import annotations

from ..config import Settings
from ..errors import UserError
from ..xmp import orient
from ..xmp.regions import Metadata
from ..xmp.sidecars import read


def read_metadata(settings: Settings, data: bytes, sidecar: str | None) -> tuple[Metadata | None, int | None]:
    """The photo's metadata (None: nothing of ours in it, or ``xmp_read`` is off) and the
    orientation a sidecar gives it (None: the photo's own EXIF one applies)."""
    if not settings.xmp_read:
        return None, None
    try:
        meta = read(data, sidecar)
    except UserError as exc:  # Exempi is missing: one line (the run reports each text once)
        return Metadata(problems=[str(exc)]), None
    if meta is None:
        return None, None
    return meta, orient.valid(meta.orientation)

