"""A person's birth date on their page: set, said in words, kept across a reload, undone. Runs on
the page tests' one library (tests/browser.py)."""

from __future__ import annotations

from typing import Any

from .browser import Site, axe_violations, fresh_persons, needs_chromium, sideways, status
from .conftest import needs_shared


@needs_shared
@needs_chromium
def test_a_birth_date_is_set_on_the_person_page_kept_and_undone(site: Site, open_page: Any) -> None:
    (person,) = fresh_persons(site, 1)
    page = open_page(f"#/person/{person['id']}", "phone")
    page.wait_for_selector("#born")
    assert page.input_value("#born") == "" and axe_violations(page) == [] and sideways(page) == 0
    # typed as a person types it: each digit of the year changes the field ("0002-05-30", ...)
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.post_data or "") if r.url.endswith("/people/born") else None)
    page.click("#born")
    page.keyboard.type("05302001")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('#status').textContent.includes('born')")
    assert "was born on 30 May 2001" in status(page)
    assert site.api(f"people/person?person={person['id']}")["born"] == "2001-05-30"
    page.wait_for_timeout(2000)  # past the field's settling time: nothing more is sent
    history = site.api("people/history?limit=5")
    assert [h["op"] for h in history].count("born") == 1 and history[0]["args"]["born"] == "2001-05-30"
    assert len(sent) == 1 and "2001-05-30" in sent[0], sent  # no year half typed was ever sent
    page.reload()
    page.wait_for_selector("#born")
    assert page.input_value("#born") == "2001-05-30"
    page.keyboard.press("u")
    page.wait_for_function("document.querySelector('#status').textContent.includes('Undone')")
    assert "the birth date of" in status(page)
    page.reload()
    page.wait_for_selector("#born")
    page.click("#born")
    page.keyboard.type("01011800")  # before the first photograph: said once the field is left
    page.keyboard.press("Enter")
    assert "1800 is before the first photograph" in status(page)
    assert site.api(f"people/person?person={person['id']}")["born"] is None
