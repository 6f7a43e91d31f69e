"""XMP packets parsed by Exempi (the Adobe XMP Toolkit, through python-xmp-toolkit).

Exempi is a C library from the system (Debian's ``libexempi8``); without it nothing here
runs, and :func:`exempi` says so in one line. It parses every RDF form the programs write
(attributes, elements, ``parseType="Resource"``), maps whatever prefix a file uses to ours,
keeps every property it does not know on a rewrite, and serialises sidecars back.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from ..errors import UserError

NS = {
    "mwg-rs": "http://www.metadataworkinggroup.com/schemas/regions/",
    "stArea": "http://ns.adobe.com/xmp/sType/Area#",
    "stDim": "http://ns.adobe.com/xap/1.0/sType/Dimensions#",
    "MP": "http://ns.microsoft.com/photo/1.2/",
    "MPRI": "http://ns.microsoft.com/photo/1.2/t/RegionInfo#",
    "MPReg": "http://ns.microsoft.com/photo/1.2/t/Region#",
    "acdsee-rs": "http://ns.acdsee.com/regions/",
    "acdsee-stArea": "http://ns.acdsee.com/sType/Area#",
    "acdsee-stDim": "http://ns.acdsee.com/sType/Dimensions#",
    "digiKam": "http://www.digikam.org/ns/1.0/",
    "lr": "http://ns.adobe.com/lightroom/1.0/",
    "tiff": "http://ns.adobe.com/tiff/1.0/",
}
# A packet that names none of these holds nothing for us: it is not parsed at all.
WANTED = tuple(NS[k].encode() for k in ("mwg-rs", "MP", "acdsee-rs", "digiKam", "lr"))
WANTED_IN_SIDECAR = (*WANTED, NS["tiff"].encode())
MISSING = ("XMP face regions are not read or written: the Exempi library is missing",
           "install it (apt-get install libexempi8), or set xmp_read = false")

# Every use of the toolkit, from an XMPMeta's making to its freeing (namespaces registered once
# included), one thread at a time: the Adobe XMP toolkit keeps process-global state (the
# namespace table, its string pools) and is not thread-safe, while the indexer's photo threads
# read XMP side by side and the catch-up writes sidecars (ansel and exiv2 crashed so; see held()).
_lock = threading.RLock()


T = TypeVar("T")


class Damaged(Exception):
    """The XMP cannot be parsed; the message is one line."""


def _toolkit() -> Any:
    with _lock:  # the first calls may come from two photo threads at once
        return _registered()


@functools.cache
def _registered() -> Any:
    logging.getLogger("libxmp").setLevel(logging.CRITICAL)  # it logs each failure we report ourselves
    try:
        import libxmp
        from libxmp import XMPMeta
    except Exception as exc:  # ExempiLoadError, or an OSError from ctypes
        raise UserError(*MISSING) from exc
    for prefix, uri in NS.items():
        XMPMeta.register_namespace(uri, prefix)
    return libxmp


def exempi() -> Any:
    """The libxmp module, namespaces registered; a UserError naming the fix when it is missing."""
    return _toolkit()


def available() -> bool:
    try:
        exempi()
    except UserError:
        return False
    return True


def find_packet(data: bytes) -> bytes | None:
    """The XMP packet held in a photo's bytes (JPEG APP1, PNG iTXt, TIFF, WebP, HEIC keep it as
    plain text), or None; a memory search, so a photo without one costs next to nothing."""
    start = data.find(b"<x:xmpmeta")
    end_tag = b"</x:xmpmeta>"
    if start < 0:
        start, end_tag = data.find(b"<rdf:RDF"), b"</rdf:RDF>"
        if start < 0:
            return None
    end = data.find(end_tag, start)
    return data[start : end + len(end_tag)] if end > 0 else None


def wanted(packet: bytes, sidecar: bool = False) -> bool:
    """Whether the packet names a schema we read (regions, people tags; a sidecar's orientation)."""
    return any(uri in packet for uri in (WANTED_IN_SIDECAR if sidecar else WANTED))


@contextmanager
def held() -> Iterator[None]:
    """The toolkit to this thread alone (re-entrant): hold it from the making of an XMPMeta to
    its last use, and let the XMPMeta go (``del``) before leaving, so that it is freed inside."""
    with _lock:
        yield


def read(text: bytes | str, fn: Callable[[Any], T]) -> T:
    """``fn`` of the packet's XMPMeta, parsed, read and freed in one hold of the toolkit;
    ``Damaged`` when it is not XMP. ``fn`` must return plain data, no part of the XMPMeta."""
    with _lock:
        meta = parse(text)
        try:
            return fn(meta)
        finally:
            del meta


def parse(text: bytes | str) -> Any:
    """An XMPMeta of the packet; ``Damaged`` when it is not XMP. Outside ``held()`` or
    ``read()``, it would be used and freed with the toolkit unheld."""
    raw = _unicode(text) if isinstance(text, bytes) else text
    bad = _not_xml(raw) if raw.strip() else None  # nothing yet: an empty XMPMeta
    if bad:  # the toolkit would print its own bare line to the process's stderr
        raise Damaged(f"not valid XMP ({bad})")
    with _lock:
        libxmp = exempi()
        meta = libxmp.XMPMeta()
        try:
            meta.parse_from_str(raw, xmpmeta_wrap=not raw.lstrip().startswith(("<x:xmpmeta", "<?xpacket")))
        except libxmp.XMPError as exc:
            error = str(exc)
            del meta  # freed here, not where the traceback is dropped
        else:
            return meta
    raise Damaged(f"not valid XMP ({error})")


_DECLARATION = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["'][^>]*\?>""")


def _unicode(data: bytes) -> str:
    """The packet as text, in the encoding its XML declaration names (a Latin-1 sidecar is valid
    XML: the toolkit takes UTF-8 only, so it gets the text without that declaration)."""
    declared = _DECLARATION.match(data)
    if declared is None:
        return data.decode("utf-8", "replace")
    try:
        return data[declared.end():].decode(declared.group(1).decode("ascii"), "replace")
    except LookupError:  # an encoding Python does not know: as UTF-8, and the parsers say what is wrong
        return data.decode("utf-8", "replace")


def _not_xml(raw: str) -> str | None:
    """Why the packet is not well-formed XML (or holds a DTD, which XMP never does: entities are
    how a hostile file makes a parser's memory explode); None when it is well-formed."""
    import xml.parsers.expat

    def refuse(*_: object) -> None:
        raise ValueError("a DTD, which XMP never holds")

    parser = xml.parsers.expat.ParserCreate()
    parser.StartDoctypeDeclHandler = refuse
    try:
        parser.Parse(raw, True)
    except xml.parsers.expat.ExpatError as exc:
        return f"bad XML: {xml.parsers.expat.ErrorString(exc.code)}, line {exc.lineno}"
    except ValueError as exc:
        return str(exc)
    return None


def serialise(meta: Any) -> str:
    """A sidecar's text: the XMP without a packet wrapper or padding."""
    with _lock:
        text: str = meta.serialize_to_unicode(omit_packet_wrapper=True)
    return text


def new() -> Any:
    with _lock:
        return exempi().XMPMeta()


def get(meta: Any, ns: str, path: str) -> str | None:
    """A property's value, None when absent."""
    uri = NS[ns]
    if not meta.does_property_exist(uri, path):
        return None
    value = meta.get_property(uri, path)
    return None if value is None else str(value)


def count(meta: Any, ns: str, path: str) -> int:
    uri = NS[ns]
    if not meta.does_property_exist(uri, path):
        return 0
    return int(meta.count_array_items(uri, path))
