"""What a new user's trial of the person page found: a merge that lost the named person, the focus
dropped to <body> after a key, counts gone stale after a move, a status line that pushed the page
and kept an old error, messages without their way on (the new person, Undo), and Upload and Search
without a focus ring. Runs on the page tests' one library (tests/browser.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .browser import Site, fresh_persons, merge_by_keyboard, needs_chromium, status
from .conftest import needs_shared
from .test_daemon import wait_until


def focused_face(page: Any) -> int | None:
    face = page.evaluate("document.activeElement.closest('#faces [data-face]')?.dataset.face")
    return int(face) if face else None


def face_order(page: Any) -> list[int]:
    return [int(x) for x in page.eval_on_selector_all("#faces .face", "fs => fs.map(f => f.dataset.face)")]


def redrawn(page: Any) -> Callable[[], None]:
    """A wait for the faces of the view drawn now to be drawn again (a correction reads the view again)."""
    page.evaluate("window.drawnFaces = document.querySelector('#faces')")
    return lambda: page.wait_for_function("document.querySelector('#faces') !== window.drawnFaces")


def words(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


@needs_shared
@needs_chromium
def test_merging_from_an_unnamed_page_keeps_the_named_person_and_shows_it(site: Site, open_page: Any) -> None:
    unnamed, ann, small, big = fresh_persons(site, 4)
    site.run("rename", ann["id"], "Trial Ann")
    page = open_page()
    merge_by_keyboard(site, page, unnamed["id"], "Trial Ann")  # from the unnamed one's page
    wait_until(lambda: site.person(unnamed["id"]) is None, 30, "the merge")
    kept = site.person(ann["id"])
    assert kept is not None and kept["name"] == "Trial Ann" and kept["faces"] == unnamed["faces"] + ann["faces"]
    page.wait_for_url(f"**#/person/{ann['id']}")  # the page shows the person kept
    page.wait_for_function("document.querySelector('#rename')?.value === 'Trial Ann'")
    assert status(page).startswith(f"Person_{unnamed['id']} merged into Trial Ann")

    # both unnamed: the one with more faces is kept, whichever page the merge starts from
    site.run("assign", site.faces(small["id"])[0], big["id"])
    page = open_page(f"#/person/{small['id']}")  # drawn after the move: the page knows who has more faces
    merge_by_keyboard(site, page, small["id"], f"Person_{big['id']}")
    wait_until(lambda: site.person(small["id"]) is None, 30, "the second merge")
    assert site.person(big["id"]) is not None
    page.wait_for_url(f"**#/person/{big['id']}")


@needs_shared
@needs_chromium
def test_the_focus_stays_in_the_faces_after_a_keyboard_correction(site: Site, open_page: Any) -> None:
    person, other = fresh_persons(site, 2)
    page = open_page(f"#/person/{person['id']}")
    order = face_order(page)
    page.focus(f".face[data-face='{order[0]}'] .pick")
    done = redrawn(page)
    page.keyboard.press("x")  # not them: the next face takes the focus, and keeps it once the view is read again
    page.wait_for_function(f"document.activeElement.closest('[data-face]')?.dataset.face === '{order[1]}'")
    done()
    assert order[0] not in site.faces(person["id"]) and focused_face(page) == order[1]

    done = redrawn(page)
    page.keyboard.press("u")  # undo: the focus stays on that face
    page.wait_for_function("document.querySelector('#status').textContent.includes('Undone')")
    done()
    assert order[0] in site.faces(person["id"]) and focused_face(page) == order[1]

    done = redrawn(page)
    page.keyboard.press("a")  # move it by name: the face after it takes the focus
    page.wait_for_selector("dialog[open] #assign-name")
    page.keyboard.type(f"Person_{other['id']}")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('#status').textContent.includes('moved to')")
    done()
    assert order[1] in site.faces(other["id"]) and focused_face(page) == order[2]

    page.focus("#rename")  # Enter renames, and the field keeps the focus
    page.keyboard.type("Trial Focus")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('#status').textContent.includes('Renamed to Trial Focus')")
    page.wait_for_timeout(100)
    assert page.evaluate("document.activeElement.id") == "rename"


@needs_shared
@needs_chromium
def test_a_move_or_a_split_redraws_the_person_page_in_place(site: Site, open_page: Any) -> None:
    person, other = fresh_persons(site, 2)
    page = open_page(f"#/person/{person['id']}")

    def counts_shown() -> None:
        data = site.api(f"people/person?person={person['id']}")
        line = f"{words(data['total_faces'], 'face')} in {words(data['total_photos'], 'photo')}"
        page.wait_for_function(f"""document.querySelector('#face-count').textContent === {line!r}
            && document.querySelector('#timeline-title').textContent === 'Photos ({data["total_photos"]})'""",
                               timeout=10_000)

    order = face_order(page)
    page.evaluate("window.scrollTo(0, 60)")
    page.click(f".face[data-face='{order[0]}'] .pick")
    page.click(f"aside .target[data-person='{other['id']}']")
    wait_until(lambda: order[0] in site.faces(other["id"]), 30, "the move")
    counts_shown()
    photos = site.api(f"people/person?person={other['id']}")["total_photos"]
    page.wait_for_function(f"document.querySelector(\"aside .target[data-person='{other['id']}']\")"
                           f".textContent.endsWith('· {words(photos, 'photo')}')", timeout=10_000)

    before = {p["id"] for p in site.json("people", "--all")}
    page.click(f".face[data-face='{order[1]}'] .pick")
    page.click("#split")
    wait_until(lambda: bool({p["id"] for p in site.json("people", "--all")} - before), 30, "the split")
    (new,) = {p["id"] for p in site.json("people", "--all")} - before
    counts_shown()
    page.wait_for_selector(f"aside .target[data-person='{new}']", timeout=10_000)  # the new person to move faces to


@needs_shared
@needs_chromium
def test_the_status_line_shifts_nothing_and_a_success_clears_an_error(site: Site, open_page: Any) -> None:
    person, other = fresh_persons(site, 2)
    for size in ("desktop", "phone"):
        page = open_page(f"#/person/{person['id']}", size)
        top = "document.querySelector('#view').getBoundingClientRect().top + scrollY"
        before = page.evaluate(top)
        fid = face_order(page)[0]
        page.click(f".face[data-face='{fid}'] .pick")
        page.click(f"aside .target[data-person='{other['id']}']")
        page.wait_for_function("document.querySelector('#status').textContent.includes('moved to')")
        assert page.evaluate(top) == before  # the message appeared, the page stayed where it was
        site.run("undo")

    site.run("hide", person["id"])
    page.goto(site.base + f"/api/v1/albums.zip?person={person['id']}")  # a stale album link: an error
    page.wait_for_selector("#status.error")
    page.wait_for_load_state("networkidle")
    done = redrawn(page)
    page.click("#hide")  # unhide: a success, and the view read again must not say the error again
    done()
    assert "shown again" in status(page) and page.get_attribute("#status", "class") != "error"


@needs_shared
@needs_chromium
def test_a_split_links_to_the_new_person_and_a_move_says_undo_takes_it_back(site: Site, open_page: Any) -> None:
    person, other = fresh_persons(site, 2)
    page = open_page(f"#/person/{person['id']}")
    order = face_order(page)
    page.click(f".face[data-face='{order[0]}'] .pick")
    done = redrawn(page)
    page.click(f"aside .target[data-person='{other['id']}']")
    page.wait_for_function("document.querySelector('#status').textContent.includes('moved to')")
    assert "Undo (u) takes it back." in status(page)
    done()  # the view read again: a selection made before would go with it
    page.click(f".face[data-face='{order[1]}'] .pick")
    page.click("#split")
    link = page.wait_for_selector("#status a[href^='#/person/']")
    new = int(link.get_attribute("href").rsplit("/", 1)[1])
    assert site.faces(new) == [order[1]]
    link.click()
    page.wait_for_url(f"**#/person/{new}")
    page.wait_for_function(f"document.querySelector('#rename')?.placeholder === 'Person_{new}'")


@needs_shared
@needs_chromium
def test_upload_and_search_show_a_focus_ring(site: Site, open_page: Any) -> None:
    page = open_page()
    page.focus("#undo")
    ring = "(() => { const s = getComputedStyle(document.activeElement.closest('label')); " \
           "return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2; })()"
    for field in ("upload", "search"):
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == field
        assert page.evaluate(ring), field
