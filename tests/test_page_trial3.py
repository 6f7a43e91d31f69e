"""What a third new user's trial of the page found (2026-12-08): Back with a dialog open left the
dialog over the view it went to, a hidden person could not be found by name, a phone was told
of a key ("Undo (u)") and to drop faces it cannot drag, and the birth date's example was not
written as its field shows it. Runs on the page tests' one library (tests/browser.py)."""

from __future__ import annotations

import re
from typing import Any

from .browser import Site, fresh_persons, needs_chromium, status
from .conftest import needs_shared


@needs_shared
@needs_chromium
def test_back_with_a_dialog_open_closes_the_dialog(site: Site, open_page: Any) -> None:
    page = open_page("#/")
    page.locator("#people a.card.person").first.click()
    page.wait_for_selector("#merge-with")
    page.click("#merge-with")
    page.wait_for_selector("dialog[open]")
    page.go_back()
    page.wait_for_selector("#people .card.person")
    assert "#/person/" not in page.url
    page.wait_for_function("document.querySelector('dialog[open]') === null", timeout=5000)


@needs_shared
@needs_chromium
def test_a_hidden_person_is_found_by_name_with_a_way_to_show_them(site: Site, open_page: Any) -> None:
    (person,) = fresh_persons(site, 1)
    site.run("rename", person["id"], "Trial Hidden Finder")
    site.run("hide", person["id"])
    try:
        page = open_page("#/")
        page.fill("#filter", "hidden finder")
        page.wait_for_selector("#hidden-matches")
        assert "1 hidden person does" in page.inner_text("#hidden-matches")
        page.click("#show-hidden-matches")
        page.wait_for_selector(f".card.person[data-person='{person['id']}']")
        assert page.is_checked("#show-hidden")
    finally:
        site.run("unhide", person["id"])


@needs_shared
@needs_chromium
def test_a_phone_is_told_to_tap_and_of_no_key(site: Site, open_page: Any) -> None:
    one, other = fresh_persons(site, 2)
    page = open_page(f"#/person/{one['id']}", "phone")
    page.wait_for_selector("#faces .face .pick")
    assert "Tap faces" in page.inner_text("#move-to") and "Drop faces" not in page.inner_text("#move-to")
    born = page.inner_text("label.born")  # written as the field shows a date: digits in its order
    assert re.search(r"\b(03\D14|14\D03)\D1990\b|\b1990\D03\D14\b", born), born
    face = page.eval_on_selector_all("#faces .face", "fs => fs[0].dataset.face")
    page.click(f"#faces .face[data-face='{face}'] .pick")
    page.click(f"#move-to .target[data-person='{other['id']}']")
    page.wait_for_function("document.querySelector('#status').textContent.includes('moved to')")
    assert "Undo takes it back." in status(page) and "(u)" not in status(page), status(page)
    site.run("undo")


TARGETS = "[...document.querySelectorAll('#move-to .target')].map(t => Number(t.dataset.person))"


@needs_shared
@needs_chromium
def test_the_move_to_list_keeps_its_order_after_a_move(site: Site, open_page: Any) -> None:
    """The person a face went to has more photos then: redrawn, the list must not move it up
    under the finger (or pointer) about to move the next face."""
    one, *_, other = fresh_persons(site, 4)  # the list is by photos: two of as many above the last
    page = open_page(f"#/person/{one['id']}", "phone")
    page.wait_for_selector("#faces .face .pick")
    before = page.evaluate(TARGETS)
    assert before.index(other["id"]) > 0, (before[:10], other)
    face = page.eval_on_selector_all("#faces .face", "fs => fs[0].dataset.face")
    page.click(f"#faces .face[data-face='{face}'] .pick")
    page.click(f"#move-to .target[data-person='{other['id']}']")
    page.wait_for_function("document.querySelector('#status').textContent.includes('moved to')")
    page.wait_for_function(f"document.querySelector('#faces .face[data-face=\"{face}\"]') === null")
    photos = other["photos"] + 1  # the list read again (the move's own redraw, or the library's news after it)
    page.wait_for_function(f"document.querySelector('#move-to .target[data-person=\"{other['id']}\"]')"
                           f"?.textContent.includes('{photos} photos')", timeout=15_000)
    assert page.evaluate(TARGETS) == before
    site.run("undo")


@needs_shared
@needs_chromium
def test_a_tablet_width_never_scrolls_sideways(site: Site, open_page: Any) -> None:
    """Between the phone's layout (700 px and less) and a desktop's, the header was one row wider
    than the window (847 px): every view scrolled sideways on a tablet held upright."""
    page = open_page("#/")
    for width in (701, 740, 768, 820, 900, 1024):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_function(f"window.innerWidth === {width}")
        assert page.evaluate("document.documentElement.scrollWidth") == width, width
        assert page.is_visible("#undo") and page.is_visible("#help"), width
