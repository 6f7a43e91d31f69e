"""Marking by hand a face the detector missed, in the photo viewer: a drag with the mouse, or a
finger on a phone, draws its box; the face is named (or left unknown) in one correction, and
undo takes it away. Runs on the page tests' one library (tests/browser.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .browser import Site, axe_violations, fresh_persons, needs_chromium, sideways, status
from .conftest import needs_shared
from .test_page_viewer import open_photo, touches


def _photo_of(site: Site, person: int, alone: bool = False) -> int:
    """A photo of ``person`` (``alone``: one that shows no other face, a background one included)."""
    for face in site.json("faces", "--person", person):
        photo = site.photo_id(Path(face["photo"]).name)
        if not alone or len(site.api(f"photos/view?photo={photo}")["faces"]) == 1:
            return photo
    raise AssertionError(f"person {person} has no photo of their own face alone")


def _drag(page: Any, size: str, start: tuple[float, float], end: tuple[float, float]) -> None:
    """From ``start`` to ``end`` (shares of the photo's width and height) by mouse or by finger."""
    b = page.locator("#viewer").bounding_box()
    (x0, y0), (x1, y1) = ((b["x"] + b["width"] * fx, b["y"] + b["height"] * fy) for fx, fy in (start, end))
    if size == "phone":
        steps = [[(x0 + (x1 - x0) * k / 6, y0 + (y1 - y0) * k / 6)] for k in range(7)]
        touches(page, *steps, steps[-1])
    else:
        page.mouse.move(x0, y0)
        page.mouse.down()
        page.mouse.move(x1, y1, steps=6)
        page.mouse.up()


@needs_shared
@needs_chromium
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_missed_face_is_marked_by_a_drag_named_in_one_correction_and_undone(site: Site, open_page: Any,
                                                                               size: str) -> None:
    (person,) = fresh_persons(site, 1)
    photo = _photo_of(site, person["id"], alone=True)  # the corner drawn in must hold no face (a background one)
    before = site.api(f"photos/view?photo={photo}")
    page = open_photo(open_page, photo, size)
    page.click("#mark-face") if size == "desktop" else page.tap("#mark-face")
    assert page.get_attribute("#mark-face", "aria-pressed") == "true" and page.inner_text("#mark-hint")
    # the top left corner of an LFW photo: away from its face, the size of one
    _drag(page, size, (0.04, 0.04), (0.3, 0.32))
    page.wait_for_selector("dialog[open] #mark-name")
    assert axe_violations(page) == []
    name = f"Marked {size.title()}"
    if size == "desktop":
        page.keyboard.type(name)
        page.keyboard.press("Enter")
    else:
        # a tap within Chromium's double-tap time of the drag's end is no click: a person reads first
        page.wait_for_timeout(700)
        page.tap("#mark-ok")  # left empty: an unknown face
    page.wait_for_function("document.querySelector('#status').textContent.includes('marked')")
    after = site.api(f"photos/view?photo={photo}")
    (new,) = [f for f in after["faces"] if f["id"] not in {g["id"] for g in before["faces"]}]
    w, h = after["width"], after["height"]
    assert new["bbox"] == pytest.approx([0.04 * w, 0.04 * h, 0.3 * w, 0.32 * h], abs=0.02 * w)
    if size == "desktop":
        assert new["name"] == name and f"Face {new['id']} marked as {name}" in status(page)
    else:
        assert "as an unknown face" in status(page)
    page.wait_for_selector(f"#strip [data-face='{new['id']}']")
    assert page.get_attribute("#mark-face", "aria-pressed") == "false" and sideways(page) == 0

    if size == "desktop":  # undone from the page of the person it made: that page goes too
        page.click(f"#strip [data-face='{new['id']}'] a.who")
        page.wait_for_selector("#rename")
        page.keyboard.press("u")
        page.wait_for_function("location.hash === '#/'")
    else:
        page.keyboard.press("u")
    page.wait_for_function("document.querySelector('#status').textContent.includes('Undone')")
    assert f"marking face {new['id']} by hand" in status(page)
    assert [f["id"] for f in site.api(f"photos/view?photo={photo}")["faces"]] == [f["id"] for f in before["faces"]]


@needs_shared
@needs_chromium
def test_a_tap_or_escape_while_marking_marks_nothing(site: Site, open_page: Any) -> None:
    (person,) = fresh_persons(site, 1)
    photo = _photo_of(site, person["id"], alone=True)
    page = open_photo(open_page, photo, "desktop")
    page.click("#mark-face")
    # a loose box around the face the photo has is that face: chosen, no name asked
    (face,) = site.api(f"photos/view?photo={photo}")["faces"]
    data = site.api(f"photos/view?photo={photo}")
    x1, y1, x2, y2 = face["bbox"]
    _drag(page, "desktop", (max(0, x1 - 15) / data["width"], max(0, y1 - 15) / data["height"]),
          (min(data["width"], x2 + 15) / data["width"], min(data["height"], y2 + 15) / data["height"]))
    assert "has a box already" in status(page) and page.locator("dialog[open]").count() == 0
    assert "active" in page.get_attribute(f"#viewer .box[data-face='{face['id']}']", "class").split()
    b = page.locator("#viewer").bounding_box()
    page.mouse.click(b["x"] + 20, b["y"] + 20)  # a click is no box
    page.keyboard.press("Escape")
    assert page.get_attribute("#mark-face", "aria-pressed") == "false"
    assert page.locator("dialog[open]").count() == 0 and page.locator("#sketch").count() == 0
    assert len(site.api(f"photos/view?photo={photo}")["faces"]) == 1


@needs_shared
@needs_chromium
def test_a_missed_face_is_marked_with_the_keys_alone(site: Site, open_page: Any) -> None:
    """No pointer: the button is reached and pressed from the keyboard, an arrow puts a box in
    the middle of the photo, arrows move it, Shift+arrows size it, Enter marks it."""
    (person,) = fresh_persons(site, 1)
    photo = _photo_of(site, person["id"], alone=True)  # no face in the corner the box goes to
    before = site.api(f"photos/view?photo={photo}")
    page = open_photo(open_page, photo, "desktop")
    page.focus("#mark-face")
    page.keyboard.press("Enter")
    assert page.get_attribute("#mark-face", "aria-pressed") == "true"
    assert "Shift+arrows" in page.inner_text("#mark-hint")
    page.keyboard.press("ArrowDown")  # the box appears: a quarter of the photo's width, centred
    w, h = before["width"], before["height"]
    assert page.locator("#sketch").count() == 1
    for _ in range(30):  # to the top left corner, away from the LFW face in the middle
        page.keyboard.press("ArrowUp")
        page.keyboard.press("ArrowLeft")
    for _ in range(3):
        page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Enter")  # on the focused button: marks, does not stop the marking
    page.wait_for_selector("dialog[open] #mark-name")
    page.keyboard.type("Marked By Keys")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('#status').textContent.includes('marked')")
    after = site.api(f"photos/view?photo={photo}")
    (new,) = [f for f in after["faces"] if f["id"] not in {g["id"] for g in before["faces"]}]
    side = min(w, h) / 4
    x1, y1, x2, y2 = new["bbox"]
    assert (x1, y1) == pytest.approx((0, 0), abs=1) and y2 == pytest.approx(side, abs=1)
    # each Shift+arrow: wider by a tenth of the box's smaller side (the height stays)
    assert x2 == pytest.approx(side * 1.3, abs=1), new["bbox"]
    assert new["name"] == "Marked By Keys"
    assert page.get_attribute("#mark-face", "aria-pressed") == "false"
    page.keyboard.press("u")
    page.wait_for_function("document.querySelector('#status').textContent.includes('Undone')")
    assert [f["id"] for f in site.api(f"photos/view?photo={photo}")["faces"]] == [f["id"] for f in before["faces"]]
