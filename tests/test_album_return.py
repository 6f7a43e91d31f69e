"""A user's file in an album comes back with the album: an album that goes (its person hidden,
merged into another under another name) leaves the user's files in a plain folder of its name,
and the person back (an undo, an unhide) takes the folder in again under the same name, not
"Bob (2)" beside a folder holding the note (before)."""

from __future__ import annotations

import os

from clusterids.upkeep import invariants

from .test_core_synthetic import core, lib, owner, run, three  # noqa: F401


def _named(lib, core, three):  # noqa: F811
    run(core, "people.recluster")
    a, b = owner(lib, three["faces"][0][0][0]), owner(lib, three["faces"][1][0][0])
    run(core, "people.rename", person=str(a), name="Grandma")
    run(core, "people.rename", person=str(b), name="Bob")
    root = lib.settings.albums_path
    (root / "Bob" / "notes.txt").write_text("Bob's birthday")
    return a, b, root


def _bob_is_whole(lib, root, photos: int) -> None:  # noqa: F811
    assert (root / "Bob").is_symlink(), sorted(os.listdir(root))
    assert (root / "Bob" / "notes.txt").read_text() == "Bob's birthday"
    assert len(os.listdir(root / "Bob")) == photos + 1
    assert not any(n.startswith("Bob (") for n in os.listdir(root)), sorted(os.listdir(root))
    assert invariants.check(lib).ok, invariants.check(lib).problems


def test_a_note_in_an_album_comes_back_with_its_person_after_an_undone_merge(lib, core, three):  # noqa: F811
    a, b, root = _named(lib, core, three)
    photos = len(os.listdir(root / "Bob")) - 1
    run(core, "people.merge", persons=[str(a), str(b)], name="Grandma")
    assert not (root / "Bob").is_symlink() and (root / "Bob" / "notes.txt").exists()  # kept, in a folder
    run(core, "people.undo")
    _bob_is_whole(lib, root, photos)
    assert not (root / "Grandma" / "notes.txt").exists()


def test_a_note_in_an_album_comes_back_when_its_person_is_shown_again(lib, core, three):  # noqa: F811
    _, b, root = _named(lib, core, three)
    photos = len(os.listdir(root / "Bob")) - 1
    run(core, "people.hide", person=str(b))
    (root / "Bob" / "later.txt").write_text("added while hidden")  # the folder is the user's meanwhile
    run(core, "people.unhide", person=str(b))
    assert (root / "Bob" / "later.txt").read_text() == "added while hidden"
    (root / "Bob" / "later.txt").unlink()
    _bob_is_whole(lib, root, photos)


import pytest  # noqa: E402

from clusterids import faults  # noqa: E402


@pytest.mark.parametrize("point", ["albums.carried", "albums.mid_sync"])
def test_a_note_carried_into_an_album_s_new_version_survives_a_sync_cut_short(lib, core, three, monkeypatch,  # noqa: F811
                                                                            point):
    """A rename makes the album a new version and carries the user's note into it; cut short
    there (before or after the manifest was saved), the next sync made the same version again,
    or removed it as an orphan, with the note in it."""
    a, b, root = _named(lib, core, three)
    monkeypatch.setenv(faults.FAULT_ENV, f"{point}:EIO:1")
    with pytest.raises(OSError, match="injected"):
        run(core, "people.rename", person=str(b), name="Bobby")
    monkeypatch.delenv(faults.FAULT_ENV)
    run(core, "people.recluster")  # any later sync
    found = [p for p in root.rglob("notes.txt")]
    assert [p.read_text() for p in found] == ["Bob's birthday"], found
    assert (root / "Bobby" / "notes.txt").exists() or (root / "Bob" / "notes.txt").exists()
    assert invariants.check(lib).ok, invariants.check(lib).problems
