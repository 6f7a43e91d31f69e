"""Album folders: one per visible person, one link (or copy) per photo, never half-built.

Layout under ``albums_dir``::

    Alice -> .albums/p12-3        (a symlink to the person's current version)
    Person_7 -> .albums/p7-1
    .albums/p12-3/IMG_0001.jpg -> /photos/2021/IMG_0001.jpg
    .albums/manifest.json          (what we made, so we never touch anything else)

A person's album is rebuilt as a new version folder and then switched in with one atomic
rename of its link, so a reader sees the old album or the new one, never a mix. Nothing
outside ``albums_dir`` is ever written or deleted, and only entries we made are removed: a file
the user put in an album moves on to its next version (or, when the album goes, into a plain
folder of that name).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import faults
from ..errors import UserError
from ..store import reads
from ..store.library import Library
from ..store.rows import label

STORE = ".albums"
MANIFEST = "manifest.json"
# folders of the user's files that albums left behind when they went: folder name -> the person
# whose album it was; that person's album, back (an undo, an unhide), takes the folder in again
LEFT = "left.json"
RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
MAX_NAME = 120
VERSION = re.compile(r"p\d+-\d+")
# Filesystems cap a name at 255 bytes (ext4, APFS) or 255 UTF-16 units (NTFS); leave room for
# the " (id)" a clash adds and the ".tmp" prefix and suffix of the atomic switch.
MAX_NAME_BYTES = 200


def _fit(text: str, limit: int) -> str:
    """The longest prefix of ``text`` whose UTF-8 form fits in ``limit`` bytes."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", errors="ignore")


def safe_name(name: str) -> str:
    """A folder name that stays inside its parent on every common filesystem, or '' if none."""
    text = UNSAFE.sub("_", name).strip().strip(".").strip()
    if not text or text in (".", ".."):
        return ""
    if text.split(".")[0].lower() in RESERVED:
        text = "_" + text
    if text.startswith("."):
        text = "_" + text[1:]
    return _fit(text[:MAX_NAME], MAX_NAME_BYTES).rstrip(". ")


def folder_name(person_id: int, name: str | None) -> str:
    return safe_name(name or "") or label(person_id, None)


@dataclass
class Album:
    person: int
    folder: str
    entries: dict[str, str]  # entry name -> original photo path


def desired(lib: Library) -> list[Album]:
    with lib.db.read() as s:
        persons = reads.persons(s, merged=False, hidden=False)
        rows = reads.album_rows(s, list(persons))
    photos: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for pid, photo_id, path in rows:
        if pid is not None:
            photos[pid].append((photo_id, path))
    albums = []
    used: set[str] = set()
    for pid in sorted(photos):
        folder = folder_name(pid, persons[pid].name)
        if folder.lower() in used:  # two persons with names that sanitize alike
            folder = f"{folder} ({pid})"
        used.add(folder.lower())
        entries: dict[str, str] = {}
        for photo_id, path in photos[pid]:
            base = entry_name(os.path.basename(path), photo_id)
            if base in entries:
                stem, ext = os.path.splitext(base)
                base = f"{stem}_{photo_id}{ext}"
            entries[base] = path
        albums.append(Album(pid, folder, entries))
    return albums


def entry_name(base: str, photo_id: int) -> str:
    """A photo's name in an album (and in a zip of it), legal on every common filesystem:
    no separators, no control or reserved characters, not hidden, not too long."""
    stem, ext = os.path.splitext(base)
    ext = UNSAFE.sub("_", ext)[:16]
    clean = safe_name(stem)
    if clean != stem:  # changed, hidden or empty: the photo id keeps it apart from the others
        clean = f"{clean or 'photo'}_{photo_id}"
    return clean + ext


def _inside(root: Path, name: str) -> Path:
    """``root / name`` for a single, plain folder name; anything else is refused."""
    if not name or name in (".", "..") or os.sep in name or (os.altsep and os.altsep in name):
        raise UserError(f"album name {name!r} would leave {root}", "rename the person")
    return root / name


def _make_entry(mode: str, target: str, dest: Path) -> None:
    if mode == "symlink":
        os.symlink(target, dest)
    elif mode == "hardlink":
        try:
            os.link(target, dest)
        except OSError:  # another filesystem: a copy is the honest fallback
            shutil.copy2(target, dest)
    else:
        shutil.copy2(target, dest)


