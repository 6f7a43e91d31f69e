"""The photo viewer of issue 19: a crowd workable on a phone, zoom and pan, previous and next,
dates as people read them, and search by a photo shown on the photo.

Runs on the page tests' one library (tests/browser.py), which holds the Solvay group photo.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .browser import DATED, Site, needs_chromium, overlapping, sideways
from .conftest import SOLVAY, needs_shared

# The matrix of the zoomed canvas: a = the scale, e and f = the translation.
MATRIX = "new DOMMatrix(getComputedStyle(document.querySelector('#viewer .canvas')).transform)"
# The elements in the stage that show text (the boxes' labels), as rectangles.
LABELS = """[...document.querySelectorAll('#viewer *')]
  .filter(e => e.offsetParent !== null && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
  .map(e => e.getBoundingClientRect().toJSON())"""
ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d|\d{4}:\d{2}:\d{2}")


def zoom(page: Any) -> float:
    return float(page.evaluate(f"{MATRIX}.a"))


def shift(page: Any) -> tuple[float, float]:
    e, f = page.evaluate(f"[{MATRIX}.e, {MATRIX}.f]")
    return float(e), float(f)


def touches(page: Any, *frames: list[tuple[float, float]]) -> None:
    """Real touches through Chromium's input (DevTools): the first frame starts, the last ends."""
    cdp = page.context.new_cdp_session(page)
    for i, frame in enumerate(frames):
        kind = "touchStart" if i == 0 else "touchEnd" if i == len(frames) - 1 else "touchMove"
        points = [] if kind == "touchEnd" else [{"x": x, "y": y, "id": n} for n, (x, y) in enumerate(frame)]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})
    cdp.detach()


def centre(page: Any, selector: str) -> tuple[float, float]:
    b = page.locator(selector).bounding_box()
    return b["x"] + b["width"] / 2, b["y"] + b["height"] / 2


def open_photo(open_page: Any, photo: int, size: str, from_: str = "") -> Any:
    page = open_page(f"#/photo/{photo}{'?from=' + from_ if from_ else ''}", size)
    page.wait_for_selector("#viewer .box")
    page.wait_for_function("document.querySelector('#viewer img').complete")
    return page


@needs_shared
@needs_chromium
def test_the_solvay_photo_is_workable_on_a_phone(site: Site, open_page: Any) -> None:
    photo = site.photo_id(SOLVAY.name)
    faces = site.api(f"photos/view?photo={photo}")["faces"]
    assert len(faces) == 29
    page = open_photo(open_page, photo, "phone", "unknown")
    assert sideways(page) == 0
    assert page.locator("#viewer .box").count() == 29
    assert page.evaluate(LABELS) == []  # no text on the photo until a face is chosen
    for f in faces:  # every face is a target of 44 px at least, under the photo, that nothing covers
        crop = page.locator(f"#strip [data-face='{f['id']}'] .crop")
        crop.scroll_into_view_if_needed()
        b = crop.bounding_box()
        assert b["width"] >= 44 and b["height"] >= 44, f
        hit = page.evaluate("([x, y]) => document.elementFromPoint(x, y)?.closest('.strip-face')?.dataset.face",
                            [b["x"] + b["width"] / 2, b["y"] + b["height"] / 2])
        assert hit == str(f["id"])
        crop.focus()  # its box is marked and its name shown: one label, never two
        assert "active" in page.get_attribute(f"#viewer .box[data-face='{f['id']}']", "class").split()
        labels = page.evaluate(LABELS)
        assert len(labels) == 1 and overlapping(labels) == []
        assert page.inner_text("#box-label") == "unknown"
    assert sideways(page) == 0
    # a tap on a face in the strip names it, showing the face being named
    first = faces[0]["id"]
    page.locator(f"#strip [data-face='{first}'] .crop").tap()
    page.wait_for_selector("dialog[open] #assign-name")
    assert page.get_attribute("dialog[open] #naming-faces img", "src").endswith(f"/faces/{first}.jpg")
    page.keyboard.press("Escape")


