"""The library's files are the owner's only (i22.10): faces, names and who is in which photo are
personal. Folders 0700, files 0600: the group's and others' bits are taken off, the owner's kept.
Links are left alone (an album's links point at the user's photos, and chmod would follow them).

A library made by an older release, or copied with the umask's modes, is walked once in full
(``owner_only``); every open and close after that checks only what a session may have made
with the umask's modes (``light``): the library's own entries, its copies, the vector engine's
folder and the album store's versions, a few hundred stats however many thumbnails there are.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

ALBUM_STORE = ".albums"  # outputs/albums.py STORE: one folder per album version, and the manifest


def _fix(path: str) -> int:
    try:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode) or not stat.S_IMODE(st.st_mode) & 0o077:
            return 0
        os.chmod(path, stat.S_IMODE(st.st_mode) & 0o700)  # the owner's bits kept: a read-only file stays so
        return 1
    except OSError:
        return 0  # gone meanwhile, or not ours to change: the command goes on


def _tree(root: Path, albums: Path | None = None) -> Iterable[str]:
    """Every entry under ``root``; inside ``albums`` only our album store (the rest there is the
    user's links, and folders and files of the user's own: never changed)."""
    for folder, dirs, files in os.walk(root):
        here = os.path.realpath(folder)
        if albums is not None and here == os.path.realpath(albums):
            dirs[:] = [d for d in dirs if d == ALBUM_STORE]
            files = []
        for name in dirs + files:
            yield os.path.join(folder, name)
        if albums is not None and here == os.path.realpath(albums / ALBUM_STORE):
            dirs[:] = []  # a version's entries: hard links share the user's photos' modes, the rest is theirs


def _children(folder: Path) -> Iterable[str]:
    try:
        with os.scandir(folder) as entries:
            return [e.path for e in entries]
    except OSError:
        return []


def owner_only(root: Path, albums: Path | None = None) -> int:
    """Take group and others' bits off everything under ``root`` (not ``root`` itself, which may
    be the user's), in ``albums`` only our album store; returns how many entries changed."""
    return sum(_fix(p) for p in _tree(root, albums))


def light(root: Path, vectors: Path, albums: Path) -> int:
    """The same for what a session makes with the umask's modes (see the module's text); in the
    albums folder only our album store (what else is there is the user's)."""
    paths = [*_children(root), *_children(root / "backups"), *_tree(vectors), str(albums / ALBUM_STORE),
             *_children(albums / ALBUM_STORE)]
    return sum(_fix(p) for p in paths)
