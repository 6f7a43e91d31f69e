"""The browser for the page's tests: Debian's Chromium through Playwright, at the two sizes the
page is made for (1440x900, and 390x844 with touch), one indexed library served by a real
daemon for all of them, and the checks that every view must pass (axe-core, targets of 44 px,
no sideways scroll, text that fits its box). tests/conftest.py makes the fixtures available.
"""

from __future__ import annotations

import json
import shutil
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from clusterids.cli import cli

from .conftest import SOLVAY, _free_port, lfw_people
from .test_daemon import DaemonProc, quiet

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None,
                                    reason="needs Debian's chromium (.ci/run installs it with apt-get)")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
DESKTOP = {"viewport": {"width": 1440, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
SIZES = {"desktop": DESKTOP, "phone": PHONE}
DATED = "2006:03:16 00:45:29"  # the EXIF date of the one dated LFW photo of the site


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium: Any) -> Iterator[Callable[..., Any]]:
    """A page in a context of its own ("desktop" or "phone"), closed after the test."""
    contexts: list[Any] = []

    def opener(size: str = "desktop") -> Any:
        context = chromium.new_context(**SIZES[size], accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda d: d.dismiss())
        return page

    yield opener
    for c in contexts:
        c.close()


# -- one library and daemon for all the page's tests --------------------------------------------

class Site:
    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env, self.folder = env, folder
        self.library = Path(env["CLUSTERIDS_LIBRARY"])
        self.albums = self.library / "albums"
        self.runner = CliRunner()
        self.base = ""
        self.daemon: DaemonProc | None = None

    def run(self, *args: Any, ok: bool = True) -> Any:
        r = self.runner.invoke(cli, [str(a) for a in args], env=self.env, obj={}, catch_exceptions=False)
        if ok:
            assert r.exit_code == 0, f"clusterids {args} exited {r.exit_code}: {r.output}"
        return r

    def json(self, *args: Any) -> Any:
        return json.loads(self.run(*args, "--json").stdout)

    def login_url(self) -> str:
        url = self.run("ui", "--no-browser").stdout.strip()
        self.base = url.split("/login")[0]
        return url

    def person(self, pid: int) -> dict[str, Any] | None:
        return next((p for p in self.json("people", "--all") if p["id"] == pid), None)

    def faces(self, pid: int) -> list[int]:
        return [f["id"] for f in self.json("faces", "--person", pid)]

    def album_names(self) -> set[str]:
        return {e.name for e in self.albums.iterdir() if not e.name.startswith(".")}

    def api(self, path: str) -> Any:
        """A read of the daemon's API, as the page makes it (with the token instead of the cookie)."""
        import httpx

        if not self.base:
            self.login_url()
        token = (self.library / "api.token").read_text()
        r = httpx.get(f"{self.base}/api/v1/{path}", headers={"Authorization": f"Bearer {token}"}, timeout=60)
        assert r.status_code == 200, r.text
        return r.json()

    def photo_id(self, name: str) -> int:
        """The id of the photo named ``name``, through the person of one of its faces."""
        face = next(f for f in self.json("faces") if Path(f["photo"]).name == name)
        page = self.api(f"people/person?person={face['person'] or 'unknown'}&limit=2000")
        return int(next(x["photo"] for x in page["faces"] if x["id"] == face["id"]))


def _dated_copy(src: Path, dst: Path) -> None:
    """A copy of ``src`` whose EXIF says when it was taken (LFW's photos carry no date)."""
    from PIL import Image

    with Image.open(src) as img:
        exif = Image.Exif()
        exif[0x0132] = DATED  # DateTime
        img.save(dst, exif=exif, quality=95)


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Iterator[Site]:
    """96 LFW people with 4 photos each (enough for every page test to take persons of its own, the
    page tests all in one process too: they take 66),
    a fifth photo of the first one dated 16 March 2006, and the Solvay group photo (29 faces),
    indexed and reclustered; a daemon watches them."""
    root = tmp_path_factory.mktemp("page")
    env = {"CLUSTERIDS_LIBRARY": str(root / "library"), "CLUSTERIDS_MODELS_DIR": str(models_dir),
           "CLUSTERIDS_INSIGHTFACE_ROOT": str(root / "insightface"), "CLUSTERIDS_PROGRESS": "false",
           "CLUSTERIDS_API_PORT": str(_free_port())}  # a fixed port: the page reconnects after a restart
    folder = root / "watched"
    photos = lfw_people(96, min_photos=5, max_photos=5)
    for n, p in enumerate(photos):
        (folder / p.parent.name).mkdir(parents=True, exist_ok=True)
        if n % 5 < 4:
            shutil.copy(p, folder / p.parent.name / p.name)
        elif n == 4:
            _dated_copy(p, folder / p.parent.name / p.name)
    shutil.copy(SOLVAY, folder / SOLVAY.name)
    s = Site(env, folder)
    s.run("index", folder)
    s.run("recluster")
    s.daemon = DaemonProc(env, folder).start()
    quiet(s.json)
    yield s
    if s.daemon.proc is not None and s.daemon.proc.poll() is None:
        s.daemon.stop(signal.SIGKILL)


@pytest.fixture
def open_page(site: Site, new_page: Callable[..., Any]) -> Callable[..., Any]:
    """A logged-in page at ``hash_``, on the desktop or the phone."""

    def opener(hash_: str = "#/", size: str = "desktop") -> Any:
        page = new_page(size)
        page.goto(site.login_url())
        page.wait_for_selector(".card.person")
        if hash_ != "#/":
            page.goto(site.base + "/" + hash_)
        page.wait_for_load_state("networkidle")
        return page

    return opener


_taken: set[int] = set()


def fresh_persons(site: Site, n: int) -> list[dict[str, Any]]:
    """Persons with 3+ faces no earlier test used (the tests share one library)."""
    out = [p for p in site.json("people") if p["id"] not in _taken and p["faces"] >= 3][:n]
    assert len(out) == n, "the test library has too few persons left"
    _taken.update(p["id"] for p in out)
    return out


def status(page: Any) -> str:
    return str(page.inner_text("#status"))


def merge_by_keyboard(site: Site, page: Any, into: int, name: str) -> None:
    """On ``into``'s page: m, the other person's name, Enter, and Enter to confirm."""
    page.goto(f"{site.base}/#/person/{into}")
    page.wait_for_selector("#rename")
    page.wait_for_load_state("networkidle")
    page.focus("#merge-with")
    page.keyboard.press("m")
    page.wait_for_selector("dialog[open] #merge-name")
    page.keyboard.type(name)
    page.keyboard.press("Enter")
    page.wait_for_selector("dialog[open] #confirm-merge")
    page.keyboard.press("Enter")


# -- what every view must pass ---------------------------------------------------------------------

def axe_violations(page: Any) -> list[str]:
    """axe-core's violations of any impact, its experimental rules included
    (label-content-name-mismatch is one of them)."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    page.evaluate(axe.axe_script)
    found = page.evaluate("""async () => {
        const rules = Object.fromEntries(axe.getRules(['experimental']).map(r => [r.ruleId, {enabled: true}]));
        return (await axe.run(document, {rules, resultTypes: ['violations']})).violations
            .map(v => `${v.id} (${v.impact}): ${v.help} at ${JSON.stringify(v.nodes.slice(0, 3).map(n => n.target))}`);
    }""")
    return list(found)


# Everything one can click, tap or focus, but for what is hidden on purpose (a file input inside
# its label, the skip link off screen until focused).
TARGETS = """[...document.querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex="0"]')]
  .filter(e => e.offsetParent !== null && !e.closest('.visually-hidden') && !e.classList.contains('visually-hidden')
          && !e.classList.contains('skip'))"""


def small_targets(page: Any) -> list[str]:
    """Targets smaller than 44x44 px, described."""
    return list(page.evaluate(f"""{TARGETS}.map(e => [e, e.getBoundingClientRect()])
        .filter(([e, r]) => r.width < 44 || r.height < 44)
        .map(([e, r]) => `${{e.tagName.toLowerCase()}}#${{e.id}}.${{e.className}}`
             + ` "${{(e.textContent || e.value || '').trim().slice(0, 30)}}"`
             + ` ${{Math.round(r.width)}}x${{Math.round(r.height)}}`)"""))


def overflowing_text(page: Any) -> list[str]:
    """Buttons and links whose text does not fit their box."""
    return list(page.evaluate("""[...document.querySelectorAll('button, a.button, .button')]
        .filter(e => e.offsetParent !== null && !e.closest('.visually-hidden') && e.scrollWidth > e.clientWidth + 1)
        .map(e => `${e.tagName.toLowerCase()}#${e.id} "${e.textContent.trim()}"`
             + ` ${e.scrollWidth} in ${e.clientWidth}`)"""))


def sideways(page: Any) -> int:
    """How far the page scrolls sideways (0 is right)."""
    return int(page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def overlapping(rects: list[dict[str, float]]) -> list[tuple[int, int]]:
    """Pairs of rectangles ({x, y, width, height}) that overlap."""
    out = []
    for i, a in enumerate(rects):
        for j, b in enumerate(rects[:i]):
            if (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
                    and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]):
                out.append((j, i))
    return out
