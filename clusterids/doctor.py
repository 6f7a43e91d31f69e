"""The library's invariants, checked (``clusterids doctor``) and restored (``--repair``, and
at every open after a crash).

What must hold whatever happened before: the vector index equals the faces, id for id and
payload for payload; every photo is in the library once; the album folders equal the visible
persons; every correction still holds (pins, rejections, merges point at persons that exist).
The test suite (tests/faults/) runs :func:`check` after every injected fault.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from .clustering import people
from .media import albums
from .store import mirror
from .store.library import Library


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, text: str) -> None:
        self.problems.append(text)


def check(lib: Library) -> Findings:
    """Every invariant, read-only; one line per problem found."""
    out = Findings()
    _check_vectors(lib, out)
    for text in mirror.database_problems(lib):
        out.add(text)
    _check_albums(lib, out)
    graph = lib.root / people.GRAPH_FILE
    if graph.exists() and not people.graph_readable(graph):
        out.add(f"the similarity graph is damaged ({graph}); 'clusterids recluster' or 'doctor --repair' rebuilds it")
    behind = mirror.behind(lib)
    if behind["assign_from"]:
        out.add(f"new faces from id {behind['assign_from']} on were not yet offered to known persons")
    return out


def _check_vectors(lib: Library, out: Findings) -> None:
    db = mirror.face_payloads(lib)
    held = {pid: (photo, person) for pid, photo, person in lib.index.points()}
    stray, missing = held.keys() - db.keys(), db.keys() - held.keys()
    wrong = [i for i in db.keys() & held.keys() if db[i] != held[i]]
    if stray:
        out.add(f"{len(stray)} vectors of faces that are gone (e.g. {min(stray)})")
    if missing:
        out.add(f"{len(missing)} faces without a vector (e.g. {min(missing)})")
    if wrong:
        i = min(wrong)
        out.add(f"{len(wrong)} vectors whose payload differs from the database (e.g. face {i}: "
                f"index photo/person {held[i]}, database {db[i]})")


def _check_albums(lib: Library, out: Findings) -> None:
    root = lib.settings.albums_path
    wanted = albums.desired(lib)
    manifest = albums.read_manifest(root)
    links: set[str] = set()
    for album in wanted:
        entry = manifest.get(str(album.person))
        if entry is None or entry["folder"] != album.folder:
            out.add(f"album of person {album.person} ({album.folder!r}) is missing or under another name")
            continue
        link = root / entry.get("link", entry["folder"])
        links.add(link.name)
        version = root / albums.STORE / entry["version"]
        if not link.is_symlink() or os.readlink(link) != os.path.join(albums.STORE, entry["version"]):
            out.add(f"album link {link} does not point at its current version")
            continue
        present = set(os.listdir(version)) if version.is_dir() else set()
        if present != set(album.entries) or entry["entries"] != album.entries:
            out.add(f"album {link.name!r} holds {len(present)} photos, not the {len(album.entries)} of person "
                    f"{album.person}")
    if root.is_dir():
        for extra in root.iterdir():
            if (extra.is_symlink() and extra.name not in links
                    and os.readlink(extra).startswith(albums.STORE + os.sep)):
                out.add(f"album {extra.name!r} belongs to no visible person")


def reconcile(lib: Library) -> dict[str, Any]:
    """Bring what is behind the database back in step (the vectors were done at open):
    finish a cut-short instant assignment, then the albums. Returns what was done."""
    done: dict[str, Any] = {}
    behind = mirror.behind(lib)
    if behind["vectors"]:
        done.update({f"vectors_{k}": v for k, v in lib.repair().items() if v})
    if behind["assign_from"]:
        done["faces_assigned"] = assign_pending(lib)
        behind["albums"] = True
    if behind["albums"]:
        result = albums.sync(lib)
        if result["written"] or result["removed"]:
            done["albums_written"], done["albums_removed"] = result["written"], result["removed"]
    if done:
        mirror.record_repair(lib, done)
    return done


def assign_pending(lib: Library) -> int:
    """Offer the faces of the last index run (or of one cut short) to the known persons."""
    ids = mirror.pending_faces(lib)
    n = people.assign_new_faces(lib, ids) if ids else 0
    mirror.assigned(lib)
    return n


def repair(lib: Library) -> dict[str, Any]:
    """``doctor --repair``: rewrite every mirror from the database, whatever the marks say."""
    done: dict[str, Any] = {f"vectors_{k}": v for k, v in lib.repair(force=True).items()}
    done["faces_assigned"] = assign_pending(lib) if mirror.behind(lib)["assign_from"] else 0
    graph = lib.root / people.GRAPH_FILE
    if graph.exists() and not people.graph_readable(graph):
        graph.unlink()
        done["graph_removed"] = True
    result = albums.sync(lib)
    done["albums_written"], done["albums_removed"] = result["written"], result["removed"]
    mirror.record_repair(lib, {k: v for k, v in done.items() if v})
    return done


def doctor(lib: Library, fix: bool = False) -> dict[str, Any]:
    found = check(lib)
    out: dict[str, Any] = {"ok": found.ok, "problems": found.problems, "library": str(lib.root)}
    if fix and not found.ok:
        out["repaired"] = repair(lib)
        out["after"] = check(lib).problems
        out["ok"] = not out["after"]
    return out
