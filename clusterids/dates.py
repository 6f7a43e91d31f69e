"""When a photo was taken: from its EXIF date, else its XMP sidecar's, else a date in its file
name (the names cameras and phones give: ``IMG_20190812_153012``, ``2019-08-12 15.30.12``,
``PXL_...``, ``Screenshot_...``, ``WhatsApp Image ... at ...``), else the file's modification
time, which is then marked as estimated.

Dates are stored as ISO 8601 text without a zone, in the local time of the camera (EXIF and
file names carry no zone) or of the machine that indexed the photo (a modification time), and
with no time of day when the source had none (``2019-08-12``).

Pure functions on strings and numbers, below every other part: the indexer, the store's
migrations and the CLI use them alike.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import PurePath
from typing import NamedTuple

FIRST_YEAR = 1826  # the oldest photograph; an earlier year is a misread, not a date

# a date, its parts separated alike ("20190812", "2019-08-12", "2019_08_12", "2019.08.12"),
# then perhaps a time ("_153012", " 15.30.12", "-15-30-12", " at 15.30.12", "T153012",
# milliseconds after it as PXL_ names have), never inside a longer run of digits
_NAME_DATE = re.compile(
    r"(?<!\d)(?P<y>1[89]\d\d|2\d\d\d)(?P<s>[-_.]?)(?P<m>0[1-9]|1[0-2])(?P=s)(?P<d>0[1-9]|[12]\d|3[01])"
    r"(?:(?:[ _T-]|\s+at\s+)?(?P<H>[01]\d|2[0-3])(?P<t>[-_.:]?)(?P<M>[0-5]\d)(?P=t)(?P<S>[0-5]\d)(?:\d{1,3})?)?"
    r"(?!\d)")


class Taken(NamedTuple):
    at: str | None  # ISO 8601, local time, no zone
    estimated: bool  # from the file's modification time: when it was written, perhaps not taken


def taken(exif: str | None, path: str, mtime_ns: int | None, xmp: str | None = None) -> Taken:
    """The date a photo was taken, from the best source it has (see the module docstring)."""
    for given in (exif, xmp):
        if given and valid(given):
            return Taken(given, False)
    named = from_name(path)
    if named is not None:
        return Taken(named, False)
    return Taken(from_mtime(mtime_ns), True)


def from_name(path: str) -> str | None:
    """The date (and time) a camera or phone wrote into the file name, if any."""
    for match in _NAME_DATE.finditer(PurePath(path).stem):
        g = match.groupdict()
        day = f"{g['y']}-{g['m']}-{g['d']}"
        text = f"{day}T{g['H']}:{g['M']}:{g['S']}" if g["H"] else day
        if valid(text):
            return text
    return None


def from_mtime(mtime_ns: int | None) -> str | None:
    """A modification time (ns since the epoch) as local ISO time; None for none or a zero."""
    if not mtime_ns or mtime_ns <= 0:
        return None
    try:
        return datetime.fromtimestamp(mtime_ns / 1e9).replace(microsecond=0).isoformat()
    except (OverflowError, OSError, ValueError):
        return None


def valid(text: str) -> bool:
    """Whether ``text`` is an ISO date or date-time of a year a photo can have (EXIF's unset
    "0000:00:00 00:00:00" is not)."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return False
    return FIRST_YEAR <= when.year <= datetime.now().year + 1


__all__ = ["Taken", "taken", "from_name", "from_mtime", "valid"]
