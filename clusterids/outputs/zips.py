"""Albums as a zip, streamed file by file (the page's downloads)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

from ..errors import NotFound
from ..media.imaging import open_regular
from ..store.library import Library
from .albums import desired


class _Sink(io.RawIOBase):
    """A write-only stream whose bytes are handed out as they come (zip streaming)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.parts.append(bytes(b))
        return len(b)

    def take(self) -> bytes:
        out = b"".join(self.parts)
        self.parts.clear()
        return out


def album_zip(lib: Library, person: int | None) -> Iterator[bytes]:
    """A zip of one person's album (or all albums), a folder per person, streamed file by file."""
    albums = [a for a in desired(lib) if person is None or a.person == person]
    if person is not None and not albums:
        raise NotFound(f"no album for person {person}", "the person may be hidden or have no photos")

    def chunks() -> Iterator[bytes]:
        sink = _Sink()
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as zf:
            for album in albums:
                for entry, original in album.entries.items():
                    try:
                        # a regular file only: a FIFO swapped in for a photo must not block the zip (i22)
                        with open_regular(str(original)) as src, zf.open(f"{album.folder}/{entry}", "w",
                                                                   force_zip64=True) as dst:
                            while block := src.read(1 << 20):
                                dst.write(block)
                                yield sink.take()
                    except OSError:
                        continue  # a photo that vanished or is no file now: the rest of the zip goes on
                    yield sink.take()
        yield sink.take()

    return chunks()
