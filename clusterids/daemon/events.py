"""What changed, as the page hears it: the daemon publishes after each write it ran (an index
batch that added faces, a recluster, a correction), and each open page holds a server-sent event
stream that wakes on it, so the page re-reads what it shows instead of waiting for a reload."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

KEEP_ALIVE = 15.0  # seconds between comments on a quiet stream, so proxies and the browser keep it
LOOK = 0.2  # seconds between two looks at the generation
STREAM_SECONDS = 300.0  # a stream ends after this; the browser reconnects by itself (retry below)


class Changes:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.generation = 0
        self._last: dict[str, Any] = {}
        self.closed = False

    def publish(self, what: str, **detail: Any) -> None:
        with self._lock:
            self.generation += 1
            self._last = {"generation": self.generation, "what": what, **detail}

    def note(self, result: Any) -> None:
        """Publish what a write's result changed, if it changed what a page shows."""
        change = describe(result)
        if change is not None:
            self.publish(change[0], **change[1])

    def close(self) -> None:
        """The daemon stops: every stream ends at its next look."""
        self.closed = True

    def latest(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._last)

    async def stream(self, gone: Callable[[], Awaitable[bool]], seconds: float = STREAM_SECONDS) -> AsyncIterator[str]:
        """Server-sent events: ``changed`` with what changed, numbered; changes that came close
        together arrive as the latest one (the page re-reads its view either way). A look every
        LOOK seconds, on the event loop: an open page holds no thread."""
        seen = self.generation
        yield f"retry: 1000\nevent: hello\ndata: {json.dumps({'generation': seen})}\n\n"
        now = time.monotonic()
        end, quiet = now + seconds, now
        while not self.closed and time.monotonic() < end and not await gone():
            if self.generation > seen:
                change = self.latest()
                seen = change["generation"]
                quiet = time.monotonic()
                yield f"event: changed\ndata: {json.dumps(change)}\n\n"
            elif time.monotonic() - quiet >= KEEP_ALIVE:
                quiet = time.monotonic()
                yield ": still here\n\n"
            await asyncio.sleep(LOOK)


# the results of the writes that change what a page shows (a read that runs on the writer, such
# as the suggestions, must not wake the pages: they would ask again, and again)
CORRECTIONS = {"Assigned", "Rejected", "Merged", "Split", "Renamed", "Hidden", "Cover", "KeptApart", "Undone",
               "PeopleImported", "Ignored", "Unignored", "Restored"}


def describe(result: Any) -> tuple[str, dict[str, Any]] | None:
    """What a write's result changed, in the event's words (None: nothing the page shows)."""
    kind = type(result).__name__
    if kind == "Indexed":
        added, removed = int(result.faces_added), int(result.photos_removed)
        return ("indexed", {"faces_added": added, "photos_removed": removed}) if added or removed else None
    if kind == "Reclustered":
        return ("reclustered", {"new": result.new, "faces_moved": result.faces_moved}) if result.applied else None
    return (kind.lower(), {}) if kind in CORRECTIONS else None
