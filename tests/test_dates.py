"""Issue 19, dates: every photo gets one, from EXIF, else (XMP, later) the file name, else the
file's modification time marked as estimated; upgraded libraries get theirs at the migration."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import text

from clusterids.app import open_core
from clusterids.config import load_settings
from clusterids.core import operations
from clusterids.store.db import open_engine

from .conftest import lfw_people, needs_shared


@pytest.mark.parametrize("name,when", [
    ("IMG_20190812_153012.jpg", "2019-08-12T15:30:12"),
    ("IMG_20190812_153012_HDR.jpg", "2019-08-12T15:30:12"),
    ("PXL_20190812_153012345.MP.jpg", "2019-08-12T15:30:12"),
    ("20190812_153012.jpg", "2019-08-12T15:30:12"),
    ("2019-08-12 15.30.12.jpg", "2019-08-12T15:30:12"),
    ("2019-08-12 party.jpg", "2019-08-12"),
    ("IMG-20190812-WA0001.jpg", "2019-08-12"),
    ("WhatsApp Image 2019-08-12 at 15.30.12.jpeg", "2019-08-12T15:30:12"),
    ("Screenshot_2019-08-12-15-30-12.png", "2019-08-12T15:30:12"),
    ("Screenshot 2019-08-12 at 15.30.12.png", "2019-08-12T15:30:12"),
    ("signal-2019-08-12-153012.jpg", "2019-08-12T15:30:12"),
    ("BURST20190812153012.jpg", "2019-08-12T15:30:12"),
    ("DSC_0001.JPG", None), ("IMG_1234.jpg", None), ("photo_003.jpg", None),
    ("1565612096123.jpg", None),  # a number, not a date
    ("20191340_101010.jpg", None),  # month 13
    ("20190230.jpg", None),  # 30 February
    ("0000-00-00.jpg", None),
])
def test_dates_in_file_names(name, when):
    from clusterids.dates import from_name

    assert from_name(f"/photos/{name}") == when


@pytest.mark.parametrize("path,when", [
    ("/p/2019-08-12 Rome/a.jpg", ("2019-08-12", "2019-08-12", "2019-08-12")),
    ("/p/2019/08/12/a.jpg", ("2019-08-12", "2019-08-12", "2019-08-12")),
    ("/p/2019/08/a.jpg", ("2019-08-15", "2019-08-01", "2019-08-31")),
    ("/p/2002_05/a.jpg", ("2002-05-15", "2002-05-01", "2002-05-31")),
    ("/p/2002-spring/scan.jpg", ("2002-04-15", "2002-03-01", "2002-05-31")),
    ("/p/Christmas 1987/a.jpg", ("1987-12-15", "1987-12-01", "1987-12-31")),
    ("/p/1975/Summer/Beach/a.jpg", ("1975-07-15", "1975-06-01", "1975-08-31")),  # the season one folder down
    ("/p/Photos 1998-2001/a.jpg", ("1999-07-01", "1998-01-01", "2001-12-31")),
    ("/scans/1975/a.jpg", ("1975-07-01", "1975-01-01", "1975-12-31")),
    ("/p/2019/08/12/party/more/a.jpg", ("2019-08-12", "2019-08-12", "2019-08-12")),
    ("/p/2019/02/30/a.jpg", ("2019-02-15", "2019-02-01", "2019-02-28")),  # no 30 February: the month
    ("/p/Aug 2019/a.jpg", ("2019-08-15", "2019-08-01", "2019-08-31")),
    ("/p/1970s/a.jpg", ("1975-01-01", "1970-01-01", "1979-12-31")),
    ("/p/1920x1080/a.jpg", None), ("/p/DCIM/100CANON/a.jpg", None), ("/p/2099/a.jpg", None),
    ("/home/me/Pictures/a.jpg", None),
])
def test_dates_in_folder_names(path, when):
    from clusterids.dates import from_folders

    assert from_folders(path) == when


def test_a_folder_date_beats_a_copy_s_time_and_yields_to_a_time_inside_it():
    """A scan in "2002-spring" copied in 2026: the folder says when (estimated, "about April
    2002"); a file whose own time lies in that spring keeps it; a whole date is exact."""
    from clusterids.dates import taken

    copied = int(datetime(2026, 1, 5, 9, 0, 0).timestamp() * 1e9)
    inside = int(datetime(2002, 4, 20, 18, 0, 0).timestamp() * 1e9)
    assert taken(None, "/p/2002-spring/scan.jpg", copied) == ("2002-04-15", True)
    assert taken(None, "/p/2002-spring/scan.jpg", inside) == ("2002-04-20T18:00:00", True)
    assert taken(None, "/p/2019-08-12 Rome/scan.jpg", copied) == ("2019-08-12", False)
    assert taken(None, "/p/2019-08-12 Rome/IMG_20190813_101010.jpg", copied) == ("2019-08-13T10:10:10", False)


def test_the_best_source_wins_and_only_a_modification_time_is_estimated():
    from clusterids.dates import taken

    mtime = int(datetime(2015, 6, 1, 12, 0, 0).timestamp() * 1e9)
    assert taken("2006-03-16T00:45:29", "/p/IMG_20190812_153012.jpg", mtime) == ("2006-03-16T00:45:29", False)
    assert taken(None, "/p/IMG_20190812_153012.jpg", mtime, xmp="2001-01-01T10:00:00") == \
        ("2001-01-01T10:00:00", False)
    assert taken(None, "/p/IMG_20190812_153012.jpg", mtime) == ("2019-08-12T15:30:12", False)
    assert taken("0000-00-00T00:00:00", "/p/scan.jpg", mtime) == ("2015-06-01T12:00:00", True)  # EXIF unset
    assert taken(None, "/p/scan.jpg", 0) == (None, True)


def _jpeg_with_exif(src: Path, dest: Path, when: str | None) -> None:
    img = Image.open(src)
    exif = Image.Exif()
    if when:
        exif.get_ifd(0x8769)[36867] = when
    img.save(dest, exif=exif)


@needs_shared
def test_index_dates_every_photo_and_says_which_are_estimated(run, env, tmp_path):
    """Before: a photo without an EXIF date had none ("Date unknown" on every timeline)."""
    faces = lfw_people(3, max_photos=1)
    folder = tmp_path / "dated"
    folder.mkdir()
    _jpeg_with_exif(faces[0], folder / "camera.jpg", "2006:03:16 00:45:29")
    shutil.copy(faces[1], folder / "IMG_20190812_153012.jpg")
    shutil.copy(faces[2], folder / "scan.jpg")
    mtime = datetime(2015, 6, 1, 12, 0, 0).timestamp()
    os.utime(folder / "scan.jpg", (mtime, mtime))
    run("index", folder)
    with open_core(load_settings({}, environ=env)) as core:
        page = core.call(operations.get("people.person"), {"person": "unknown"})
        dates = {(p.taken, p.taken_estimated) for p in page.photos}
        views = {core.photos.view(p.id).name: core.photos.view(p.id) for p in page.photos}
    assert dates == {("2006-03-16T00:45:29", False), ("2019-08-12T15:30:12", False), ("2015-06-01T12:00:00", True)}
    assert views["scan.jpg"].taken_estimated and not views["camera.jpg"].taken_estimated


def test_an_upgraded_library_gets_dates_for_its_photos(database_url, tmp_path):
    """A library of the release before has photos without a date: the migration gives each
    one from its name or its stored modification time (estimated), and mends EXIF's unset one."""
    url = database_url or f"sqlite:///{tmp_path / 'library.db'}"
    mtime = int(datetime(2015, 6, 1, 12, 0, 0).timestamp() * 1e9)
    engine = open_engine(url)
    try:
        with engine.begin() as con:  # as the release before left it
            con.execute(text("ALTER TABLE photos DROP COLUMN taken_estimated"))
            con.execute(text("UPDATE alembic_version SET version_num = 'i16_outbox'"))
            for pid, path, when in ((1, "/p/IMG_20190812_153012.jpg", None), (2, "/p/scan.jpg", None),
                                    (3, "/p/camera.jpg", "2006-03-16T00:45:29"),
                                    (4, "/p/unset.jpg", "0000-00-00T00:00:00")):
                con.execute(text("INSERT INTO photos (id, path, size, mtime_ns, taken_at, status, indexed_at) "
                                 "VALUES (:id, :path, 1, :mtime, :when, 'ok', '2026-11-01 10:00:00')"),
                            {"id": pid, "path": path, "mtime": mtime, "when": when})
    finally:
        engine.dispose()
    engine = open_engine(url)
    try:
        with engine.connect() as con:
            rows = {r[0]: (r[1], bool(r[2])) for r in con.execute(
                text("SELECT id, taken_at, taken_estimated FROM photos ORDER BY id"))}
    finally:
        engine.dispose()
    assert rows == {1: ("2019-08-12T15:30:12", False), 2: ("2015-06-01T12:00:00", True),
                    3: ("2006-03-16T00:45:29", False), 4: ("2015-06-01T12:00:00", True)}
