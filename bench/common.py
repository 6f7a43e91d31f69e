"""Helpers shared by the benchmark scripts: machine description, labelled subsets, libraries."""

from __future__ import annotations

import os
import platform
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SHARED = Path(__file__).resolve().parents[2] / "shared"
LFW = SHARED / "data" / "lfw-dev"
SCRFD_PACK = SHARED / "models" / "scrfd500m-sface"


def machine() -> dict[str, Any]:
    mem = 0
    try:
        with open("/proc/meminfo") as fh:
            mem = int(fh.readline().split()[1]) // 1024 // 1024
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "memory_gib": mem, "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
            "date": datetime.now(UTC).strftime("%Y-%m-%d")}


def labelled_subset(data: Path, out: Path, people: int, distractors: int) -> Path:
    """A folder of links: ``people`` identities with 2+ photos (all their photos; 0: all) and
    ``distractors`` identities with one photo, in name order."""
    folder = out / f"labelled-{data.name}-{people}-{distractors}"
    if folder.is_dir():
        return folder
    ids = sorted(d for d in os.listdir(data) if (data / d).is_dir())
    counts = {d: len([f for f in os.listdir(data / d) if not f.startswith(".")]) for d in ids}
    multi = [d for d in ids if counts[d] >= 2]
    single = [d for d in ids if counts[d] == 1]
    chosen = (multi if people == 0 else multi[:people]) + (single if distractors < 0 else single[:distractors])
    tmp = folder.with_suffix(".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    for d in chosen:
        (tmp / d).mkdir(exist_ok=True)
        for f in sorted(os.listdir(data / d)):
            link = tmp / d / f
            if not link.exists():
                link.symlink_to(data / d / f)
    tmp.rename(folder)
    return folder


@contextmanager
def running_daemon(env: dict[str, str], *paths: str) -> Iterator[Any]:
    """``clusterids watch PATHS`` in the background for the library in ``env``, until it serves;
    yields its client (clusterids.daemon.client.Remote), stops it on the way out."""
    import subprocess
    import sys
    import time

    from clusterids.config import load_settings
    from clusterids.daemon.client import find_daemon

    daemon = subprocess.Popen([sys.executable, "-m", "clusterids.cli", "watch", *paths], env=env,
                              stderr=subprocess.DEVNULL)
    try:
        settings = load_settings({"library": env["CLUSTERIDS_LIBRARY"]})
        while (remote := find_daemon(settings)) is None or not remote.healthy():
            if daemon.poll() is not None:
                raise SystemExit(f"the daemon exited {daemon.returncode}")
            time.sleep(0.1)
        yield remote
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)
