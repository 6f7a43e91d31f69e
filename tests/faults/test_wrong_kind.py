"""A file of the library where a folder should be, or a folder where a file should be: one line
naming it and what to do, from every command, reads included (the 2026-12-07 fault trial: a
traceback from every command for backups/ a file; from history, doctor, index, rename and
recluster for thumbs/ or inbox/; from recluster for graph.npz a folder)."""

from __future__ import annotations

import shutil

import pytest

from ..synthetic import people_photos
from ..test_cli_words import build, runner


@pytest.mark.parametrize("name", ["backups", "thumbs", "inbox", "albums", "graph.npz", "library.db"])
def test_a_library_entry_of_the_wrong_kind_is_one_line(tmp_path, name):
    env = build(tmp_path, people_photos(2, 3))
    root = tmp_path / "library"
    run = runner(env)
    entry = root / name
    if entry.is_dir():
        shutil.rmtree(entry)
        entry.write_text("x")
        said = f"{entry} is a file where the library keeps a folder"
    else:
        for extra in ("-wal", "-shm"):
            entry.with_name(entry.name + extra).unlink(missing_ok=True)
        entry.unlink(missing_ok=True)
        entry.mkdir()
        said = f"{entry} is a folder where the library keeps a file"
    for command in (["status"], ["people", "--json"], ["history"], ["doctor"], ["rename", "1", "Ada"], ["recluster"]):
        done = run(*command, ok=False)
        assert "Traceback" not in done.output, (command, done.output)
        if done.exit_code and command == ["doctor"] and "error: " not in done.stderr:
            assert "problem" in done.stdout, done.stdout  # doctor's own report of what is wrong
        elif done.exit_code:
            errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
            assert len(errors) == 1 and said in errors[0] and "move it aside" in errors[0], (command, done.stderr)
