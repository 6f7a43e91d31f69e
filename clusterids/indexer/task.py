"""One photo's way through the indexer: a task that each stage fills in (beets' ImportTask)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..media.imaging import Decoded
from ..store.photos import NewFace, Seen
from ..xmp.regions import Metadata


@dataclass
class Task:
    seen: Seen  # the file as the scan (or a worker's stat) saw it
    known: bool = False  # the path is in the library already (a changed file)
    claim: int | None = None  # the queue row of a worker's claim
    local_path: str | None = None  # where this machine reads it (a worker's path_map), if not seen.path
    data: bytes | None = None
    sha256: str | None = None
    reuse: bool = False  # the content is known: no decode, no models
    sidecar_only: bool = False  # i20: the photo is as it was, its XMP sidecar is not: no hash, no models
    xmp: Metadata | None = None  # i20: what its XMP says of its people (xmp_read)
    orientation: int | None = None  # i20: a sidecar's orientation, replacing the photo's EXIF one
    exif_orientation: int = 1  # i20, sidecar only: the photo's own
    decoded: Decoded | None = None
    faces: list[NewFace] | None = None
    error: str | None = None

    @property
    def path(self) -> str:
        return self.seen.path

    @property
    def failed(self) -> bool:
        return self.error is not None


@dataclass
class Report:
    photos_new: int = 0
    photos_changed: int = 0
    photos_unchanged: int = 0
    photos_reused: int = 0
    photos_removed: int = 0
    photos_failed: int = 0
    photos_queued: int = 0  # left to 'clusterids worker' processes (index --enqueue)
    photos_sidecar: int = 0  # i20: only the XMP sidecar changed: its names read again, no models
    faces_added: int = 0
    seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)  # written too recently: maybe still being written
    warnings: list[tuple[str, str]] = field(default_factory=list)  # i20: read, with a problem (a damaged sidecar)

    @property
    def changed_anything(self) -> bool:
        return any(v for k, v in self.counts().items() if k != "photos_unchanged")

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if k.startswith(("photos_", "faces_"))}

    def failed(self, path: str, reason: str) -> None:
        self.photos_failed += 1
        self.failures.append((path, reason))

    def warn(self, path: str, reason: str) -> None:
        if all(reason != w for _, w in self.warnings):  # a missing library: one line a run
            self.warnings.append((path, reason))
