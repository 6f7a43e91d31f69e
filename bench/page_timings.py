"""The people page's timings in Debian's Chromium, and the README's screenshots.

    python bench/page_timings.py OUT [--unknown 2000] [--screens docs]

Indexes 48 LFW photos of 12 people (the models run once; OUT keeps the library), then adds
face rows until ``--unknown`` faces are in no person: copies of the real faces (their boxes
and vectors), so each crop is a real crop of a real photo. A real daemon serves the page.
Measured with the Performance API (performance.now() in the page), median of 5:

- unknown faces, first screen: from the navigation to every face image in the viewport decoded,
  cold (no crop cached: each photo decoded once for all its faces) against warm (crops made
  beforehand by the background pass, ``thumbs.warm_face_thumbs``);
- a correction: from the click on a "Move to" target to the face gone from the grid, and whether
  the grid is the same node (not redrawn) with the scroll within one row of where it was.
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
            if a.screens:
                screens(browser, env, people, a.screens)
            browser.close()
        print(json.dumps(report, indent=1))
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(60)


def screens(browser: Any, env: dict[str, str], people: list[dict[str, Any]], out: Path) -> None:
    """The README's screenshots: grid, timeline, viewer with boxes, suggestions; desktop and phone."""
    out.mkdir(parents=True, exist_ok=True)
    who = people[0]["id"]
    photo = cli(env, "faces", "--person", str(who), "--json")[0]
    for name, vp in (("desktop", {"width": 1440, "height": 900}), ("phone", {"width": 390, "height": 844})):
        ctx = browser.new_context(viewport=vp, device_scale_factor=1)
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
        page.goto(f"{base}/#/person/{who}")
        page.wait_for_selector("#timeline a.photo-link")
        href = page.get_attribute("#timeline a.photo-link", "href")
        page.goto(f"{base}/{href}")
        page.wait_for_selector("#viewer .box")
        page.wait_for_function(IN_VIEW_LOADED)
        page.screenshot(path=str(out / f"page-viewer-{name}.png"))
        ctx.close()
    del photo


if __name__ == "__main__":
    main()
