"""A drive not mounted is no deletion: a photo folder found empty, or one of the library's folders
not there, keeps every photo the library holds from it, with its faces, names and corrections,
and the run says so in one line with what to do; a folder that cannot be read keeps what is
under it. Before, `index` of an empty mount point removed all 31 photos (rc 0), and a later
index of the drive back made new unnamed persons: the names and hand corrections were gone."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..synthetic import add_photos, open_synthetic, people_photos
from ..test_cli_words import build, runner


def _library(tmp_path: Path) -> tuple[dict[str, str], Path]:
    env = build(tmp_path, people_photos(2, 3) + people_photos(1, 3, seed=9))
    run = runner(env)
    people = json.loads(run("people", "--json").stdout)
    run("rename", people[0]["id"], "Grandma")
    return env, tmp_path / "photos"


def _with_folder(env: dict[str, str], folder: Path) -> None:
    """Three more photos of a fourth person, in ``folder``."""
    from clusterids.config import load_settings

    lib = open_synthetic(load_settings({}, environ=env))
    try:
        add_photos(lib, folder, people_photos(1, 3, seed=11), start=100)
    finally:
        lib.close()


def _names(env: dict[str, str]) -> dict[str, int]:
    return {p["name"]: p["faces"] for p in json.loads(runner(env)("people", "--json").stdout) if p["name"]}


def test_an_empty_photo_folder_is_a_drive_not_mounted_and_nothing_is_removed(tmp_path):
    env, photos = _library(tmp_path)
    run = runner(env)
    before = _names(env)
    photos.rename(tmp_path / "away")
    photos.mkdir()  # the mount point, empty
    done = run("index", str(photos), "--json")
    out = json.loads(done.stdout)
    assert out["photos_removed"] == 0
    (warning,) = [w["reason"] for w in out["warnings"]]
    assert f"the folder {photos} is empty" in warning and "9 photos" in warning and "--forget-missing" in warning
    assert "is its drive not mounted" in run("index", str(photos)).output
    assert _names(env) == before
    photos.rmdir()
    (tmp_path / "away").rename(photos)  # mounted again: as it was
    again = json.loads(run("index", str(photos), "--json").stdout)
    assert again["photos_unchanged"] == 9 and again["photos_removed"] == 0 and not again["warnings"]
    assert _names(env) == before


def test_the_photos_of_a_drive_taken_away_for_good_go_when_asked(tmp_path):
    env, photos = _library(tmp_path)
    run = runner(env)
    photos.rename(tmp_path / "away")  # not there at all: said with what the library holds, not "check the path"
    said = run("index", str(photos), ok=False)
    assert said.exit_code == 1 and "holds 9 photos from it" in said.output and "--forget-missing" in said.output
    (tmp_path / "away").rename(photos)
    shutil.rmtree(photos)
    photos.mkdir()
    assert json.loads(run("index", str(photos), "--forget-missing", "--json").stdout)["photos_removed"] == 9
    assert _names(env) == {}


def test_a_folder_of_the_library_not_there_is_kept_and_one_deleted_inside_it_goes(tmp_path):
    """The daemon's catch-up indexes the library's folders even when they are not there: the
    whole folder gone (its drive) keeps its photos; a folder deleted inside one that is there
    is a deletion, as before."""
    from clusterids.config import load_settings
    from clusterids.core import Core

    env, photos = _library(tmp_path)
    sub = photos / "trip"
    _with_folder(env, sub)
    before = _names(env)
    lib = open_synthetic(load_settings({}, environ=env))
    core = Core(lib)
    try:
        shutil.rmtree(sub)
        assert core.library.run_index([str(photos)], missing_ok=True).photos_removed == 3  # deleted: gone
        photos.rename(tmp_path / "away")
        kept = core.library.run_index([str(photos)], missing_ok=True)
        assert kept.photos_removed == 0 and "is not there" in kept.warnings[0].reason
    finally:
        lib.close()
    assert set(_names(env)) == set(before)


def _without_override() -> list[str] | None:
    """How to run a command that the folder permissions bind (root overrides them)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-dac_override,-dac_read_search"] \
        if setpriv else None


def test_a_folder_that_cannot_be_read_keeps_what_the_library_holds_under_it(tmp_path):
    prefix = _without_override()
    if prefix is None:
        pytest.skip("running as root without setpriv: folder permissions cannot bind")
    env, photos = _library(tmp_path)
    sub = photos / "locked"
    _with_folder(env, sub)
    run = runner(env)
    before = _names(env)
    sub.chmod(0)
    try:
        cmd = prefix + [sys.executable, "-m", "clusterids.cli", "index", str(photos), "--json"]
        done = subprocess.run(cmd, env=os.environ | env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        out = json.loads(done.stdout)
        assert out["photos_removed"] == 0, done.stdout
        assert any("cannot read the folder" in f["reason"] for f in out["failures"])
    finally:
        sub.chmod(0o755)
    assert _names(env) == before
    assert json.loads(run("index", str(photos), "--json").stdout)["photos_removed"] == 0


def test_a_path_inside_a_folder_deleted_with_it_is_a_deletion_and_inside_an_absent_drive_is_not(tmp_path):
    """What holds a photo's folder back (scan.held_back): the nearest folder there, when empty (a
    mount point, at any depth: a drive mounted on a sub-folder of the library's), or a library
    folder not there. After ``rm -rf 2019`` the library's folder still holds something: deleted."""
    from clusterids.indexer.scan import held_back

    root = tmp_path / "photos"
    (root / "other").mkdir(parents=True)
    assert held_back(str(root / "2019" / "trip"), [str(root)]) is None
    assert held_back(str(root / "2019"), [str(root)]) is None
    (root / "2003-summer").mkdir()  # a drive's mount point inside the library's folder, unmounted
    assert held_back(str(root / "2003-summer"), [str(root)]) == str(root / "2003-summer")
    assert held_back(str(root / "2003-summer" / "day1"), [str(root)]) == str(root / "2003-summer")
    shutil.rmtree(root)  # the library's own folder not there
    assert held_back(str(root / "2019" / "trip"), [str(root)]) == str(root)
    drive = tmp_path / "mnt" / "d"  # the mount point is there, the library's folder on the drive is not
    drive.mkdir(parents=True)
    (drive / "other-drive-folder").mkdir()
    photos = str(drive / "Photos")
    assert held_back(photos, [photos]) == photos and held_back(photos + "/2020", [photos]) == photos


def test_a_drive_mounted_inside_the_photo_folder_and_taken_away_keeps_its_photos(tmp_path):
    """The trial's nested mount: photos/trip on a drive of its own, unmounted (an empty folder
    left): `index photos` removed its photos and the corrections with them; one line a folder."""
    env, photos = _library(tmp_path)
    sub = photos / "trip"
    _with_folder(env, sub)
    before = _names(env)
    run = runner(env)
    sub.rename(tmp_path / "away")
    sub.mkdir()  # the mount point left behind
    out = json.loads(run("index", str(photos), "--json").stdout)
    assert out["photos_removed"] == 0
    assert [w["reason"] for w in out["warnings"]] == [w["reason"] for w in out["warnings"] if str(sub) in w["reason"]]
    assert len(out["warnings"]) == 1 and "3 photos" in out["warnings"][0]["reason"]
    assert _names(env) == before
