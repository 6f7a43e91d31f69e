"""i22.3: a library on a filesystem too small for the vector engine's files. The engine maps its
segment files into memory and fills them in when it opens them; on a full filesystem that was a
SIGBUS ("Bus error", exit 135, no message) that also left the filesystem full. Now the room is
checked and claimed before the engine opens: one line, "the disk is full (N MB free, N MB needed)"."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..synthetic import add_photos, people_photos, synthetic_library
from .conftest import cli_proc


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 40 MB tmpfs (we run as root in CI); skipped where mounting is not allowed."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(mnt)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'mount failed'})")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_small_filesystem_gives_one_line_not_a_signal(tmp_path: Path, small_disk: Path) -> None:
    with synthetic_library(tmp_path) as lib:
        add_photos(lib, tmp_path / "photos", people_photos(3, 4))
    # sparse, as a user's copy (cp, rsync -S, a restore) makes it: the engine's files are mostly holes
    subprocess.run(["cp", "-a", "--sparse=always", str(tmp_path / "library"), str(small_disk / "library")],
                   check=True)
    env = {"CLUSTERIDS_LIBRARY": str(small_disk / "library"), "CLUSTERIDS_PROGRESS": "false"}
    for command in (["status"], ["watch"]):
        done = cli_proc(env, *command, timeout=60)
        assert done.returncode == 1, (command, done.returncode, done.stderr[-2000:])  # not -7 / 135: SIGBUS
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: the disk is full ("), done.stderr
        assert " MB free, " in lines[0] and " MB needed)" in lines[0], lines[0]
    # nothing was filled in: the filesystem has the room it had
    assert shutil.disk_usage(small_disk).free > 30 << 20
