"""What a new user's trial on a phone found: a merge dialog that cut its words, Undo hidden behind
"More", a merge from the suggestions asked twice, a birth date that answered late with the
browser's mm/dd/yyyy only, and a naming dialog without persons to tap. Runs on the page tests'
one library (tests/browser.py).
"""

from __future__ import annotations

from typing import Any

from .browser import Site, axe_violations, fresh_persons, needs_chromium, overflowing_text, small_targets, status
from .conftest import needs_shared
from .test_daemon import wait_until

# words of the open dialog drawn on more than one line (a name broken mid-word; at a hyphen is fine)
BROKEN_WORDS = """(() => {
  const out = [], walk = document.createTreeWalker(document.querySelector('dialog[open]'), NodeFilter.SHOW_TEXT);
  for (let n; (n = walk.nextNode());) {
    for (const m of n.data.matchAll(/[^\\s-]+/g)) {
      const r = document.createRange();
      r.setStart(n, m.index);
      r.setEnd(n, m.index + m[0].length);
      if (new Set([...r.getClientRects()].map((x) => Math.round(x.top))).size > 1) out.push(m[0]);
    }
  }
  return out;
})()"""


def twin(site: Site, name: str) -> tuple[int, int]:
    """A fresh person and a new person ``name`` made of half their faces: the same one, a likely merge."""
    (person,) = fresh_persons(site, 1)
    faces = site.faces(person["id"])
    before = {p["id"] for p in site.json("people", "--all")}
    site.run("assign", *[x for f in faces[: len(faces) // 2] for x in ("--faces", f)], name)
    (new,) = {p["id"] for p in site.json("people", "--all")} - before
    merges = site.json("suggest", "--person", person["id"])["merges"]
    assert any(new in m["persons"] for m in merges), merges
    return person["id"], new


@needs_shared
@needs_chromium
def test_the_merge_dialog_on_a_phone_wraps_at_spaces_and_cuts_nothing(site: Site, open_page: Any) -> None:
    person, _ = twin(site, "Trial Bartholomew Whittingham-Smythe")
    page = open_page(f"#/person/{person}", "phone")
    page.click("#merge-with")
    page.wait_for_selector("dialog[open] #merge-choices .likely")  # the suggestion's words, in full
    assert overflowing_text(page) == []
    assert page.evaluate(BROKEN_WORDS) == []
    assert page.evaluate("""[...document.querySelectorAll('dialog[open] .likely')]
        .every((e) => e.scrollWidth <= e.clientWidth + 1 && e.getBoundingClientRect().right
                      <= e.closest('.pick-person').getBoundingClientRect().right + 1)""")


@needs_shared
@needs_chromium
def test_after_a_correction_a_phone_shows_undo_beside_what_it_did(site: Site, open_page: Any) -> None:
    (person,) = fresh_persons(site, 1)
    page = open_page(f"#/person/{person['id']}", "phone")
    page.fill("#rename", "Trial Undoable")
    page.press("#rename", "Enter")
    undo = page.locator("#status-undo")
    undo.wait_for(state="visible")  # not behind "More": in the status line, on the screen
    box = undo.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"]
    assert "Renamed to Trial Undoable" in status(page) and not small_targets(page) and not axe_violations(page)
    undo.tap()
    page.wait_for_function("document.querySelector('#status').textContent.includes('Undone: renaming')")
    assert site.person(person["id"])["name"] is None
    assert page.locator("#status-undo").count() == 0  # an undo is not undone from here
    assert page.locator("#undo").count() == 1  # the header's stays (behind "More")

    # far down the page the status line is away: the copy at the bottom has the Undo too
    page = open_page("#/unknown", "phone")
    last = page.locator(".face[data-face]").last
    fid = int(last.get_attribute("data-face"))
    last.scroll_into_view_if_needed()
    last.locator("button.ignore").click()
    page.locator("#toast-undo").wait_for(state="visible")
    assert fid in [f["id"] for f in site.json("faces", "--ignored")]
    page.locator("#toast-undo").tap()
    page.wait_for_function("document.querySelector('#status').textContent.includes('Undone')")
    wait_until(lambda: fid not in [f["id"] for f in site.json("faces", "--ignored")], 30, "the undo")


@needs_shared
@needs_chromium
def test_same_merge_in_the_suggestions_merges_at_once_and_says_undo_takes_it_back(site: Site, open_page: Any) -> None:
    person, new = twin(site, "Trial Same Twin")
    page = open_page(f"#/suggestions/{person}")
    for _ in range(40):  # the questions before this pair's (faces, other tests' pairs): skipped
        page.wait_for_selector("#queue .question")
        pair = page.get_attribute("#queue .question", "data-pair") or ""
        if sorted(pair.split("-")) == sorted([str(person), str(new)]):
            break
        page.keyboard.press("k")
    else:
        raise AssertionError("the pair was not asked")
    page.click("#answer-yes")
    page.wait_for_function("document.querySelector('#status').textContent.includes('merged into')")
    assert page.locator("dialog[open]").count() == 0  # said once is enough
    assert f"Person_{person} merged into Trial Same Twin" in status(page) and "Undo" in status(page)
    wait_until(lambda: site.person(person) is None, 30, "the merge")
    page.click("#status-undo")
    wait_until(lambda: site.person(person) is not None, 30, "the undo")


@needs_shared
@needs_chromium
def test_the_birth_date_is_saved_at_once_and_says_its_form(site: Site, open_page: Any) -> None:
    (person,) = fresh_persons(site, 1)
    page = open_page(f"#/person/{person['id']}", "phone")
    hint = page.inner_text("label.born")
    assert "for example" in hint and "1990" in hint and "14" in hint, hint  # in the browser's order
    page.fill("#born", "1990-03-14")  # as a date picker sets it: no keys
    page.wait_for_function("document.querySelector('#status').textContent.includes('born on')", timeout=1000)
    assert site.api(f"people/person?person={person['id']}")["born"] == "1990-03-14"
    site.run("undo")


@needs_shared
@needs_chromium
def test_the_naming_dialog_offers_persons_to_tap(site: Site, open_page: Any) -> None:
    person, other = fresh_persons(site, 2)
    site.run("rename", other["id"], "Trial Tap Target")
    page = open_page(f"#/person/{person['id']}", "phone")
    fid = site.faces(person["id"])[0]
    page.click(f".face[data-face='{fid}'] .pick")
    page.click("#move-selected")
    page.wait_for_selector("dialog[open] #assign-choices .pick-person")
    # the dialog has the focus, not the field: a keyboard would cover the persons to tap
    assert page.evaluate("document.activeElement.tagName") == "DIALOG"
    assert not axe_violations(page) and not overflowing_text(page)
    page.fill("dialog[open] #assign-name", "tap target")  # the typed text filters them
    page.wait_for_function("document.querySelectorAll('dialog[open] #assign-choices .pick-person').length === 1")
    page.click(f"dialog[open] #assign-choices .pick-person[data-person='{other['id']}']")
    wait_until(lambda: fid in site.faces(other["id"]), 30, "the move")
