"""The read commands' short way: ``people``, ``faces``, ``photos`` (and ``status`` through a
daemon) in well under a second on a large library.

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

# the operations answered here: name -> whether it only reads (a GET through the daemon); the
# people, faces and photos ones also without a daemon (tests keep this equal to their declarations)
OPERATIONS = {"people.persons": True, "people.faces": True, "photos.showing": True, "library.status": False}
WITHOUT_DAEMON = ("people.persons", "people.faces", "photos.showing")
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
    if merged.get("database_url") or merged.get("albums_dir"):
        return None
    from ..daemon.client import find_daemon_at

    remote = find_daemon_at(root)
    if remote is not None:
        if obj["flags"].get("model") or sets.keys() - CLIENT_SIDE:
            return None  # the full way refuses them, saying how to apply them
        return json.loads(remote.call_plain(name, OPERATIONS[name], kwargs))
    if name not in WITHOUT_DAEMON:
        return None
    from ..store.quick import open_quick

    quick = open_quick(root)
    if quick is None:
        return None
    with quick:
        if merged.get("model", "auto") not in ("auto", quick.pack):
            return None  # the full way refuses a pack that would mix
        if quick.pack == "buffalo_l":  # as app.ModelPacks.negotiate says at every open
            from ..models.packs import BUFFALO, LICENCES

            click.echo(f"{BUFFALO}: {LICENCES[BUFFALO]}", err=True)
        return _answer(quick, name, kwargs)


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
