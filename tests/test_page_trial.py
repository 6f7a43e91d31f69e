"""What a new user's trial of the people and person pages found: a named person dragged onto an
unnamed one lost its id (and its page's address), Escape in the name field dropped the focus to
<body>, and the naming dialog listed the persons without the likely ones first. Runs on the page
tests' one library (tests/browser.py).
"""

from __future__ import annotations

from typing import Any

from .browser import Site, fresh_persons, needs_chromium
from .conftest import needs_shared
from .test_daemon import wait_until
from .test_page_phone import twin


def _drag_merge(site: Site, page: Any, dragged: int, onto: int) -> None:
    page.set_viewport_size({"width": 1280, "height": 6000})  # every card on screen: a drag that scrolls drops astray
    page.goto(site.base + "/#/")
    page.reload()  # the grid as it is now: the counts the page orders a merge by
    for pid in (dragged, onto):
        page.wait_for_selector(f".card[data-person='{pid}']")
    page.wait_for_load_state("networkidle")
    names = [(p["name"] or p["label"]) for p in (site.person(dragged), site.person(onto))]
    page.drag_and_drop(f".card[data-person='{dragged}']", f".card[data-person='{onto}']")
    asked = page.inner_text("dialog[open]")
    assert all(n in asked for n in names), f"the drop asked another merge than {names}: {asked!r}"
    page.click("dialog[open] #confirm-merge")


@needs_shared
@needs_chromium
def test_dragging_a_named_person_onto_an_unnamed_one_keeps_the_named_one(site: Site, open_page: Any) -> None:
    named, unnamed, small, big = fresh_persons(site, 4)
    site.run("rename", named["id"], "Trial Dragged")
    page = open_page()
    _drag_merge(site, page, named["id"], unnamed["id"])  # the named one onto the unnamed one
    wait_until(lambda: site.person(unnamed["id"]) is None, 30, "the merge")
    kept = site.person(named["id"])
    assert kept is not None and kept["name"] == "Trial Dragged" and kept["faces"] == named["faces"] + unnamed["faces"]
    page.wait_for_function("(t) => document.querySelector('#status').textContent.startsWith(t)",
                           arg=f"Person_{unnamed['id']} merged into Trial Dragged", timeout=10_000)
    page.goto(f"{site.base}/#/person/{named['id']}")  # its address still works
    page.wait_for_function("document.querySelector('#rename')?.value === 'Trial Dragged'")

    # both unnamed: the larger one is kept, though it was the one dragged
    site.run("assign", site.faces(small["id"])[0], big["id"])
    if site.person(big["id"])["faces"] <= site.person(small["id"])["faces"]:
        big, small = small, big  # the larger by what the library holds now
    assert site.person(big["id"])["faces"] > site.person(small["id"])["faces"]
    _drag_merge(site, page, big["id"], small["id"])
    wait_until(lambda: site.person(small["id"]) is None, 30, "the second merge")
    assert site.person(big["id"]) is not None


@needs_shared
@needs_chromium
def test_escape_in_the_name_field_cancels_and_keeps_the_focus(site: Site, open_page: Any) -> None:
    (person,) = fresh_persons(site, 1)
    site.run("rename", person["id"], "Trial Escape")
    page = open_page(f"#/person/{person['id']}")
    page.focus("#rename")
    page.keyboard.press("End")
    page.keyboard.type(" typo")
    page.keyboard.press("Escape")
    page.wait_for_timeout(300)
    assert page.evaluate("document.activeElement.id") == "person-title"  # the heading of the name, not <body>
    assert page.eval_on_selector("#rename", "e => e.value") == "Trial Escape"
    assert site.person(person["id"])["name"] == "Trial Escape"  # nothing was sent
    page.keyboard.press("m")  # the page's keys work from there
    page.wait_for_selector("dialog[open] #merge-name")
    page.keyboard.press("Escape")
    page.wait_for_function("!document.querySelector('dialog[open]')")
    assert page.evaluate("document.activeElement.id") == "person-title"


