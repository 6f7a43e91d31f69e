"""The people page's timings in Debian's Chromium, and the README's screenshots.

    python bench/page_timings.py OUT [--unknown 2000] [--screens docs] [--baseline-static DIR]

Indexes 48 LFW photos of 12 people (the models run once; OUT keeps the library), then adds
face rows until ``--unknown`` faces are in no person: copies of the real faces (their boxes
and vectors), so each crop is a real crop of a real photo. A real daemon serves the page.
Measured with the Performance API (performance.now() in the page), median of 5:

- unknown faces, first screen: from the navigation to every face image in the viewport decoded,
  cold (no crop cached: each photo decoded once for all its faces) against warm (crops made
  beforehand by the background pass, ``thumbs.warm_face_thumbs``);
- a correction: from the click on a "Move to" target to the face gone from the grid, and whether
  the grid is the same node (not redrawn) with the scroll within one row of where it was;
- with ``--baseline-static DIR`` (the page's files of another version, e.g. 0.3's one app.js):
  the page's load, from the login link to the first person's cover drawn, with a new browser
  context each time (nothing cached), the baseline's files (A) and this version's (B) served
  alternately (A, B, A, B) through the same interception, so both pay the same per file.

``--screens DIR`` takes the README's screenshots; the viewer's show the Solvay group photo,
which is copied into the watched folder for them (after the timings).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import LFW, SCRFD_PACK, machine  # noqa: E402

SOLVAY = LFW.parent / "photos" / "solvay_conference_1927.jpg"
STATIC = Path(__file__).resolve().parents[1] / "clusterids" / "web" / "static"
FIRST_GRID = """new MutationObserver((_, obs) => {
  if (document.querySelector('.card.person img')) { window.__firstGrid = performance.now(); obs.disconnect(); }
}).observe(document, {childList: true, subtree: true});"""
TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}

ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
FIRST_SCREEN = """async () => {
  const t0 = performance.now();
  location.hash = '#/unknown';
  const inView = () => [...document.querySelectorAll('#faces img')]
    .filter(i => i.getBoundingClientRect().top < innerHeight);
  for (;;) {
    await new Promise(r => requestAnimationFrame(r));
    const imgs = inView();
    if (imgs.length && imgs.every(i => i.complete && i.naturalWidth > 0)) return [performance.now() - t0, imgs.length];
  }
}"""
IN_VIEW_LOADED = """[...document.images].filter(i => i.getBoundingClientRect().top < innerHeight)
  .every(i => i.complete && i.naturalWidth > 0)"""
CORRECTION = """async ([fid, target]) => {
  const grid = document.querySelector('#faces');
  const y0 = scrollY;
  const t0 = performance.now();
  document.querySelector(`.face[data-face='${fid}'] .pick`).click();
  document.querySelector(`aside .target[data-person='${target}']`).click();
  while (document.querySelector(`.face[data-face='${fid}']`)) await new Promise(r => setTimeout(r, 2));
  return [performance.now() - t0, grid === document.querySelector('#faces') && Math.abs(scrollY - y0) < 200];
}"""


def cli(env: dict[str, str], *args: str) -> Any:
    out = subprocess.run([sys.executable, "-m", "clusterids.cli", *args], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out) if "--json" in args else out.strip()


def build(out: Path, unknown: int) -> dict[str, str]:
    env = dict(os.environ) | {"CLUSTERIDS_LIBRARY": str(out / "library"), "CLUSTERIDS_PROGRESS": "false",
                              "CLUSTERIDS_SETTLE_SECONDS": "0.5", "CLUSTERIDS_RECLUSTER_MINUTES": "0",
                              "CLUSTERIDS_RECLUSTER_AFTER_FACES": "0"}
    folder = out / "photos"
    if not (out / "library").is_dir():
        people = sorted(d for d in os.listdir(LFW) if len(os.listdir(LFW / d)) >= 4)[:12]
        for d in people:
            (folder / d).mkdir(parents=True, exist_ok=True)
            for f in sorted(os.listdir(LFW / d))[:4]:
                shutil.copy(LFW / d / f, folder / d / f)
        cli(env, "--model", str(SCRFD_PACK), "index", str(folder), "--json")
        cli(env, "recluster", "--json")
    from clusterids.app import open_library
    from clusterids.config import load_settings
    from clusterids.store.db import Face

    with open_library(load_settings({}, environ=env)) as lib, lib.db.transaction() as s:
        real = s.query(Face).all()
        have = s.query(Face).filter(Face.person_id.is_(None)).count()
        for i in range(max(0, unknown - have)):
            f = real[i % len(real)]
            s.add(Face(photo_id=f.photo_id, x1=f.x1, y1=f.y1, x2=f.x2, y2=f.y2, landmarks=f.landmarks,
                       det_score=f.det_score, size_px=f.size_px, sharpness=f.sharpness, vector=f.vector))
    env["_FOLDER"] = str(folder)
    return env


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--unknown", type=int, default=2000)
    ap.add_argument("--screens", type=Path)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--baseline-static", type=Path, help="the page's files of the version to compare with")
    a = ap.parse_args()
    env = build(a.out, a.unknown)
    folder = env.pop("_FOLDER")
    thumbs = a.out / "library" / "thumbs"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        env["CLUSTERIDS_API_PORT"] = str(sock.getsockname()[1])
    daemon = subprocess.Popen([sys.executable, "-m", "clusterids.cli", "watch", folder], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    from playwright.sync_api import sync_playwright

    try:
        for _ in range(120):
            try:
                url = cli(env, "ui", "--no-browser")
                if "/login" in url:
                    break
            except subprocess.CalledProcessError:
                time.sleep(0.5)
        people = cli(env, "people", "--json")
        report: dict[str, Any] = {"machine": machine(), "unknown_faces": a.unknown, "persons": len(people)}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            for name, vp in (("desktop", {"width": 1440, "height": 900}), ("phone", {"width": 390, "height": 844})):
                cold, warm = [], []
                for run in range(a.runs):
                    for mode, into in (("cold", cold), ("warm", warm)):
                        if mode == "cold":  # no crop on disk: the first screen makes its crops
                            shutil.rmtree(thumbs, ignore_errors=True)
                        # warm: the crops made once (by the cold run, as by the background pass) are reused
                        ctx = browser.new_context(viewport=vp)
                        page = ctx.new_page()
                        page.goto(cli(env, "ui", "--no-browser"))
                        page.wait_for_selector(".card.person")
                        ms, n = page.evaluate(FIRST_SCREEN)
                        into.append(ms)
                        ctx.close()
                    del run
                report[f"unknown_first_screen_ms_{name}"] = {"cold": round(statistics.median(cold), 1),
                                                             "warm": round(statistics.median(warm), 1),
                                                             "faces_in_view": n}
            # a correction on the unknown faces page: in place, the scroll kept
            ctx = browser.new_context(viewport={"width": 1440, "height": 900})
            page = ctx.new_page()
            page.goto(cli(env, "ui", "--no-browser"))
            page.wait_for_selector(".card.person")
            page.evaluate(FIRST_SCREEN)
            page.evaluate("window.scrollTo(0, 400)")
            faces = [f["id"] for f in cli(env, "faces", "--unknown", "--json")][40:40 + a.runs]
            times, scrolls = [], []
            for fid in faces:
                ms, kept = page.evaluate(CORRECTION, [fid, people[0]["id"]])
                times.append(ms)
                scrolls.append(kept)
            report["correction_round_trip_ms"] = {"median": round(statistics.median(times), 1),
                                                  "max": round(max(times), 1),
                                                  "in_place_scroll_kept": all(scrolls)}
            for _ in faces:
                cli(env, "undo")
            ctx.close()
            if a.baseline_static:
                report["page_load_ms"] = page_load(browser, env, a.baseline_static, a.runs)
            print(json.dumps(report, indent=1), flush=True)
            if a.screens:
                screens(browser, env, people, a.screens, Path(folder))
            browser.close()
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(60)


def served_from(folder: Path) -> Any:
    """A route handler that serves the page's own files from ``folder`` (the API goes through)."""
    def handle(route: Any) -> None:
        path = route.request.url.split("://", 1)[1].split("/", 1)[1].split("?")[0].split("#")[0]
        file = folder / (path or "index.html")
        if path.startswith(("api/", "login")) or not file.is_file():
            route.continue_()
        else:
            route.fulfill(body=file.read_bytes(), content_type=TYPES.get(file.suffix, "application/octet-stream"))
    return handle