@needs_shared
@needs_chromium
def test_zoom_and_pan_by_wheel_keys_double_click_pinch_and_double_tap(site: Site, open_page: Any) -> None:
    photo = site.photo_id(SOLVAY.name)
    page = open_photo(open_page, photo, "desktop")
    x, y = centre(page, "#viewer")
    assert zoom(page) == 1
    page.mouse.move(x, y)
    page.mouse.wheel(0, -500)
    page.wait_for_function(f"{MATRIX}.a > 1")
    page.keyboard.press("0")
    assert zoom(page) == 1
    page.keyboard.press("+")
    assert zoom(page) > 1
    before = shift(page)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 80, y + 40, steps=5)
    page.mouse.up()
    assert shift(page) != before  # dragged
    before, url = shift(page), page.url
    page.keyboard.press("ArrowLeft")
    assert shift(page) != before and page.url == url  # zoomed, the arrows move the photo
    page.click("#zoom-fit")
    assert zoom(page) == 1
    page.mouse.dblclick(x, y)
    assert zoom(page) > 1
    page.keyboard.press("-")
    page.keyboard.press("0")
    assert zoom(page) == 1

    phone = open_photo(open_page, photo, "phone")
    x, y = centre(phone, "#viewer")
    touches(phone, [(x - 20, y), (x + 20, y)], [(x - 60, y), (x + 60, y)], [(x - 100, y), (x + 100, y)], [])
    assert zoom(phone) > 1  # pinched
    phone.click("#zoom-fit")
    touches(phone, [(x, y)], [])
    touches(phone, [(x, y)], [])
    assert zoom(phone) > 1  # double tap
    assert sideways(phone) == 0


@needs_shared
@needs_chromium
def test_previous_and_next_through_the_list_it_was_opened_from(site: Site, open_page: Any) -> None:
    person = site.json("people")[0]
    page = open_page(f"#/person/{person['id']}", "desktop")
    page.wait_for_selector("#timeline a.photo-link")
    order = [int(re.search(r"#/photo/(\d+)", h).group(1))  # type: ignore[union-attr]
             for h in page.eval_on_selector_all("#timeline a.photo-link", "as => as.map(a => a.getAttribute('href'))")]
    assert len(order) >= 3

    def at(page: Any, i: int) -> None:  # the viewer drawn for the i-th photo of the list
        page.wait_for_url(re.compile(rf"#/photo/{order[i]}\?"))
        page.wait_for_function(f"document.querySelector('#photo-place')?.textContent === '{i + 1} of {len(order)}'")

    page.locator("#timeline a.photo-link").first.click()
    at(page, 0)
    assert page.locator("#photo-prev").count() == 0
    page.keyboard.press("ArrowRight")
    at(page, 1)
    assert page.locator("#photo-prev").count() == 1
    page.keyboard.press("ArrowLeft")
    at(page, 0)
    page.click("#photo-next")
    at(page, 1)
    page.go_back()  # Back leaves the viewer for the list
    page.wait_for_selector("#timeline")

    phone = open_page(f"#/photo/{order[1]}?from=person/{person['id']}", "phone")
    phone.wait_for_selector("#viewer .canvas img")
    x, y = centre(phone, "#viewer")
    touches(phone, [(x + 80, y)], [(x + 20, y)], [(x - 40, y)], [(x - 80, y)], [])
    at(phone, 2)  # swiped to the next


@needs_shared
@needs_chromium
def test_dates_read_as_people_read_them(site: Site, open_page: Any) -> None:
    dated = next(f for f in site.json("faces") if Path(f["photo"]).name.endswith("_0005.jpg"))
    assert dated["person"] is not None
    photo = site.photo_id(Path(dated["photo"]).name)
    page = open_page(f"#/person/{dated['person']}", "desktop")
    page.wait_for_selector("#timeline a.photo-link")
    assert "March 2006" in page.eval_on_selector_all("#timeline h3", "hs => hs.map(h => h.textContent)")
    link = f"#timeline a:is([href='#/photo/{photo}'], [href^='#/photo/{photo}?']) img"
    alt = page.get_attribute(link, "alt")
    assert alt.endswith(", 16 March 2006")
    alts = page.eval_on_selector_all("img", "is => is.map(i => i.alt).join(' ')")
    assert not ISO.search(page.inner_text("body") + alts)
    page.goto(f"{site.base}/#/photo/{photo}")
    page.wait_for_selector("#photo-meta")
    assert page.inner_text("#photo-meta").startswith("16 March 2006 · ")
    assert not ISO.search(page.inner_text("body"))

    # a date the daemon marks as estimated (from XMP, the file name or its time) says so
    def estimated(route: Any) -> None:
        body = route.fetch().json()
        for p in [body, *body.get("photos", [])]:
            if p.get("taken"):
                p["taken_estimated"] = True
        route.fulfill(body=json.dumps(body), content_type="application/json")

    page.route("**/api/v1/people/person?*", estimated)
    page.route("**/api/v1/photos/view?*", estimated)
    page.reload()
    page.wait_for_selector("#photo-meta")
    assert page.inner_text("#photo-meta").startswith("about March 2006 · ")
    page.goto(f"{site.base}/#/person/{dated['person']}")
    page.wait_for_selector("#timeline a.photo-link")
    assert "about March 2006" in page.eval_on_selector_all("#timeline h3", "hs => hs.map(h => h.textContent)")
    assert page.get_attribute(link, "alt").endswith(", about March 2006")
    assert DATED.startswith("2006:03:16")


