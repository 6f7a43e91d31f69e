"""i22.10 (second half) on a synthetic library: every file and folder in the library is the
owner's only (0600 / 0700), made so at creation and fixed at open for an existing library.
Before: config.toml, vectors/ and the album manifest followed the umask (0644 / 0755)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from clusterids.config import load_settings

from ..synthetic import open_synthetic, synthetic_library
from .test_journal_replay import _library


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)  # the usual umask: what a user's files get
    try:
        yield
    finally:
        os.umask(old)


def _open_to_others(root: Path) -> list[str]:
    out = []
    for path in root.rglob("*"):
        st = path.lstat()
        if not stat.S_ISLNK(st.st_mode) and stat.S_IMODE(st.st_mode) & 0o077:
            out.append(f"{path.relative_to(root)} {oct(stat.S_IMODE(st.st_mode))}")
    return sorted(out)


def test_a_new_library_is_owner_only(tmp_path: Path, umask_022: None) -> None:
    env, _ids = _library(tmp_path)  # made, indexed, reclustered (albums), closed
    root = tmp_path / "library"
    assert (root / "albums" / ".albums" / "manifest.json").exists() and (root / "config.toml").exists()
    assert _open_to_others(root) == []
    lib = open_synthetic(load_settings({}, environ=env))
    lib.close()
    assert _open_to_others(root) == []
    assert stat.S_IMODE((tmp_path / "photos" / "photo_000.jpg").stat().st_mode) == 0o644  # the user's: untouched


def test_an_existing_library_is_made_owner_only_at_open(tmp_path: Path, umask_022: None) -> None:
    _library(tmp_path)
    root = tmp_path / "library"
    for path in [root, *root.rglob("*")]:  # as an older release, or a copy with cp -r, left it
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)
    (root / "daemon.json").write_text("{}")
    (root / "thumbs" / "face_1.jpg").write_bytes(b"a thumbnail")  # deep: the once-in-full walk fixes it
    with contextlib.closing(sqlite3.connect(root / "library.db")) as conn, conn:
        conn.execute("DELETE FROM meta WHERE key = 'owner_only'")  # as a library of an older release
    links = {p: os.readlink(p) for p in root.rglob("*") if p.is_symlink()}
    assert links and _open_to_others(root)
    with synthetic_library(tmp_path):
        pass
    assert _open_to_others(root) == []
    assert {p: os.readlink(p) for p in root.rglob("*") if p.is_symlink()} == links
    assert stat.S_IMODE((tmp_path / "photos" / "photo_000.jpg").stat().st_mode) == 0o644


def test_thumbnails_and_uploads_are_owner_only_as_they_are_made(tmp_path: Path, umask_022: None) -> None:
    """Made while the library is open (the daemon's page): the open's walk never sees them."""
    import io

    from clusterids.media.inbox import inbox, save_upload
    from clusterids.outputs.thumbs import photo_thumb
    from clusterids.store import reads

    env, _ids = _library(tmp_path)
    root = tmp_path / "library"
    for folder in ("thumbs", "inbox"):
        with contextlib.suppress(FileNotFoundError):
            for path in sorted((root / folder).rglob("*"), reverse=True):
                path.unlink() if path.is_file() else path.rmdir()
            (root / folder).rmdir()
    lib = open_synthetic(load_settings({}, environ=env))
    try:
        with lib.db.read() as s:
            photo = reads.photo_at(s, str(tmp_path / "photos" / "photo_000.jpg"))
        assert photo is not None
        thumb = photo_thumb(lib, photo.id)
        upload = save_upload(inbox(root), "new.jpg", io.BytesIO((tmp_path / "photos" / "photo_000.jpg").read_bytes()))
        made = [thumb, thumb.parent, upload, upload.parent]
        assert [oct(stat.S_IMODE(p.stat().st_mode)) for p in made] == ["0o600", "0o700", "0o600", "0o700"]
    finally:
        lib.close()


def test_the_users_files_in_the_albums_folder_keep_their_modes(tmp_path: Path, umask_022: None) -> None:
    """The owner-only walk took the group's and others' bits off everything in the albums folder:
    a file of the user's own there, and (album_link hardlink) the user's photos themselves, which
    an album's hard links share their modes with."""
    env, _ = _library(tmp_path)
    env = env | {"CLUSTERIDS_ALBUM_LINK": "hardlink"}
    settings = load_settings({}, environ=env)
    lib = open_synthetic(settings)
    lib.close()  # the albums made as hard links
    albums = tmp_path / "library" / "albums"
    theirs = albums / "notes.txt"
    theirs.write_text("mine")
    theirs.chmod(0o644)
    photo = next((tmp_path / "photos").glob("*.jpg"))
    photo.chmod(0o644)
    assert any(p.stat().st_ino == photo.stat().st_ino for p in albums.rglob("*.jpg"))  # the premise: shared
    lib = open_synthetic(settings)
    with lib.db.transaction() as s:  # a library from before the walk: walked in full at the next open
        from clusterids.store.db import Meta

        s.delete(s.get(Meta, "owner_only"))
    lib.close()
    open_synthetic(settings).close()
    assert stat.S_IMODE(theirs.stat().st_mode) == 0o644 and stat.S_IMODE(photo.stat().st_mode) == 0o644
