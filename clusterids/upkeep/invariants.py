"""The library's invariants: checked by ``clusterids doctor`` (read-only), restored by the
catch-up (upkeep/catchup.py), and by ``doctor --repair`` whatever the marks say.

What must hold whatever happened before: the vector index equals the faces, id for id and
payload for payload; every photo is in the library once; the album folders equal the visible
persons; every correction still holds (pins, rejections, merges point at persons that exist);
no outbox row waits. The fault suite (tests/faults/) checks them after every injected fault.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ..clustering.graph import Graph
from ..clustering.people import GRAPH_FILE
from ..errors import UserError
from ..outputs import albums
from ..store import checks, outbox, reads
from ..store.library import Library
from .catchup import catch_up, record_repair

WAITING = outbox.WAITING


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
    with lib.db.read() as s:
        for kind, n in outbox.waiting(s).items():
            out.add(f"{n} {WAITING.get(kind, kind)} (the next command, or 'doctor --repair', does it)")
        for text in checks.database_problems(s):
            out.add(text)
    _check_vectors(lib, out)
    _check_albums(lib, out)
    graph = lib.root / GRAPH_FILE
    if graph.exists() and not Graph.readable(graph):
        out.add(f"the similarity graph is damaged ({graph}); 'clusterids recluster' or 'doctor --repair' rebuilds it")
    return out


def _check_vectors(lib: Library, out: Findings) -> None:
    with lib.db.read() as s:
        db = reads.payloads(s)
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
    _check_readable(lib, sorted(db.keys() & held.keys()), out)


SAMPLE = 8  # faces looked up by their own vector: the payloads can be whole while the vectors are not


def _check_readable(lib: Library, ids: list[int], out: Findings) -> None:
    """The index finds a few faces (spread over the ids) by their own vectors, first."""
    import numpy as np

    from ..errors import UserError

    for i in ids[:: max(1, len(ids) // SAMPLE)][:SAMPLE]:
        with lib.db.read() as s:
            raw = reads.face_vector(s, i)
        if raw is None:
            continue
        try:
            hits = lib.index.search(np.frombuffer(raw, np.float32), 1)
        except UserError as exc:
            out.add(f"the vector index cannot be read ({exc.what}); 'clusterids rebuild-index' recreates it")
            return
        if not hits or hits[0].score < 0.99:  # a copy of the photo may hold the very same vector
            out.add(f"the vector index does not find face {i} by its own vector (its vectors are damaged); "
                    "'clusterids rebuild-index' recreates it from the database")
            return


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
        ours = present & set(entry["entries"])  # a file the user put there is theirs, and stays
        if ours != set(album.entries) or entry["entries"] != album.entries:
            out.add(f"album {link.name!r} holds {len(ours)} photos, not the {len(album.entries)} of person "
                    f"{album.person}")
    if root.is_dir():
        for extra in root.iterdir():
            if (extra.is_symlink() and extra.name not in links
                    and os.readlink(extra).startswith(albums.STORE + os.sep)):
                out.add(f"album {extra.name!r} belongs to no visible person")


def refuse_mass_deletion(lib: Library) -> None:
    """``doctor --repair`` makes derived state follow the database; when the database looks
    emptied or replaced (far fewer faces than vectors), that would delete what only the vectors
    still show, so it stops and says why (i22)."""
    with lib.db.read() as s:
        faces = reads.face_count(s)
    vectors = lib.index.count()
    if vectors > 2 * faces + 10:
        raise UserError(f"the database holds {faces} faces but the vector index {vectors} vectors: it looks "
                        "emptied or replaced, and a repair would delete the difference",
                        "put the database back with 'clusterids restore' (it keeps the one there), "
                        "or 'clusterids rebuild-index' if the database is the one to keep")


def repair(lib: Library) -> dict[str, Any]:
    """``doctor --repair``: every mirror compared with the database and rewritten, whatever the
    marks say; a damaged similarity graph removed (the next recluster rebuilds it)."""
    done: dict[str, Any] = catch_up(lib, full=True).done()
    graph = lib.root / GRAPH_FILE
    if graph.exists() and not Graph.readable(graph):
        graph.unlink()
        done["graph_removed"] = True
    result = albums.sync(lib)  # also what no mark names (a folder removed by hand)
    done["albums_written"] = done.get("albums_written", 0) + result["written"]
    done["albums_removed"] = done.get("albums_removed", 0) + result["removed"]
    record_repair(lib, {k: v for k, v in done.items() if v})
    return done