def page_load(browser: Any, env: dict[str, str], baseline: Path, runs: int) -> dict[str, Any]:
    """Login link to the first cover drawn, nothing cached: baseline (A) and this version (B), alternated."""
    times: dict[str, list[float]] = {"A": [], "B": []}
    for _ in range(runs):
        for arm, folder in (("A", baseline), ("B", STATIC)):
            ctx = browser.new_context(viewport={"width": 1440, "height": 900})
            ctx.add_init_script(FIRST_GRID)
            ctx.route("**/*", served_from(folder))
            page = ctx.new_page()
            page.goto(cli(env, "ui", "--no-browser"))
            page.wait_for_function("window.__firstGrid")
            times[arm].append(page.evaluate("window.__firstGrid"))
            ctx.close()
    return {arm: round(statistics.median(t), 1) for arm, t in times.items()} | {
        "files": {"A": len(list(baseline.glob("*"))), "B": len(list(STATIC.glob("*")))}}


def screens(browser: Any, env: dict[str, str], people: list[dict[str, Any]], out: Path, folder: Path) -> None:
    """The README's screenshots: grid, timeline, viewer (the Solvay group photo), suggestions; desktop and phone."""
    out.mkdir(parents=True, exist_ok=True)
    who = people[0]["id"]
    shutil.copy(SOLVAY, folder / SOLVAY.name)  # the daemon indexes it
    for _ in range(240):
        if any(f["photo"].endswith(SOLVAY.name) for f in cli(env, "faces", "--unknown", "--json")):
            break
        time.sleep(0.5)
    for name, vp in (("desktop", {"width": 1440, "height": 900}), ("phone", {"width": 390, "height": 844})):
        touch = {"has_touch": True, "is_mobile": True} if name == "phone" else {}
        ctx = browser.new_context(viewport=vp, device_scale_factor=1, **touch)
        page = ctx.new_page()
        page.goto(cli(env, "ui", "--no-browser"))
        page.wait_for_selector(".card.person")
        base = page.url.split("#")[0].rstrip("/")
        for view, hash_, ready in (("grid", "#/", "#people img"), ("timeline", f"#/person/{who}", "#timeline img"),
                                   ("suggestions", f"#/suggestions/{who}", "#queue > *")):
            page.goto(f"{base}/{hash_}")
            page.wait_for_selector(ready)
            page.wait_for_load_state("networkidle")
            if view == "timeline":
                page.evaluate("document.querySelector('#timeline').scrollIntoView()")
            page.wait_for_function(IN_VIEW_LOADED)
            page.screenshot(path=str(out / f"page-{view}-{name}.png"))
            if name == "desktop" and view in ("grid", "timeline"):
                page.evaluate("scrollTo(0, 0)")
                page.screenshot(path=str(out / f"screenshot-{'people' if view == 'grid' else 'person'}.png"))
        # the viewer: found through the page's own API module, one face of the crowd shown by name
        solvay = page.evaluate("""async (name) => {
            const api = await import('/api.js');
            const total = (await api.person('unknown', 0, 1)).total_faces;  // the newest faces come last
            const last = await api.person('unknown', Math.max(0, total - 200), 200);
            const photos = new Set(last.faces.map(f => f.photo));
            for (const id of photos) if ((await api.photo(id)).name === name) return id;
        }""", SOLVAY.name)
        page.goto(f"{base}/#/photo/{solvay}?from=unknown")
        page.wait_for_selector("#viewer .box")
        page.wait_for_function(IN_VIEW_LOADED)
        page.wait_for_function("document.querySelector('#viewer img').complete")
        page.focus("#strip .strip-face:nth-child(12) .crop")
        page.evaluate("scrollTo(0, 0)")
        page.screenshot(path=str(out / f"page-viewer-{name}.png"))
        ctx.close()


if __name__ == "__main__":
    main()