@needs_shared
@needs_chromium
def test_search_by_a_photo_shows_each_face_on_it(site: Site, open_page: Any) -> None:
    page = open_page("#/", "desktop")
    page.set_input_files("#search", str(SOLVAY))
    page.wait_for_selector("#search-results .result", timeout=120_000)
    found = page.locator("#search-results .result").count()
    assert found >= 25
    assert page.locator("#viewer .box").count() == found  # each face's box on the photo
    page.wait_for_function(f"document.querySelectorAll('#search-results canvas.crop').length === {found}")
    sizes = page.eval_on_selector_all("#search-results canvas.crop",
                                      "cs => cs.map(c => c.getBoundingClientRect()).map(r => [r.width, r.height])")
    assert all(w >= 44 and h >= 44 for w, h in sizes)  # and its crop
    page.hover("#search-results .result >> nth=2")
    assert page.inner_text("#box-label").startswith("3: ")
    assert "active" in page.get_attribute("#viewer .box[data-face='3']", "class").split()


@needs_shared
@needs_chromium
def test_a_long_file_name_breaks_in_the_viewer_on_a_phone(site: Site, open_page: Any) -> None:
    """The viewer's title is the photo's file name: one without spaces must not widen the page."""
    longest = max(site.json("faces"), key=lambda f: len(Path(f["photo"]).name))
    page = open_photo(open_page, site.photo_id(Path(longest["photo"]).name), "phone")
    assert len(page.inner_text("h1")) >= 30 and sideways(page) == 0


@needs_shared
@needs_chromium
def test_close_from_a_bookmark_takes_the_viewers_place_in_the_history(site: Site, open_page: Any) -> None:
    """A viewer opened from outside the page (a bookmark, a typed address) closes to the view its
    list belongs to in place of its own entry: Back then leaves the page, not back to the viewer."""
    person = site.json("people")[0]
    photo = site.photo_id(Path(site.json("faces", "--person", person["id"])[0]["photo"]).name)
    page = open_page("#/", "desktop")
    for close in ("#photo-close", "Escape"):
        page.goto("about:blank")
        page.goto(f"{site.base}/#/photo/{photo}?from=person/{person['id']}")  # a document of its own
        page.wait_for_selector("#viewer .box")
        if close.startswith("#"):
            page.click(close)
        else:
            page.keyboard.press(close)
        page.wait_for_url(re.compile(rf"#/person/{person['id']}$"))
        page.wait_for_selector("#timeline")
        page.go_back()
        page.wait_for_url("about:blank", timeout=5000)


@needs_shared
@needs_chromium
def test_escape_while_the_next_photo_loads_closes_the_viewer_for_good(site: Site, open_page: Any) -> None:
    person = site.json("people")[0]
    page = open_page(f"#/person/{person['id']}", "desktop")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.wait_for_selector("#timeline a.photo-link")
    page.locator("#timeline a.photo-link").first.click()
    page.wait_for_selector("#viewer .box")
    held: list[Any] = []
    page.route("**/api/v1/photos/view?*", lambda route: held.append(route))  # the next photo: held back
    page.keyboard.press("ArrowRight")
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the next photo was not asked for"
    page.keyboard.press("Escape")  # while it loads
    page.wait_for_url(re.compile(rf"#/person/{person['id']}$"), timeout=5000)
    page.wait_for_selector("#timeline")
    held[0].continue_()  # the photo read late
    page.unroute("**/api/v1/photos/view?*")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)
    assert page.locator("#viewer").count() == 0 and page.locator("#timeline").count() == 1
    assert re.search(rf"#/person/{person['id']}$", page.url)
    assert errors == []
