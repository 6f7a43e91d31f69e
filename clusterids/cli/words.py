"""The words the commands print: counts with their plurals, dates as people read them, a
correction said in a sentence. Each takes the plain data of a result (core/results.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from .render import plain

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
IRREGULAR = {"identity": "identities"}


def count(n: int, word: str, many: str | None = None) -> str:
    """``count(1, "photo")`` is "1 photo", ``count(0, "live worker")`` "0 live workers"."""
    if n == 1:
        return f"1 {word}"
    head, _, last = word.rpartition(" ")
    return f"{n} {many or (head + ' ' if head else '') + IRREGULAR.get(last, last + 's')}"


def listed(items: list[str], last: str = "and") -> str:
    """"a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def when(text: str | None, estimated: bool = False, none: str = "never") -> str:
    """An ISO date as people read it, in local time: "16 March 2006", or "16 March 2006 at
    00:45" when it has a time of day. A time with a zone ("Z": the daemon's and the journal's
    clocks) is turned into local time; one without (a camera's) is its own local time."""
    if not text:
        return none
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return plain(text)
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    day = f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"
    if "T" in text or " " in text.strip():
        today = date.today()
        if moment.date() == today:
            day = "today"
        day += f" at {moment:%H:%M}"
    return f"{day} (estimated from the file's date)" if estimated else day


def since(text: str | None) -> str:
    """How long ago a UTC time was, in words: "3 minutes ago"."""
    if not text:
        return "never"
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return plain(text)
    seconds = (datetime.now(UTC) - (moment if moment.tzinfo else moment.replace(tzinfo=UTC))).total_seconds()
    return ago(seconds)


def ago(seconds: float) -> str:
    seconds = max(0, int(seconds))
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            return f"{count(seconds // size, unit)} ago"
    return "just now" if seconds < 5 else f"{count(seconds, 'second')} ago"


def box(bbox: list[float]) -> str:
    """A face's box in whole pixels: left,top,right,bottom."""
    return ",".join(str(round(v)) for v in bbox)


def faces_phrase(ids: list[int]) -> str:
    return f"face {ids[0]}" if len(ids) == 1 else count(len(ids), "face")


def correction(c: dict[str, Any]) -> str:
    """A correction in a sentence, from its plain ``Correction``: "Newcomer Two merged into
    Person_43", "3 faces assigned to Diana Krall"."""
    persons: list[dict[str, Any]] = c.get("persons") or []
    first: dict[str, Any] = persons[0] if persons else {"id": 0, "label": "a person", "was": None}
    who = plain(first["label"])
    faces = c.get("faces") or []
    op = c.get("op")
    if op == "assign":
        new = " (a new person)" if first["id"] in (c.get("created") or []) else ""
        return f"{faces_phrase(faces)} assigned to {who}{new}"
    if op == "reject":
        return f"{faces_phrase(faces)} {'is' if len(faces) == 1 else 'are'} not {who}"
    if op in ("ignore", "unignore"):
        reason = c.get("args", {}).get("reason")
        how = " as not a face" if reason == "not_a_face" else ""
        return f"{faces_phrase(faces)} {f'ignored{how}' if op == 'ignore' else 'taken back from the ignored'}"
    if op == "mark_face":
        return f"{faces_phrase(faces)} marked by hand" + (f" as {who}" if persons else "")
    if op == "merge":
        was = plain(first.get("was") or first["label"])
        others = listed([plain(p.get("was") or p["label"]) for p in persons[1:]])
        now = f", now called {who}" if who != was else ""
        return f"{others or 'a person'} merged into {was}{now}"
    if op == "split":
        into = plain(persons[-1]["label"]) if len(persons) > 1 else "a new person"
        return f"{faces_phrase(faces)} of {who} split off into {into}"
    if op == "rename":
        was = plain(first.get("was") or first["label"])
        name = c.get("args", {}).get("name")
        return f"{was} renamed {plain(name)}" if name else f"{was}'s name removed"
    if op == "born":
        when = c.get("args", {}).get("born")
        return f"{who} born on {when}" if when else f"{who}'s birth date removed"
    if op in ("hide", "unhide"):
        return f"{who} {'hidden' if op == 'hide' else 'shown again'}"
    return f"{plain(str(op))} of {who}"


REPAIRS = {"vectors_written": "vector", "vectors_removed": "vector", "payloads": "payload",
           "faces_assigned": "face", "albums_written": "album entry", "albums_removed": "album entry",
           "reconciled": "vector"}
DONE = {"vectors_written": "written", "vectors_removed": "removed", "payloads": "rewritten",
        "faces_assigned": "assigned", "albums_written": "written", "albums_removed": "removed",
        "reconciled": "compared and mended"}


def repairs(done: dict[str, Any]) -> str:
    """What a repair or a catch-up did, in words: "3 vectors written, 1 album entry removed"."""
    parts = []
    for key, value in done.items():
        if key == "at" or not value:
            continue
        if key == "graph_removed":
            parts.append("the damaged neighbour graph removed (the next recluster rebuilds it)")
        elif key in REPAIRS and isinstance(value, int):
            parts.append(f"{count(value, REPAIRS[key], 'album entries' if 'album' in key else None)} {DONE[key]}")
        else:
            parts.append(f"{plain(key.replace('_', ' '))}: {plain(str(value))}")
    text = ", ".join(parts) or "nothing"
    return f"{text} ({when(done['at'])})" if done.get("at") else text


def schedules(recluster: dict[str, Any] | None, incremental: dict[str, Any] | None) -> str:
    """When persons were last made, by each schedule (store/stamps.py)."""
    out = "last recluster " + when((recluster or {}).get("at"), none="not yet")
    if recluster:
        out += (f" ({count(recluster.get('persons_created', 0), 'new person')}, "
                f"{count(recluster.get('faces_moved', 0), 'face')} moved)")
    out += "; last incremental step " + when((incremental or {}).get("at"), none="not yet")
    if incremental:
        out += (f" ({count(incremental.get('new_faces', 0), 'new face')}, "
                f"{count(incremental.get('persons_created', 0), 'new person')})")
    return out
