"""Views that follow the library (issue 18): a change made through the CLI reaches an open page
through the daemon's event stream, without a reload; the stream itself, on its own.

The page test runs on the page tests' one library (tests/browser.py)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from clusterids.daemon.events import Changes, describe

from .browser import Site, fresh_persons, needs_chromium
from .conftest import needs_shared


def test_the_stream_says_hello_then_each_change() -> None:
    changes = Changes()

    async def read() -> list[str]:
        out: list[str] = []

        async def gone() -> bool:
            return len(out) >= 3

        async def later() -> None:
            await asyncio.sleep(0.3)
            changes.publish("renamed")

        task = asyncio.create_task(later())
        async for chunk in changes.stream(gone, seconds=5):
            out.append(chunk)
        await task
        return out

    with ThreadPoolExecutor(1) as pool:  # a thread of its own: Playwright may hold this one's event loop
        hello, changed, *_ = pool.submit(asyncio.run, read()).result(timeout=30)
    assert hello.startswith("retry: 1000\nevent: hello\n")
    assert changed == 'event: changed\ndata: {"generation": 1, "what": "renamed"}\n\n'


def test_only_writes_that_change_what_a_page_shows_are_published() -> None:
    from clusterids.core.results import Indexed, Renamed, Suggestions

    assert describe(Suggestions(faces=[], merges=[])) is None  # a read on the writer wakes nobody
    assert describe(Indexed()) is None
    assert describe(Indexed(faces_added=3)) == ("indexed", {"faces_added": 3, "photos_removed": 0})
    assert describe(Renamed(person=1, name="Ann", label="Ann")) == ("renamed", {})


@needs_shared
@needs_chromium
def test_a_count_changed_through_the_cli_shows_on_an_open_page_without_a_reload(site: Site, open_page: Any) -> None:
    (person,) = fresh_persons(site, 1)
    page = open_page(f"#/person/{person['id']}")
    page.wait_for_selector("#face-count")
    before = page.inner_text("#face-count")
    page.evaluate("window.stillHere = true")  # gone if the page were loaded again
    fid = site.faces(person["id"])[0]
    site.run("split", person["id"], "--faces", fid)
    page.wait_for_function("t => document.querySelector('#face-count')?.textContent !== t", arg=before,
                           timeout=30_000)
    assert page.evaluate("window.stillHere === true")
    assert page.inner_text("#face-count").startswith(f"{person['faces'] - 1} faces")
    site.run("rename", person["id"], "Evelyn Events")
    page.wait_for_function("document.querySelector('#rename')?.value === 'Evelyn Events'", timeout=30_000)
    site.run("undo")
    site.run("undo")
    page.wait_for_function("t => document.querySelector('#face-count')?.textContent === t", arg=before,
                           timeout=30_000)
    assert page.evaluate("window.stillHere === true")
