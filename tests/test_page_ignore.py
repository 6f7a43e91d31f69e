"""Ignoring faces on the page (issue 18): one face or a selection from the unknown faces and a
person's faces, a stranger from the viewer's strip, and a crowd's small faces at once; the
counts follow. Runs on the page tests' one library (tests/browser.py): each test undoes what it
did, so the others find the library as it was.
"""

from __future__ import annotations

from typing import Any

from .browser import Site, fresh_persons, needs_chromium
from .conftest import SOLVAY, needs_shared


def unknown_count(site: Site) -> int:
    return int(site.api("people/page?limit=1")["unknown"])


def ignored(site: Site) -> set[int]:
    return {f["id"] for f in site.json("faces", "--ignored")}


@needs_shared
@needs_chromium
def test_ignoring_from_the_unknown_page_lowers_the_count(site: Site, open_page: Any) -> None:
    before = unknown_count(site)
    page = open_page("#/unknown")
    assert page.inner_text("#unknown-title") == f"Unknown faces ({before})"
    first = page.locator("#faces .face").first
    one = int(first.get_attribute("data-face"))
    first.locator("button.ignore").click()
    page.wait_for_selector(f"#unknown-title:text-is('Unknown faces ({before - 1})')")
    assert page.locator(f"#faces [data-face='{one}']").count() == 0
    assert "ignored" in page.inner_text("#status")

    picks = page.locator("#faces .face .pick")  # a selection: one correction
    two = [int(x) for x in page.eval_on_selector_all("#faces .face", "fs => fs.slice(0, 2).map(f => f.dataset.face)")]
    picks.nth(0).click()
    picks.nth(1).click()
    page.click("#ignore-selected")
    page.wait_for_selector(f"#unknown-title:text-is('Unknown faces ({before - 3})')")
    assert page.inner_text("#face-count").startswith(f"{before - 3} face")
    assert unknown_count(site) == before - 3 and ignored(site) >= {one, *two}

    page.goto(site.base + "/#/")  # the people page's link to the unknown faces follows too
    page.wait_for_selector(f"a[href='#/unknown']:has-text('{before - 3} unknown faces')")
    site.run("undo")
    site.run("undo")
    assert unknown_count(site) == before and not ignored(site) & {one, *two}


@needs_shared
@needs_chromium
def test_ignoring_a_persons_face_takes_it_out_of_them(site: Site, open_page: Any) -> None:
    person = fresh_persons(site, 1)[0]
    page = open_page(f"#/person/{person['id']}")
    face = int(page.locator("#faces .face").first.get_attribute("data-face"))
    page.locator("#faces .face .pick").first.click()
    page.click("#ignore-selected")
    page.wait_for_selector(f"#faces [data-face='{face}']", state="detached")
    assert site.person(person["id"])["faces"] == person["faces"] - 1 and face in ignored(site)
    site.run("undo")
    assert site.person(person["id"])["faces"] == person["faces"] and face not in ignored(site)


@needs_shared
@needs_chromium
def test_the_viewer_ignores_a_stranger_and_a_crowds_small_faces(site: Site, open_page: Any) -> None:
    before = unknown_count(site)
    photo = site.photo_id(SOLVAY.name)
    view = site.api(f"photos/view?photo={photo}")
    strangers = [f for f in view["faces"] if f["person"] is None and not f["ignored"]]
    sides = sorted(min(f["bbox"][2] - f["bbox"][0], f["bbox"][3] - f["bbox"][1]) for f in view["faces"])
    bound = max(sides[-1] / 2, sides[len(sides) // 2])  # a crowd: the smaller half, and the background
    small = {f["id"] for f in strangers
             if min(f["bbox"][2] - f["bbox"][0], f["bbox"][3] - f["bbox"][1]) < bound}
    assert len(view["faces"]) >= 6 and small

    page = open_page(f"#/photo/{photo}")
    page.wait_for_selector("#strip .strip-face")
    assert page.inner_text("#ignore-small") == f"Ignore the {len(small)} small face{'s' * (len(small) != 1)}"
    page.click("#ignore-small")
    page.wait_for_selector(f"#strip .strip-face[data-face='{min(small)}'] .who:text-is('ignored')")
    assert ignored(site) == small and unknown_count(site) == before - len(small)
    assert page.locator("#ignore-small").count() == 0  # the smaller half is ignored: nothing left to offer

    stranger = next(f["id"] for f in strangers if f["id"] not in small)  # one in front, from the strip
    page.click(f"#strip .strip-face[data-face='{stranger}'] button.ignore")
    page.wait_for_selector(f"#strip .strip-face[data-face='{stranger}'] .who:text-is('ignored')")
    assert stranger in ignored(site)
    page.click(f"#strip .strip-face[data-face='{stranger}'] button.ignore")  # "Take back"
    page.wait_for_selector(f"#strip .strip-face[data-face='{stranger}'] button.ignore:text-is('Ignore')")
    assert stranger not in ignored(site)
    for _ in range(3):  # the take-back, the stranger, the crowd
        site.run("undo")
    assert ignored(site) == set() and unknown_count(site) == before