def read_manifest(root: Path) -> dict[str, dict[str, Any]]:
    """What we made under ``root`` (empty when absent or damaged: the next sync rewrites it)."""
    try:
        manifest = json.loads((root / STORE / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def sync(lib: Library) -> dict[str, Any]:
    """Make the albums folder match the persons; returns counts of what changed."""
    root = lib.settings.albums_path
    store = root / STORE
    if not root.exists():
        root.mkdir(mode=0o700, parents=True)  # who is in which photo is the owner's business
    store.mkdir(parents=True, exist_ok=True)
    manifest_path = store / MANIFEST
    manifest = read_manifest(root)
    left = _read_left(root)
    mode = lib.settings.album_link
    wanted = {str(a.person): a for a in desired(lib)}
    written = removed = 0
    for key, album in wanted.items():
        old = manifest.get(key)
        link = _inside(root, album.folder)
        if (old and old["folder"] == album.folder and old["entries"] == album.entries
                and old.get("mode") == mode and link.is_symlink()):
            continue
        generation = (old or {}).get("generation", 0) + 1
        version = store / f"p{key}-{generation}"
        carried = 0
        if version.exists():  # made by a sync cut short before it saved the manifest: what is the user's stays
            salvage = store / f".{version.name}.salvage"
            os.replace(version, salvage)
            version.mkdir()
            carried += _carry_strays(salvage, mode, album.entries, version)
            shutil.rmtree(salvage, ignore_errors=True)
        else:
            version.mkdir()
        for entry, target in album.entries.items():
            if not (version / entry).exists():
                _make_entry(mode, target, version / entry)
        if link.exists() and not link.is_symlink():  # a folder of the user's own: never replaced
            if left.get(album.folder) == key:  # ... unless this album left it: its files come back in
                carried += _move_theirs(link, {}, version)
                _drop_folder(link)
                left.pop(album.folder)
            if link.exists():
                link = _inside(root, f"{album.folder} ({album.person})")
        tmp = root / f".{album.folder}.tmp"
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        os.symlink(os.path.join(STORE, version.name), tmp)
        os.replace(tmp, link)  # the switch: atomic
        if old:
            if old["folder"] != album.folder:  # only while it shows the old version: another album may own it now
                _remove_link(root, old.get("link", old["folder"]), old.get("version"))
            if old.get("version") and old["version"] != version.name:
                carried += _move_theirs(store / old["version"], old, version)  # before the old version goes
        manifest[key] = {"folder": album.folder, "link": link.name, "version": version.name,
                         "generation": generation, "entries": album.entries, "mode": mode}
        faults.point("albums.carried")
        if carried:  # the user's files are in the new version: the manifest says so before anything else
            _write(store / LEFT, left)
            _write(manifest_path, manifest)
        if old and old.get("version") and old["version"] != version.name:
            shutil.rmtree(store / old["version"], ignore_errors=True)
        written += 1
        faults.point("albums.mid_sync")
    in_use = {manifest[k]["link"] for k in wanted if k in manifest}
    for key in [k for k in manifest if k not in wanted]:
        old = manifest.pop(key)
        name = old.get("link", old["folder"])
        if name not in in_use:  # a merge hands the folder name to the person kept
            _remove_link(root, name)
        if _theirs(store / old["version"], old):  # the user's files stay: in the album that took its name
            heir = next((m["version"] for k, m in manifest.items() if k in wanted and m["link"] == name), None)
            _move_theirs(store / old["version"], old, store / heir if heir else _inside(root, name), mkdir=not heir)
            if not heir:
                left[name] = key
            _write(store / LEFT, left)
            _write(manifest_path, manifest)  # before its old version goes
        shutil.rmtree(store / old["version"], ignore_errors=True)
        removed += 1
    _write(store / LEFT, {f: k for f, k in left.items() if _inside(root, f).is_dir()})
    _write(manifest_path, manifest)  # owner-only: who is in which photo is the owner's business (i22.10)
    removed += _remove_orphans(root, manifest)
    return {"albums": len(wanted), "written": written, "removed": removed, "path": str(root)}


def _read_left(root: Path) -> dict[str, str]:
    try:
        found = json.loads((root / STORE / LEFT).read_text())
    except (OSError, ValueError):
        return {}
    return {str(f): str(k) for f, k in found.items()} if isinstance(found, dict) else {}


def _write(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    tmp.chmod(0o600)
    os.replace(tmp, path)


def _drop_folder(folder: Path) -> None:
    """Remove ``folder`` once it is empty (its files moved back into an album)."""
    with contextlib.suppress(OSError):  # something came in meanwhile: it stays, the album takes another name
        folder.rmdir()


def _theirs(version: Path, entry: dict[str, Any]) -> list[Path]:
    """What the user put in an album folder: never deleted. Ours are the manifest's entries as we
    made them; a file the user put in one's place (an edited copy) is theirs."""
    ours = entry.get("entries", {})
    try:
        return [version / n for n in sorted(os.listdir(version))
                if n not in ours or not _as_made(version / n, ours[n], entry.get("mode", "symlink"))]
    except OSError:
        return []


def _as_made(path: Path, target: str, mode: str) -> bool:
    """Whether ``path`` is still the entry we made for ``target``."""
    try:
        if mode == "symlink":
            return path.is_symlink() and os.readlink(path) == target
        if path.is_symlink():
            return False
        if not Path(target).exists():
            return True  # the photo left the library: its copy goes with it
        if mode == "hardlink" and os.path.samefile(path, target):
            return True
        mine, theirs = path.stat(), Path(target).stat()  # a copy keeps the photo's size and time
        return mine.st_size == theirs.st_size and int(mine.st_mtime) == int(theirs.st_mtime)
    except OSError:
        return True


def _move_theirs(version: Path, entry: dict[str, Any], dest: Path, mkdir: bool = False) -> int:
    """Move the user's files of an album version into ``dest`` (its next version, or a folder of
    the user's own when the album goes), a name taken there getting " (yours)"; how many moved."""
    return _move_files(_theirs(version, entry), dest, mkdir)


def _move_files(files: list[Path], dest: Path, mkdir: bool = False) -> int:
    if not files:
        return 0
    if mkdir:
        dest.mkdir(mode=0o700, exist_ok=True)
    for f in files:
        target = dest / f.name
        if target.exists() or target.is_symlink():
            stem, ext = os.path.splitext(f.name)
            target = dest / f"{stem} (yours){ext}"
            n = 2
            while target.exists() or target.is_symlink():
                target, n = dest / f"{stem} (yours {n}){ext}", n + 1
        os.replace(f, target)
    return len(files)


def _remove_orphans(root: Path, manifest: dict[str, dict[str, Any]]) -> int:
    """Links and versions of ours that no manifest entry names: left by a sync cut short
    before it saved the manifest."""
    links = {m.get("link", m["folder"]) for m in manifest.values()}
    versions = {m["version"] for m in manifest.values()}
    removed = 0
    for entry in root.iterdir():
        if entry.name not in links and entry.is_symlink() and os.readlink(entry).startswith(STORE + os.sep):
            entry.unlink()
            removed += 1
        elif entry.name.startswith(".") and entry.name.endswith(".tmp") and entry.is_symlink():
            entry.unlink()
    for entry in (root / STORE).iterdir():
        if entry.is_dir() and VERSION.fullmatch(entry.name) and entry.name not in versions:
            key = entry.name[1:].split("-")[0]
            home = manifest.get(key)  # the user's files it holds go to that album's version, else a folder
            dest = root / STORE / home["version"] if home else _inside(root, "Album files kept")
            _carry_strays(entry, home["mode"] if home else "symlink", home["entries"] if home else {}, dest,
                          mkdir=not home)
            shutil.rmtree(entry, ignore_errors=True)
    return removed


def _carry_strays(version: Path, mode: str, entries: dict[str, str], dest: Path, mkdir: bool = False) -> int:
    """Move what in a version no manifest names (a sync cut short) is the user's into ``dest``:
    every file but the links we make (symlink albums) or the entries as we make them."""
    def ours(p: Path) -> bool:
        return p.is_symlink() if mode == "symlink" else p.name in entries and _as_made(p, entries[p.name], mode)

    return _move_files([p for p in sorted(version.iterdir()) if not ours(p)] if version.is_dir() else [], dest, mkdir)


def _remove_link(root: Path, name: str, version: str | None = None) -> None:
    """Remove our link ``name`` (only while it points at ``version``, when given)."""
    link = root / name
    if link.is_symlink() and os.readlink(link).startswith(STORE + os.sep) and \
            (version is None or os.readlink(link) == os.path.join(STORE, version)):
        link.unlink()
