"""What a second new user's trial of the page found: a photo viewer left by the browser's Back
only, name dialogs whose field opened a phone's keyboard over the persons to tap, messages that
did not say where a hidden person or a face taken away went, a mark dialog without the box drawn,
a viewer whose order was not the face grid's, and a people filter that Enter did not open. Runs
on the page tests' one library (tests/browser.py).
"""

from __future__ import annotations

import re
from typing import Any

from .browser import Site, axe_violations, fresh_persons, needs_chromium, sideways, small_targets, status
from .conftest import needs_shared
from .test_daemon import wait_until
from .test_page_mark import _drag, _photo_of

# the photos of the face grid's "Photo" links, in the grid's order (each once)
GRID_PHOTOS = """[...new Set([...document.querySelectorAll('#faces .face .actions a')]
  .map(a => Number(/#\\/photo\\/(\\d+)/.exec(a.getAttribute('href'))[1])))]"""

FOCUSED = "document.activeElement === document.querySelector('dialog[open]') ? 'the dialog' : document.activeElement.id"


def _viewer_at(page: Any, photo: int) -> None:
    page.wait_for_url(re.compile(rf"#/photo/{photo}\?"))
    page.wait_for_selector("#photo-close")
    page.wait_for_load_state("networkidle")


@needs_shared
@needs_chromium
def test_the_viewer_closes_by_its_button_or_escape_back_to_the_face_that_opened_it(site: Site,
                                                                                  open_page: Any) -> None:
    (person,) = fresh_persons(site, 1)
    page = open_page(f"#/person/{person['id']}")
    page.wait_for_selector("#faces .face .actions a")
    fid = page.eval_on_selector_all("#faces .face", "fs => fs.map(f => f.dataset.face)")[0]
    link = f"#faces .face[data-face='{fid}'] .actions a"
    photo = int(re.search(r"#/photo/(\d+)", page.get_attribute(link, "href")).group(1))  # type: ignore[union-attr]
    page.focus(link)
    page.keyboard.press("Enter")  # by the keyboard: the focus must come back to this link
    _viewer_at(page, photo)
    assert page.is_visible("#photo-close") and page.inner_text("#photo-close") == "Close"
    assert axe_violations(page) == [] and small_targets(page) == []
    page.click("#photo-close")
    page.wait_for_selector("#rename")
    page.wait_for_function(f"document.activeElement.closest(\".face[data-face='{fid}']\") !== null"
                           " && document.activeElement.tagName === 'A'")
    assert page.url.endswith(f"#/person/{person['id']}")

    page.keyboard.press("Enter")  # again, a step to the next photo, then Escape: the same way out
    _viewer_at(page, photo)
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"!location.hash.startsWith('#/photo/{photo}?')")
    page.wait_for_function("document.querySelector('#photo-place')?.textContent.startsWith('2 of')")
    page.keyboard.press("Escape")
    page.wait_for_selector("#rename")
    page.wait_for_function(f"document.activeElement.closest(\".face[data-face='{fid}']\") !== null")
    page.go_back()  # the viewer was one entry of the history, stepped or not: Back leaves the person
    page.wait_for_function(f"location.hash !== '#/person/{person['id']}'")
    assert "#/photo/" not in page.url

    # a viewer opened from outside the page (a bookmark: no view of this page opened it) goes to its list
    page.goto(f"{site.base}/#/photo/{photo}?from=faces/{person['id']}")
    _viewer_at(page, photo)
    page.evaluate("history.replaceState({}, '')")
    page.click("#photo-close")
    page.wait_for_url(re.compile(rf"#/person/{person['id']}$"))


