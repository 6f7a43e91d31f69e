"""Operations on names in other programs' files (i20): the names written into the photos' XMP
for digiKam, Lightroom, Immich and PhotoPrism, and a library's people carried to another one
in a file. Reading the names is the indexer's (its metadata stage) and the catch-up's (they
become corrections); see clusterids/xmp/."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .operations import operation
from .results import PeopleExported, PeopleImported, XmpWritten

if TYPE_CHECKING:
    from . import Core


class MetadataController:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.lib = core.lib

    @operation()
    def write_xmp(self, paths: list[str] | None = None, embed: bool = False) -> XmpWritten:
        """Write the names of the faces in PATHS (none: every photo with a named face) as MWG
        regions and People tags into each photo's XMP sidecar, merged with what other programs
        wrote there (EMBED: into the photos themselves, through exiftool, which keeps each
        original)."""
        from ..xmp import export

        done = export.sync(self.lib, export.photos_under(self.lib, list(paths or [])), embed=embed)
        return XmpWritten(written=done.written, unchanged=done.unchanged, skipped=done.skipped,
                          problems=done.problems)

    @operation(reads_only=True)
    def export_people(self, file: str) -> PeopleExported:
        """Write every person (name, hidden, cover) and every corrected face (by photo content and
        box) to FILE, JSON, for 'people import' in another library."""
        from .portable import export

        return export(self.lib, file)

    @operation()
    def import_people(self, file: str) -> PeopleImported:
        """Apply FILE (from 'people export') here as corrections, finding faces by photo content
        and box overlap; says what it could not find."""
        from .portable import import_file

        return import_file(self.lib, file)
