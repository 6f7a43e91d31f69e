"""The read commands' short way: ``people``, ``faces``, ``photos`` and ``status`` in well under
a second on a large library.

Without a daemon, a SQLite library is read on the standard library's sqlite3 (store/quick.py),
the library found from the same sources as the settings (clusterids/sources.py) without
building them; with a daemon, the command is an HTTP client that prints the JSON it gets. The
answer is the same plain data the operation's result gives (tests/test_cli_quick.py compares
them). Whenever the short way could differ from the full one (PostgreSQL, flags the daemon
would refuse, a setting it does not know, a library the full open would migrate or repair, an
argument the declarations refuse), it answers ``None`` and the command runs the full way,
which does or says what is needed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from .. import sources

# the operations answered here: name -> whether it only reads (a GET through the daemon; tests
# keep this equal to their declarations)
OPERATIONS = {"people.persons": True, "people.faces": True, "photos.showing": True, "library.status": False}
WITHOUT_DAEMON = ("people.persons", "people.faces", "photos.showing", "library.status")
LEASE_SECONDS = 60.0  # Settings.lease_seconds's default (a test keeps them equal); a set value goes the full way
MAX_NAME = 200  # core.operations.MAX_NAME: a longer text is refused there, with its words
CLIENT_SIDE = frozenset({"progress"})  # as cli/core.py: settings that shape the output, not the work


def quick_read(ctx: click.Context, name: str, kwargs: dict[str, Any]) -> Any | None:
    """The plain result of operation ``name``, or None: run it the full way."""
    from .core import _parse_sets

    if any(isinstance(v, str) and len(v) > MAX_NAME for v in _texts(kwargs)):
        return None
    obj = ctx.find_root().obj
    sets = _parse_sets(obj["sets"])
    flags = {k: v for k, v in obj["flags"].items() if v is not None} | sets
    merged, _, _ = sources.layered(flags, sources.plain_environ(os.environ))
    library = merged.get("library", sources.default_library())
    if not merged.keys() <= sources.SETTING_NAMES or not isinstance(library, str | Path) or not str(library):
        return None  # the full way names the unknown setting, or decides what an empty path means
    root = Path(str(library))
    if merged.get("database_url") or merged.get("albums_dir") or merged.get("vector_store_url"):
        return None
    from ..daemon.client import find_daemon_at

    remote = find_daemon_at(root)
    if remote is not None:
        if obj["flags"].get("model") or sets.keys() - CLIENT_SIDE:
            return None  # the full way refuses them, saying how to apply them
        return json.loads(remote.call_plain(name, OPERATIONS[name], kwargs))
    if name not in WITHOUT_DAEMON or sets.keys() - CLIENT_SIDE:
        return None  # a value typed with the command is checked (and refused) the full way
    from ..store.quick import Unreadable, open_quick

    quick = open_quick(root)
    if quick is None:
        return None
    try:
        return _read(quick, root, merged, name, kwargs)
    except Unreadable:
        return None  # the full way says what is damaged, and the way back


def _read(quick: Any, root: Path, merged: dict[str, Any], name: str, kwargs: dict[str, Any]) -> Any | None:
    with quick:
        if merged.get("model", "auto") not in ("auto", quick.pack):
            return None  # the full way refuses a pack that would mix
        if quick.pack == "buffalo_l":  # as app.ModelPacks.negotiate says at every open
            from ..models.packs import BUFFALO, LICENCES

            click.echo(f"{BUFFALO}: {LICENCES[BUFFALO]}", err=True)
        if name == "library.status":
            return _status(quick, root, merged, bool(kwargs.get("failed")))
        return _answer(quick, name, kwargs)


def _status(quick: Any, root: Path, merged: dict[str, Any], failed: bool) -> dict[str, Any] | None:
    """``library.status``'s plain result. The vector index's count is its seal's where its files
    are as sealed (store/seal.py), else the index is opened for it; an index that cannot be
    opened or holds other than every face's vector goes the full way, which says what is wrong
    or compares and mends."""
    from ..store.quick import vector_count
    from ..store.seal import sealed_count

    if "lease_seconds" in merged or not (root / "vectors" / "edge_config.json").is_file():
        return None
    photos, faces, failures = quick.counts()
    folder = root / "vectors"
    points = sealed_count(folder)
    if (points if points is not None else vector_count(folder)) != faces:
        return None
    state = quick.queue_state(LEASE_SECONDS)
    return {"library": str(root), "model": quick.pack, "dim": quick.dim, "photos": photos, "faces": faces,
            "vectors": faces, "failed": failures, "queue": state["queue"], "workers": state["workers"],
            "repaired_at_open": {}, "last_repair": quick.meta_json("last_repair"),
            "last_recluster": quick.meta_json("last_recluster"),
            "last_incremental": quick.meta_json("last_incremental"), "daemon": None,
            "failed_files": [{"path": p, "reason": e or ""} for p, e in quick.failed_files()] if failed else None}


def _texts(kwargs: dict[str, Any]) -> list[Any]:
    return [x for v in kwargs.values() for x in (v if isinstance(v, list) else [v])]


def _answer(quick: Any, name: str, kwargs: dict[str, Any]) -> Any:
    """What core/people.py's ``persons`` and ``faces`` and core/photos.py's ``showing`` return,
    as plain data (core/results.py's ``Person`` and ``Face``, field by field)."""
    if name == "people.persons":
        out = [{"id": p.id, "name": p.name, "label": p.label, "faces": faces, "photos": photos, "hidden": p.hidden}
               for p, faces, photos in quick.person_counts()
               if kwargs.get("include_hidden") or (not p.hidden and faces)]
        return sorted(out, key=lambda r: (-r["faces"], r["id"]))
    if name == "people.faces":
        person = kwargs.get("person")
        pid = quick.find_person(person).id if person is not None else None
        rows = quick.faces_with_paths(pid, bool(kwargs.get("unknown")), bool(kwargs.get("ignored")))
        return [{"id": f.id, "photo": path, "bbox": f.bbox, "det_score": f.det_score, "person": f.person_id,
                 "ignored": f.ignored} for f, path in rows]
    ids = sorted({quick.find_person(p).id for p in kwargs["persons"]})
    return quick.photos_showing(ids, bool(kwargs.get("any_of")))