@needs_shared
@needs_chromium
def test_closing_the_viewer_on_a_phone_returns_to_the_place_left(site: Site, open_page: Any) -> None:
    person = site.json("people")[0]  # the one with five photos: its timeline is below its faces
    page = open_page(f"#/person/{person['id']}", "phone")
    last = page.locator("#timeline a.photo-link").last
    last.scroll_into_view_if_needed()
    page.wait_for_timeout(200)
    left = page.evaluate("window.scrollY")
    assert left > 300
    href = last.get_attribute("href")
    last.tap()
    _viewer_at(page, int(re.search(r"#/photo/(\d+)", href).group(1)))  # type: ignore[union-attr]
    assert sideways(page) == 0
    page.tap("#photo-close")
    page.wait_for_selector("#timeline a.photo-link")
    page.wait_for_function(f"Math.abs(window.scrollY - {left}) < 2")
    assert page.evaluate("document.activeElement.getAttribute('href')") == href


@needs_shared
@needs_chromium
def test_on_a_phone_the_name_dialogs_open_without_the_keyboard(site: Site, open_page: Any) -> None:
    (person,) = fresh_persons(site, 1)
    for size in ("phone", "desktop"):
        page = open_page(f"#/person/{person['id']}", size)
        page.click("#merge-with")
        page.wait_for_selector("dialog[open] #merge-choices .pick-person")
        focused = page.evaluate(FOCUSED)
        if size == "phone":  # no field focused: no keyboard over the persons to tap
            assert focused == "the dialog"
            assert page.evaluate("document.querySelector('#dialog-title').getBoundingClientRect().top") >= 0
            assert axe_violations(page) == []
            page.tap("dialog[open] #merge-name")  # the field one tap away
            assert page.evaluate("document.activeElement.id") == "merge-name"
        else:
            assert focused == "merge-name"  # typing first, as before
        page.keyboard.press("Escape")
        page.wait_for_function("!document.querySelector('dialog[open]')")
        page.click("#faces .face .pick >> nth=0")
        page.click("#move-selected")
        page.wait_for_selector("dialog[open] #assign-choices .pick-person")
        assert page.evaluate(FOCUSED) == ("the dialog" if size == "phone" else "assign-name")
        page.keyboard.press("Escape")


@needs_shared
@needs_chromium
def test_hiding_and_not_them_say_where_the_person_and_the_face_went(site: Site, open_page: Any) -> None:
    (person,) = fresh_persons(site, 1)
    page = open_page(f"#/person/{person['id']}")
    fid = site.faces(person["id"])[0]
    page.click(f".face[data-face='{fid}'] .not-this")
    page.wait_for_function("document.querySelector('#status').textContent.includes('marked as not')")
    assert f"1 face marked as not Person_{person['id']}: it is in Unknown faces now. Undo reverts it." in status(page)
    page.wait_for_load_state("networkidle")
    page.click("#hide")
    page.wait_for_function("document.querySelector('#status').textContent.includes('is hidden')")
    hidden = f"Person_{person['id']} is hidden: \u201cShow hidden\u201d on People shows them again."
    assert status(page).startswith(hidden)
    assert "Undo reverts it." in status(page)
    wait_until(lambda: site.person(person["id"])["hidden"], 30, "the hide")
    site.run("undo")
    site.run("undo")


@needs_shared
@needs_chromium
def test_the_mark_dialog_shows_the_box_drawn(site: Site, open_page: Any) -> None:
    (person,) = fresh_persons(site, 1)
    photo = _photo_of(site, person["id"], alone=True)
    page = open_page(f"#/photo/{photo}")
    page.wait_for_selector("#viewer .box")
    page.wait_for_function("document.querySelector('#viewer img').complete")
    page.click("#mark-face")
    _drag(page, "desktop", (0.04, 0.04), (0.3, 0.44))  # taller than wide
    page.wait_for_selector("dialog[open] #mark-name")
    crop = page.wait_for_selector("dialog[open] #naming-faces canvas#mark-crop")
    w, h = (int(crop.get_attribute(k)) for k in ("width", "height"))  # type: ignore[arg-type]
    aspect = page.evaluate("(() => { const r = document.querySelector('#viewer').getBoundingClientRect(); "
                           "return r.width / r.height; })()")
    assert h == 96 and abs(w / h - 0.26 / 0.40 * aspect) < 0.05
    # drawn from the photo: pixels of more than one colour (a blank canvas has one)
    colours = page.evaluate("""(() => { const c = document.querySelector('#mark-crop');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, seen = new Set();
        for (let i = 0; i < d.length; i += 4) seen.add(`${d[i]},${d[i + 1]},${d[i + 2]},${d[i + 3]}`);
        return seen.size; })()""")
    assert colours > 20
    assert axe_violations(page) == []
    page.keyboard.press("Escape")  # cancelled: nothing marked
    page.wait_for_function("!document.querySelector('dialog[open]')")


