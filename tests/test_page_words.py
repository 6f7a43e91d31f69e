"""The page's words (issue 19): who was merged into whom, the two-faces warning with its photo,
what an undo undid, who an upload found, and plurals right everywhere.

Runs on the page tests' one library (tests/browser.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .browser import Site, axe_violations, fresh_persons, merge_by_keyboard, needs_chromium, status
from .conftest import LFW, SOLVAY, needs_shared
from .test_daemon import wait_until

# "photo(s)", "1 photos", "2 face": a count with the wrong plural
BAD_PLURAL = re.compile(r"\(s\)|\b1 (photos|faces|persons)\b|\b([02-9]|\d\d+) (photo|face|person)\b")


def said(page: Any, words: str, timeout: float = 30_000) -> str:
    page.wait_for_function(f"document.querySelector('#status').textContent.includes({words!r})", timeout=timeout)
    return status(page)


@needs_shared
@needs_chromium
def test_a_merge_says_who_was_merged_into_whom(site: Site, open_page: Any) -> None:
    newcomer, plain, other = fresh_persons(site, 3)
    site.run("rename", newcomer["id"], "Newcomer Two")
    page = open_page()
    page.drag_and_drop(f".card[data-person='{newcomer['id']}']", f".card[data-person='{plain['id']}']")
    page.click("dialog[open] #confirm-merge")
    # dragged onto an unnamed person, the named one is kept: the message says so
    assert said(page, "merged").startswith(f"Person_{plain['id']} merged into Newcomer Two")
    wait_until(lambda: site.person(plain["id"]) is None, 30, "the drag merge")

    merge_by_keyboard(site, page, other["id"], "Newcomer Two")  # by keyboard, from the other's page
    assert said(page, "merged").startswith(f"Person_{other['id']} merged into Newcomer Two")  # the named one kept
    wait_until(lambda: site.person(other["id"]) is None, 30, "the keyboard merge")
    assert site.person(newcomer["id"])["name"] == "Newcomer Two"


@needs_shared
@needs_chromium
def test_the_two_faces_warning_is_words_with_the_photo(site: Site, open_page: Any) -> None:
    (target,) = fresh_persons(site, 1)
    solvay = site.photo_id(SOLVAY.name)
    two = [f["id"] for f in site.api(f"photos/view?photo={solvay}")["faces"] if f["person"] is None][:2]
    page = open_page("#/unknown")
    for fid in two:
        page.click(f".face[data-face='{fid}'] .pick")
    page.click(f"aside .target[data-person='{target['id']}']")
    text = said(page, "twice")
    assert text.startswith(f"2 faces moved to Person_{target['id']}.")
    assert f"Person_{target['id']} now shows twice in this photo" in text
    assert "photo ids" not in text and not BAD_PLURAL.search(text)
    assert page.locator(f"#status a[href='#/photo/{solvay}'] img").count() == 1  # the photo, one tap away
    site.run("undo")


@needs_shared
@needs_chromium
def test_undo_says_what_it_undid(site: Site, open_page: Any) -> None:
    (person,) = fresh_persons(site, 1)
    fid = site.faces(person["id"])[0]
    page = open_page(f"#/person/{person['id']}")
    page.click(f".face[data-face='{fid}'] button.not-this")
    said(page, "marked as not")
    page.click("#undo")
    assert said(page, "Undone") == f"Undone: 1 face marked as not Person_{person['id']}."
    assert fid in site.faces(person["id"])
    site.run("hide", person["id"])
    page.keyboard.press("u")
    assert said(page, "Undone: hiding") == f"Undone: hiding Person_{person['id']}."


@needs_shared
@needs_chromium
def test_undo_names_the_person_it_took_away(site: Site, open_page: Any) -> None:
    (person,) = fresh_persons(site, 1)
    fid = site.faces(person["id"])[0]
    site.run("assign", fid, "Newly Made")  # a new person, which the undo takes away again
    page = open_page(f"#/person/{person['id']}")
    page.click("#undo")
    assert said(page, "Undone") == "Undone: moving 1 face to Newly Made."
    assert fid in site.faces(person["id"])


@needs_shared
@needs_chromium
def test_the_merge_dialog_offers_persons_to_tap(site: Site, open_page: Any) -> None:
    one, two = fresh_persons(site, 2)
    site.run("rename", two["id"], "Tappy Two")
    page = open_page(f"#/person/{one['id']}", "phone")
    page.click("#merge-with")
    page.wait_for_selector("dialog[open] #merge-choices .pick-person")  # faces to tap, not only a name to know
    assert not axe_violations(page)
    page.fill("dialog[open] #merge-name", "tappy")  # the typed text filters them
    page.wait_for_function("document.querySelectorAll('dialog[open] #merge-choices .pick-person').length === 1")
    page.click(f"dialog[open] .pick-person[data-person='{two['id']}']")
    page.click("dialog[open] #confirm-merge")
    wait_until(lambda: site.person(one["id"]) is None, 30, "the merge")  # the named one is kept
    assert site.person(two["id"])["name"] == "Tappy Two"


@needs_shared
@needs_chromium
def test_what_an_action_far_down_a_phones_page_did_shows_on_the_screen(site: Site, open_page: Any) -> None:
    page = open_page("#/unknown", "phone")
    last = page.locator(".face[data-face]").last
    fid = int(last.get_attribute("data-face"))
    last.scroll_into_view_if_needed()
    assert page.evaluate("document.querySelector('#status').getBoundingClientRect().bottom") < 0  # scrolled away
    last.locator("button.ignore").click()
    said(page, "gnored")
    toast = page.locator("#toast")
    toast.wait_for(state="visible")
    assert toast.inner_text() == status(page)
    box = toast.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"]
    assert fid in [f["id"] for f in site.json("faces", "--ignored")]
    site.run("undo")
    assert fid not in [f["id"] for f in site.json("faces", "--ignored")]


@needs_shared
@needs_chromium
def test_an_upload_says_who_was_found(site: Site, open_page: Any) -> None:
    (person,) = fresh_persons(site, 1)
    site.run("rename", person["id"], "Uma Upload")
    known = Path(site.json("photos", "--person", person["id"])[0])
    have = {p.name for p in site.folder.rglob("*.jpg")}
    new = next(p for p in sorted((LFW / known.parent.name).glob("*.jpg")) if p.name not in have)
    page = open_page()
    page.set_input_files("#upload", str(new))
    text = said(page, "added", timeout=120_000)
    # the other LFW photo may hold strangers too: they are counted, in the right plural
    assert re.fullmatch(r"1 photo added\. Found: Uma Upload( and \d+ unknown faces?)?\.", text), text
    assert not BAD_PLURAL.search(text), text


@needs_shared
@needs_chromium
def test_plurals_are_right_everywhere(site: Site, open_page: Any) -> None:
    (person,) = fresh_persons(site, 1)
    fid = site.faces(person["id"])[0]
    one = site.json("split", person["id"], "--faces", fid)["new"]  # a person of one face in one photo
    page = open_page(f"#/person/{one}")
    page.wait_for_selector("#face-count")
    assert page.inner_text("#face-count") == "1 face in 1 photo"
    photo = page.get_attribute("#timeline a.photo-link", "href")
    seen = []
    for view in ["#/", f"#/person/{one}", f"#/person/{person['id']}", "#/unknown", photo, "#/suggestions",
                 f"#/suggestions/{one}"]:
        page.goto(f"{site.base}/{view}")
        page.wait_for_load_state("networkidle")
        page.wait_for_selector("main#view > *")
        text = page.inner_text("body") + " | " + " | ".join(page.eval_on_selector_all("[alt], [aria-label]",
                                                  "es => es.map(e => e.alt || e.ariaLabel || '')"))
        seen += [f"{view}: {m.group(0)}" for m in BAD_PLURAL.finditer(text)]
    assert seen == []
    site.run("undo")
