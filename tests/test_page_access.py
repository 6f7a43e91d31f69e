"""The page on a phone and by keyboard (issue 19): the "More" menu, targets of 44 px that their
text fits, the selection bar on screen, the faces shown while naming them, no key hints on a
touch screen, "Move to" in a few keys, and axe-core clean (any impact) on every view at both sizes.

Runs on the page tests' one library (tests/browser.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from .browser import (
    Site,
    axe_violations,
    fresh_persons,
    needs_chromium,
    overflowing_text,
    overlapping,
    sideways,
    small_targets,
)
from .conftest import LFW, SOLVAY, needs_shared
from .test_daemon import wait_until

COVERED = "([x, y, sel]) => !!document.elementFromPoint(x, y)?.closest(sel)"


def uncovered(page: Any, selector: str) -> bool:
    """Whether the middle of ``selector`` is itself what a tap there hits."""
    b = page.locator(selector).bounding_box()
    return bool(page.evaluate(COVERED, [b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, selector]))


@needs_shared
@needs_chromium
def test_the_phone_menu_closes_after_navigating_and_covers_no_heading(site: Site, open_page: Any) -> None:
    page = open_page("#/", "phone")
    page.click("#more")
    assert page.is_visible("#tools")
    assert overlapping([page.locator("#tools").bounding_box(), page.locator("main h1").bounding_box()]) == []
    assert uncovered(page, "main h1")
    page.click("#nav-unknown")
    page.wait_for_selector("main h1:has-text('Unknown faces')")
    assert not page.is_visible("#tools") and page.get_attribute("#more", "aria-expanded") == "false"
    page.click("#more")
    page.click("main h1")  # a tap elsewhere closes it too
    assert not page.is_visible("#tools")


@needs_shared
@needs_chromium
def test_on_a_phone_the_selection_stays_in_reach_and_naming_shows_the_faces(site: Site, open_page: Any) -> None:
    page = open_page("#/unknown", "phone")
    picks = page.locator("#faces .face .pick")
    ids = [int(x) for x in page.eval_on_selector_all("#faces .face", "fs => fs.slice(0, 2).map(f => f.dataset.face)")]
    picks.nth(0).tap()
    picks.nth(1).tap()
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    b = page.locator("#move-selected").bounding_box()
    assert b["y"] >= 0 and b["y"] + b["height"] <= 844 and uncovered(page, "#move-selected")
    page.locator("#move-selected").tap()
    page.wait_for_selector("dialog[open] #assign-name")
    shown = page.eval_on_selector_all("dialog[open] #naming-faces img", "is => is.map(i => i.getAttribute('src'))")
    assert [s.rsplit("/", 1)[1] for s in shown] == [f"{i}.jpg" for i in ids]
    assert all(w >= 44 for w in page.eval_on_selector_all("dialog[open] #naming-faces img",
                                                          "is => is.map(i => i.getBoundingClientRect().width)"))
    page.keyboard.press("Escape")


@needs_shared
@needs_chromium
def test_no_key_hints_on_a_touch_screen(site: Site, open_page: Any) -> None:
    person = site.json("people")[0]
    for size, shown in (("desktop", True), ("phone", False)):
        page = open_page(f"#/suggestions/{person['id']}", size)
        page.wait_for_selector("#queue > *")
        assert ("Answer with y, n or k" in page.inner_text("main")) is shown, size
        assert all(page.is_visible(f"main kbd >> nth={i}") is shown for i in range(page.locator("main kbd").count()))


@needs_shared
@needs_chromium
def test_move_to_is_a_few_keys_from_the_first_unknown_face(site: Site, open_page: Any) -> None:
    page = open_page("#/unknown")
    fid = int(page.get_attribute("#faces .face >> nth=0", "data-face"))
    page.focus("#faces .face .pick >> nth=0")
    page.keyboard.press(" ")  # select it
    page.keyboard.press("t")  # to the "Move to" persons
    target = page.evaluate("document.activeElement.closest('#move-to .target')?.dataset.person")
    assert target is not None
    page.keyboard.press("Enter")
    wait_until(lambda: fid in site.faces(int(target)), 30, "the face moved by keyboard")
    site.run("undo")


@pytest.mark.parametrize("size", ["desktop", "phone"])
@needs_shared
@needs_chromium
def test_every_view_passes_axe_and_has_targets_that_fit(site: Site, open_page: Any, size: str) -> None:
    person = site.json("people")[0]
    solvay = site.photo_id(SOLVAY.name)
    page = open_page("#/", size)
    found: dict[str, list[str]] = {}

    def check(name: str) -> None:
        page.wait_for_load_state("networkidle")
        page.wait_for_selector("main#view > *")
        assert page.title().endswith("ClusterIdentities"), name
        found[name] = axe_violations(page) + small_targets(page) + overflowing_text(page)
        if size == "phone":
            assert sideways(page) == 0, name
            if not page.locator("dialog[open], header.open").count():  # the header is one row
                assert page.evaluate("document.querySelector('header').getBoundingClientRect().height") <= 84.4, name

    for h in ["#/", f"#/person/{person['id']}", "#/unknown", "#/suggestions", f"#/suggestions/{person['id']}",
              "#/person/99999", f"#/photo/{solvay}?from=unknown"]:
        page.goto(f"{site.base}/{h}")
        check(h)
    page.keyboard.press("?")
    page.wait_for_selector("dialog[open] dl.keys")
    check("the keys")
    page.keyboard.press("Escape")
    page.goto(f"{site.base}/#/person/{person['id']}")
    page.wait_for_selector("#faces .face .pick")
    page.click("#faces .face .pick >> nth=0")
    page.click("#move-selected")
    page.wait_for_selector("dialog[open] #assign-name")
    check("naming faces")
    page.keyboard.press("Escape")
    one, two = fresh_persons(site, 2)  # two names: the merge asks which one is kept
    site.run("rename", one["id"], f"Axe One {size}")
    site.run("rename", two["id"], f"Axe Two {size}")
    page.goto(f"{site.base}/#/person/{one['id']}")
    page.reload()  # the same person may be on screen already, drawn before the rename
    page.wait_for_function(f"document.querySelector('#rename')?.value === 'Axe One {size}'")  # this page, drawn
    page.click("#merge-with")
    page.fill("dialog[open] #merge-name", f"Axe Two {size}")
    page.keyboard.press("Enter")
    page.wait_for_selector("dialog[open] input[name=keep-name]")
    check("a merge")
    page.keyboard.press("Escape")
    page.set_input_files("#search", str(sorted(LFW.glob("*/*.jpg"))[0]))
    page.wait_for_selector("#search-results .result")
    check("a search")
    if size == "phone":
        page.click("#more")
        check("the menu")
    assert {k: v for k, v in found.items() if v} == {}


@needs_shared
@needs_chromium
def test_a_long_dialog_opens_at_its_title_on_a_phone(site: Site, open_page: Any) -> None:
    page = open_page("#/", "phone")
    page.keyboard.press("?")  # the shortcuts: longer than a phone's screen, its button at the end
    page.wait_for_selector("dialog[open] dl.keys")
    top = page.evaluate("document.querySelector('#dialog-title').getBoundingClientRect().top")
    assert 0 <= top < page.viewport_size["height"] / 2  # the title in sight, not scrolled away by the focus
    assert page.evaluate("document.activeElement.textContent") == "Close"  # the focus where it was
    page.keyboard.press("Escape")
