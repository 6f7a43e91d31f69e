"""When the persons last changed by each schedule, for ``status``: the last recluster and the
last incremental step (upkeep/arrivals.py), whoever ran them (daemon, command or page). Kept in
the library's meta, written in the transaction of the change they record."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from .db import get_meta, set_meta

LAST_RECLUSTER = "last_recluster"
LAST_INCREMENTAL = "last_incremental"


def stamp(session: Session, key: str, **what: int) -> None:
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    set_meta(session, key, json.dumps({"at": at, **what}, sort_keys=True))


def last(session: Session, key: str) -> dict[str, Any] | None:
    text = get_meta(session, key)
    return json.loads(text) if text else None
