"""When a photo was taken: from its EXIF date, else its XMP sidecar's, else a date in its file
name (the names cameras and phones give: ``IMG_20190812_153012``, ``2019-08-12 15.30.12``,
``PXL_...``, ``Screenshot_...``, ``WhatsApp Image ... at ...``), else a date its folders give
(``2019-08-12 Rome``, ``2019/08/12``: that day; ``2002-05``, ``2002-spring``, ``1975``: estimated,
the file's modification time where it falls in that period, as a scan's often does not), else
the file's modification time, which is then marked as estimated.

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
    written = from_mtime(mtime_ns)
    folder = from_folders(path)
    if folder is not None:
        day, start, end = folder
        if start == end:  # a whole date: "2019-08-12 Rome", 2019/08/12/
            return Taken(day, False)
        if written is None or not start <= written[:10] <= end:  # the file's time is a copy's: the folder knows better
            return Taken(day, True)
    return Taken(written, True)


# a year standing alone in a folder's name ("2002", "2002-spring", "Christmas 1987", "1975 Summer"),
# never part of a word or a longer number ("1920x1080", "DSC2002"); perhaps a month after it
# ("2002-05") or a second year ("1998-2001")
_YEAR = re.compile(r"(?<![0-9A-Za-z])(?P<y>1[89]\d\d|20\d\d)"
                   r"(?:[-_. ](?P<m>0[1-9]|1[0-2])|\s*[-–]\s*(?P<y2>1[89]\d\d|20\d\d))?(?![0-9A-Za-z])")
# a season's first and last month (the northern hemisphere's; winter is the year's first months)
_SEASONS = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "fall": (9, 11), "winter": (1, 2),
            "easter": (3, 4), "christmas": (12, 12), "xmas": (12, 12), "frühling": (3, 5), "sommer": (6, 8),
            "herbst": (9, 11), "printemps": (3, 5), "été": (6, 8), "automne": (9, 11), "hiver": (1, 2)}
_DECADE = re.compile(r"(?<![0-9A-Za-z])(?P<y>1[89]\d0|20\d0)'?s(?![0-9A-Za-z])")  # "1970s", "1980's"
_MONTHS = {name: n for n, names in enumerate(
    (("jan", "january", "januar", "janvier"), ("feb", "february", "februar", "février"),
     ("mar", "march", "märz", "mars"), ("apr", "april", "avril"), ("may", "mai"), ("jun", "june", "juni", "juin"),
     ("jul", "july", "juli", "juillet"),
     ("aug", "august", "août"), ("sep", "sept", "september", "septembre"), ("oct", "october", "oktober", "octobre"),
     ("nov", "november", "novembre"), ("dec", "december", "dezember", "décembre")), start=1) for name in names}
FOLDERS_UP = 6  # a date some folders up still says when (Photos/1975/Summer/Beach/, 2019/08/12/party/more/)


def from_folders(path: str) -> tuple[str, str, str] | None:
    """When the folders a photo lies in say it was taken, nearest first: (the day to show, the
    first and the last day the folder's words allow). A whole date ("2019-08-12 Rome", or
    2019/08/12/) is that day; a month ("2002-05", 2002/05/) its middle; a year, with a season
    in that folder or one below it ("2002-spring", 1975/Summer/), the season, else the year."""
    names = [p.name for p in list(PurePath(path).parents)[:FOLDERS_UP] if p.name]
    for level in range(len(names)):  # a year, month and day folder each (2019/08/12/party/)
        up = names[level:]
        if len(up) >= 3 and _two(up[0], 31) and _two(up[1], 12) and _year_only(up[2]) and \
                _day(f"{up[2]}-{up[1]}-{up[0]}"):
            return _day(f"{up[2]}-{up[1]}-{up[0]}")
        if len(up) >= 2 and _two(up[0], 12) and _year_only(up[1]):
            return _months(int(up[1]), int(up[0]), int(up[0]))
    for level, name in enumerate(names):
        whole = from_name(name)
        if whole is not None:
            return _day(whole[:10])
        decade = _DECADE.search(name)
        if decade is not None and valid(f"{decade['y']}-01-01"):
            first = int(decade["y"])
            return f"{first + 5}-01-01", f"{first}-01-01", f"{min(first + 9, datetime.now().year)}-12-31"
        match = _YEAR.search(name)
        if match is None or not valid(f"{match['y']}-01-01"):
            continue
        year = int(match["y"])
        words = {w for n in names[: level + 1] for w in re.findall(r"[^\W\d_]+", n.lower())}
        month = match["m"] and int(match["m"]) or next((_MONTHS[w] for w in words if w in _MONTHS), None)
        if month:
            return _months(year, month, month)
        if match["y2"] and valid(f"{match['y2']}-01-01") and int(match["y2"]) > year:
            last = int(match["y2"])
            return f"{(year + last) // 2}-07-01", f"{year}-01-01", f"{last}-12-31"
        season = next((_SEASONS[w] for w in _SEASONS if w in words), None)
        return _months(year, *season) if season else (f"{year}-07-01", f"{year}-01-01", f"{year}-12-31")
    return None


def _two(name: str, most: int) -> bool:
    return len(name) == 2 and name.isdigit() and 1 <= int(name) <= most


def _year_only(name: str) -> bool:
    return len(name) == 4 and name.isdigit() and valid(f"{name}-01-01")


def _day(day: str) -> tuple[str, str, str] | None:
    return (day, day, day) if valid(day) else None


def _months(year: int, first: int, last: int) -> tuple[str, str, str]:
    """Months ``first`` to ``last`` of ``year``: (their middle day, their first day, their last)."""
    import calendar

    end = calendar.monthrange(year, last)[1]
    middle = (first + last) // 2
    mid_day = 15 if first == last or (first + last) % 2 == 0 else calendar.monthrange(year, middle)[1]
    return f"{year}-{middle:02d}-{mid_day:02d}", f"{year}-{first:02d}-01", f"{year}-{last:02d}-{end:02d}"


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


__all__ = ["Taken", "taken", "from_name", "from_folders", "from_mtime", "valid"]