@needs_shared
@needs_chromium
def test_the_naming_dialog_lists_the_likely_persons_first(site: Site, open_page: Any) -> None:
    # a person's faces: the persons that look like that one first, said to be likely
    person, new = twin(site, "Trial Lookalike")
    page = open_page(f"#/person/{person}")
    page.click("#faces .face .pick")
    page.click("#move-selected")
    page.wait_for_selector("dialog[open] #assign-choices .likely")
    first = page.locator("dialog[open] #assign-choices .pick-person").first
    assert first.get_attribute("data-person") == str(new)
    assert "likely" in first.inner_text()
    page.keyboard.press("Escape")

    # an unknown face (a single one, not in a group): the person it is suggested for first
    page = open_page("#/unknown")
    singles = {int(x) for x in page.eval_on_selector_all("#faces .face", "fs => fs.map(f => f.dataset.face)")}
    suggested = {f["face"]: f["person"] for f in site.json("suggest", "--limit", 100)["faces"] if f["face"] in singles}
    assert suggested, "the test library has no unknown face suggested for a person"
    fid, owner = next(iter(suggested.items()))
    page.click(f"#faces .face[data-face='{fid}'] .pick")
    page.click("#move-selected")
    page.wait_for_selector("dialog[open] #assign-choices .likely")
    first = page.locator("dialog[open] #assign-choices .pick-person").first
    assert first.get_attribute("data-person") == str(owner)
    assert page.locator("dialog[open] #assign-choices .likely").count() == 1  # one face, one person it may be

    # a face no suggestion is about: today's order (by photos), nobody said to be likely
    page.keyboard.press("Escape")
    plain = next(f for f in sorted(singles) if f not in suggested)
    page.click(f"#faces .face[data-face='{fid}'] .pick")  # unselected
    page.click(f"#faces .face[data-face='{plain}'] .pick")
    page.click("#move-selected")
    page.wait_for_selector("dialog[open] #assign-choices .pick-person")
    page.wait_for_load_state("networkidle")
    assert page.locator("dialog[open] #assign-choices .likely").count() == 0
    photos = {p["id"]: p["photos"] for p in site.json("people")}
    shown = [photos[int(x)] for x in page.eval_on_selector_all("dialog[open] #assign-choices .pick-person",
                                                              "bs => bs.map(b => b.dataset.person)")]
    assert shown == sorted(shown, reverse=True)


@needs_shared
@needs_chromium
def test_a_name_typed_then_left_for_the_people_shows_there(site: Site, open_page: Any) -> None:
    (person,) = fresh_persons(site, 1)
    page = open_page(f"#/person/{person['id']}")
    page.click("#rename")
    page.keyboard.type("Trial Left Behind")
    page.click("#nav-people")  # no Enter: the field is left for the people, which were read meanwhile
    wait_until(lambda: site.person(person["id"])["name"] == "Trial Left Behind", 30, "the rename")
    page.wait_for_function(f"document.querySelector(\".card[data-person='{person['id']}'] .name\")"
                           "?.textContent === 'Trial Left Behind'", timeout=10_000)


@needs_shared
@needs_chromium
def test_a_new_name_given_to_unknown_faces_joins_their_move_to_list(site: Site, open_page: Any) -> None:
    # two unknown faces of photos of their own (the crowd photo's faces are other tests')
    fids = []
    for p in fresh_persons(site, 2):
        fids.append(str(site.faces(p["id"])[0]))
        site.run("reject", fids[-1], p["id"])
    page = open_page("#/unknown")
    page.wait_for_selector(f"#faces .face[data-face='{fids[1]}']")
    before = {p["id"] for p in site.json("people", "--all")}
    page.click(f"#faces .face[data-face='{fids[0]}'] .pick")
    page.click("#move-selected")
    page.fill("dialog[open] #assign-name", "Trial Newcomer")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('#status').textContent.includes('a new person')")
    (new,) = {p["id"] for p in site.json("people", "--all")} - before
    target = page.locator(f"#move-to .target[data-person='{new}']")
    target.wait_for(timeout=10_000)  # the next face can go there too, without a reload
    assert target.inner_text() == "Trial Newcomer · 1 photo"
    page.click(f"#faces .face[data-face='{fids[1]}'] .pick")
    target.click()
    wait_until(lambda: int(fids[1]) in site.faces(new), 30, "the second move")
    page.wait_for_function(f"document.querySelector(\"#move-to .target[data-person='{new}']\")"
                           "?.textContent.endsWith('· 2 photos')", timeout=10_000)