@needs_shared
@needs_chromium
def test_the_viewer_opened_from_the_face_grid_steps_in_the_grids_order(site: Site, open_page: Any) -> None:
    page = open_page()
    for p in site.json("people"):  # a person whose faces and timeline are in different orders
        page.goto(f"{site.base}/#/person/{p['id']}")
        page.wait_for_function(f"document.querySelector('#rename')?.placeholder === 'Person_{p['id']}'")
        page.wait_for_selector("#timeline a.photo-link")
        grid = page.evaluate(GRID_PHOTOS)
        links = page.eval_on_selector_all("#timeline a.photo-link", "as => as.map(a => a.getAttribute('href'))")
        timeline = [int(re.search(r"#/photo/(\d+)", h).group(1)) for h in links]  # type: ignore[union-attr]
        if len(grid) >= 3 and grid != timeline:
            break
    else:
        raise AssertionError("no person of the test library has faces in another order than their photos")
    page.click("#faces .face .actions a >> nth=0")
    for i, photo in enumerate(grid[:3]):
        _viewer_at(page, photo)
        page.wait_for_function(f"document.querySelector('#photo-place')?.textContent === '{i + 1} of {len(grid)}'")
        page.keyboard.press("ArrowRight")


# the persons of the people grid, in its order
CARDS = "[...document.querySelectorAll('#people .card.person')].map(c => Number(c.dataset.person))"


def _left(page: Any) -> None:
    """Marks the people grid shown now: the one Back leaves on the screen while its own loads."""
    page.evaluate("document.querySelector('#people').dataset.left = '1'")


def _back_in(page: Any, ids: list[int]) -> None:
    """Waits for the grid that Back draws (not the one left, still shown while it loads: a field
    filled there before Back's view comes is a field filled twice) to show the persons ``ids``."""
    page.wait_for_function(f"document.querySelector('#people:not([data-left])') !== null"
                           f" && {CARDS}.length === {len(ids)} && {CARDS}.every(id => {ids}.includes(id))")


@needs_shared
@needs_chromium
def test_enter_in_the_people_filter_opens_the_match(site: Site, open_page: Any) -> None:
    one, two = fresh_persons(site, 2)
    site.run("rename", one["id"], "Trial Enterprise")
    site.run("rename", two["id"], "Trial Enterprising")
    page = open_page()
    page.focus("#filter")
    page.keyboard.type("enterprise")  # Enter at once, before the list follows the typing
    _left(page)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"#/person/{one['id']}$"))
    page.go_back()
    _back_in(page, [one["id"]])
    assert page.input_value("#filter") == "enterprise"
    page.fill("#filter", "trial enterpris")  # two match: the first shown opens
    page.wait_for_function(f"{CARDS}.length === 2 && {CARDS}.every(id => [{one['id']}, {two['id']}].includes(id))")
    first = page.locator("#people .card.person").first.get_attribute("data-person")
    page.focus("#filter")
    _left(page)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"#/person/{first}$"))
    page.go_back()
    _back_in(page, [one["id"], two["id"]])
    page.fill("#filter", "nobody is called this")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('#status').textContent.includes('Nobody matches')")
    assert "#/person/" not in page.url
    page.fill("#filter", "")
    page.wait_for_timeout(400)
