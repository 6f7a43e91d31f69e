"""The web page in a real headless Chromium (Debian's), driven by Playwright, against a real daemon."""

from __future__ import annotations

import io
import os
import shutil
import signal
import zipfile
from pathlib import Path

import httpx
import pytest

from clusterids.outputs.albums import folder_name

from .browser import needs_chromium
from .conftest import lfw_people, needs_shared
from .test_daemon import DaemonProc, quiet, wait_until


@pytest.fixture
def page_and_daemon(env, tmp_path, run, run_json, new_page):
    """A library of its own (these tests count its persons), a daemon, and a logged-in page."""
    folder = tmp_path / "watched"
    for p in lfw_people(4, min_photos=5, max_photos=4):
        (folder / p.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy(p, folder / p.parent.name / p.name)
    run("index", folder)
    run("recluster")
    daemon = DaemonProc(env, folder).start()
    quiet(run_json)
    url = run("ui", "--no-browser").stdout.strip()
    assert "/login?code=" in url
    page = new_page("desktop")
    page.goto(url)
    page.wait_for_selector(".card.person")
    yield page, daemon, url
    if daemon.proc is not None and daemon.proc.poll() is None:
        daemon.stop(signal.SIGKILL)


@needs_shared
@needs_chromium
def test_people_page_corrections_download_upload(page_and_daemon, run_json, env):
    page, daemon, url = page_and_daemon
    albums = Path(env["CLUSTERIDS_LIBRARY"]) / "albums"
    people = run_json("people")
    assert page.locator(".card.person").count() == len(people) == 4

    # the login link works once only
    assert httpx.get(url.replace("localhost", "127.0.0.1"), follow_redirects=False).status_code == 401

    # drag a face onto another person: an assignment, seen through the API and in the albums
    a, b = people[0], people[1]
    face = run_json("faces", "--person", a["id"])[0]
    page.goto(url.split("/login")[0] + f"/#/person/{a['id']}")
    page.wait_for_selector(f".face[data-face='{face['id']}']")
    page.wait_for_load_state("networkidle")
    page.drag_and_drop(f".face[data-face='{face['id']}']", f"aside .target[data-person='{b['id']}']")
    wait_until(lambda: face["id"] in {f["id"] for f in run_json("faces", "--person", b["id"])}, 30, "the assign")
    # the albums follow the commit; reads see the commit first, so wait for them too
    photo = Path(face["photo"]).name
    wait_until(lambda: photo in os.listdir(albums / f"Person_{b['id']}"), 30, "the album after the assign")

    # merge two persons: drag one card onto another
    c, d = people[2], people[3]
    page.close()
    page = page.context.new_page()
    page.goto(url.split("/login")[0] + "/#/")
    page.wait_for_selector(f".card[data-person='{d['id']}']")
    page.wait_for_load_state("networkidle")
    page.drag_and_drop(f".card[data-person='{d['id']}']", f".card[data-person='{c['id']}']")
    page.click("dialog[open] #confirm-merge")  # every merge is confirmed, showing both persons
    wait_until(lambda: len(run_json("people")) == 3, 30, "the merge")
    assert d["id"] not in {p["id"] for p in run_json("people")}
    wait_until(lambda: not (albums / f"Person_{d['id']}").exists(), 30, "the album after the merge")

    # rename in place: the album folder follows
    page.goto(url.split("/login")[0] + f"/#/person/{c['id']}")
    page.wait_for_selector("#rename")
    page.fill("#rename", "Charlie <b>&</b>")
    page.press("#rename", "Enter")
    wait_until(lambda: any(p["name"] == "Charlie <b>&</b>" for p in run_json("people")), 30, "the rename")
    wait_until(lambda: (albums / folder_name(c["id"], "Charlie <b>&</b>")).is_dir(), 30, "the album after the rename")
    page.goto(url.split("/login")[0] + "/#/")
    page.wait_for_selector(".card.person")
    assert page.locator(".card .name", has_text="Charlie <b>&</b>").count() == 1  # shown as text, not HTML

    # download all albums: a zip with a folder per person
    with page.expect_download() as dl:
        page.click("#download-all")
    data = Path(dl.value.path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        folders = {}
        for name in zf.namelist():
            folder, _, file = name.partition("/")
            folders.setdefault(folder, set()).add(file)
    expected = {folder_name(p["id"], p["name"]): p["photos"] for p in run_json("people")}
    assert {k: len(v) for k, v in folders.items()} == expected

    # upload a photo: it lands in the inbox, is indexed, and its face appears under the right person
    known = run_json("photos", "--person", a["id"])[0]
    ident = Path(known).parent.name
    from .conftest import LFW

    new_photo = sorted((LFW / ident).glob("*.jpg"))[4]
    page.set_input_files("#upload", str(new_photo))
    inbox_copy = Path(env["CLUSTERIDS_LIBRARY"]) / "inbox" / new_photo.name
    wait_until(lambda: str(inbox_copy) in run_json("photos", "--person", a["id"]), 90, "the uploaded face")
    page.goto(url.split("/login")[0] + f"/#/person/{a['id']}")
    page.wait_for_selector(".photos img")
    assert page.locator(".photos img").count() == len(run_json("photos", "--person", a["id"]))


@needs_shared
@needs_chromium
def test_page_refuses_without_login_and_uploads_are_checked(page_and_daemon, env):
    page, daemon, url = page_and_daemon
    base = url.split("/login")[0]
    assert httpx.get(base + "/api/v1/people/page").status_code == 401
    token = (Path(env["CLUSTERIDS_LIBRARY"]) / "api.token").read_text()
    auth = {"Authorization": f"Bearer {token}"}
    bad = httpx.post(base + "/api/v1/upload", headers=auth,
                     files={"files": ("../../evil.sh", b"#!/bin/sh\n", "text/plain")})
    assert bad.status_code == 400 and "not a photo" in bad.json()["error"]
    ok = httpx.post(base + "/api/v1/upload", headers=auth,
                    files={"files": ("../../../escape.jpg", lfw_people(1)[0].read_bytes(), "image/jpeg")})
    assert ok.status_code == 200 and ok.json()["saved"] == ["escape.jpg"]
    assert (Path(env["CLUSTERIDS_LIBRARY"]) / "inbox" / "escape.jpg").is_file()
    # only photos the library knows are served, by id
    assert httpx.get(base + "/api/v1/photos/99999.jpg", headers=auth).status_code == 404
    assert httpx.get(base + "/api/v1/faces/99999.jpg", headers=auth).status_code == 404
    assert httpx.get(base + "/..%2F..%2Fetc%2Fpasswd", headers=auth).status_code == 404


@needs_shared
@needs_chromium
def test_split_reject_undo_unknown_and_search(page_and_daemon, run_json):
    page, daemon, url = page_and_daemon
    base = url.split("/login")[0]
    a = run_json("people")[0]
    faces = [f["id"] for f in run_json("faces", "--person", a["id"])]
    assert len(faces) >= 3

    # select two faces and split them into a new person
    page.goto(base + f"/#/person/{a['id']}")
    page.wait_for_selector(f".face[data-face='{faces[0]}']")
    for fid in faces[:2]:
        page.click(f".face[data-face='{fid}'] .pick")
    page.click("#split")
    wait_until(lambda: len(run_json("people")) == 5, 30, "the split")
    new = next(p for p in run_json("people") if p["faces"] == 2 and p["id"] not in (a["id"],))
    assert sorted(f["id"] for f in run_json("faces", "--person", new["id"])) == sorted(faces[:2])

    # "not them" on a face, then undo from the page puts it back
    page.goto(base + f"/#/person/{a['id']}")
    page.wait_for_selector(f".face[data-face='{faces[2]}'] button.not-this")
    page.wait_for_load_state("networkidle")
    page.click(f".face[data-face='{faces[2]}'] button.not-this")
    wait_until(lambda: faces[2] not in {f["id"] for f in run_json("faces", "--person", a["id"])}, 30, "the rejection")
    page.click("#undo")
    wait_until(lambda: faces[2] in {f["id"] for f in run_json("faces", "--person", a["id"])}, 30, "the undo")

    # the unknown faces page lists exactly the faces in no person
    page.goto(base + "/#/unknown")
    page.wait_for_selector("h1:has-text('Unknown faces')")
    page.wait_for_load_state("networkidle")
    shown = page.locator(".face").count() + page.locator("#groups .group").evaluate_all(  # groups show 12 faces
        "gs => gs.reduce((n, g) => n + g.dataset.faces.split(',').length, 0)")
    assert shown == len(run_json("faces", "--unknown"))

    # search by a photo: the person in it comes first
    photo = run_json("photos", "--person", new["id"])[0]
    page.goto(base + "/#/")
    page.wait_for_selector(".card.person")
    page.set_input_files("#search", photo)
    page.wait_for_selector("#search-results .match a")
    assert page.locator("#search-results .match a").first.get_attribute("href") == f"#/person/{new['id']}"


@needs_shared
def test_thumbnails_of_gone_faces_are_pruned(run, run_json, env, photos):
    from clusterids.app import open_library
    from clusterids.config import load_settings
    from clusterids.outputs import thumbs

    run("index", photos)
    run("recluster")
    face_id = run_json("faces")[0]["id"]
    lib = open_library(load_settings({}, environ=env))
    try:
        kept = thumbs.face_thumb(lib, face_id)
        stale = kept.parent / "f999999.jpg"
        stale.write_bytes(kept.read_bytes())
        assert kept.is_file() and stale.is_file()
    finally:
        lib.close()
    run("recluster")
    assert kept.is_file() and not stale.exists()
