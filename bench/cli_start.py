"""How fast the command starts: `clusterids --version` and the reads (`people`, `people --json`,
`photos --person X`, `faces --person X`, `status`), with and without the daemon, each against
`python -c pass` in the same run.

    python bench/cli_start.py [--faces 100000] [--persons 2000] [--repeat 7]
    python bench/cli_start.py --library /tmp/r21/lib --base /tmp/r21-base --repeat 5   # issue 21

With ``--base`` and no daemon, the older tree reads its own copy of the library (its ``status``
opens the vector index, and the engine rewrites files even when it only loads one, which stales
this tree's seal); with the daemon, both trees' commands ask it.

Every command runs in a fresh process; the runs are interleaved so that load from elsewhere
hits all alike (with ``--base``, each command of this tree is followed by the same command of
the older checkout BASE, run with BASE first on PYTHONPATH). Wall and CPU (user + system) times
are medians, also as ratios to `python -c pass` of the same run; memory is the process's peak
RSS (GNU time's %M); the load average is taken before and after. The library is synthetic
(bench/query_latency.py's rows and vectors, no models) unless ``--library`` names one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, running_daemon  # noqa: E402
from query_latency import PACK, build  # noqa: E402

from clusterids.app import open_library  # noqa: E402
from clusterids.config import load_settings  # noqa: E402


def once(argv: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS in MB of one run of ``argv``,
    started by GNU time (a small process: a child forked from this one would report this one's
    size as its own peak)."""
    t = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", *argv], env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr[-300:]}")
    user, system, rss = proc.stderr.split()[-3:]
    return wall, float(user) + float(system), int(rss) / 1024


def measure(commands: dict[str, list[str]], envs: dict[str, dict[str, str]],
            repeat: int) -> dict[str, dict[str, float]]:
    """Each command under each environment (this tree, the base), alternated, ``repeat`` rounds."""
    arms = [(f"{name} [{tree}]" if len(envs) > 1 and name != BASELINE else name, argv, env)
            for name, argv in commands.items() for tree, env in envs.items()
            if name != BASELINE or tree == "now"]
    runs: dict[str, list[tuple[float, float, float]]] = {arm: [] for arm, _, _ in arms}
    load = [round(os.getloadavg()[0], 2)]
    for _ in range(repeat):
        for arm, argv, env in arms:
            runs[arm].append(once(argv, env))
    load.append(round(os.getloadavg()[0], 2))
    wall0 = statistics.median(w for w, _, _ in runs[BASELINE])
    cpu0 = statistics.median(c for _, c, _ in runs[BASELINE])
    out: dict[str, dict[str, float]] = {}
    for arm, r in runs.items():
        wall, cpu = statistics.median(w for w, _, _ in r), statistics.median(c for _, c, _ in r)
        out[arm] = {"median_s": round(wall, 3), "cpu_s": round(cpu, 3), "x_pass_wall": round(wall / wall0, 1),
                    "x_pass_cpu": round(cpu / max(cpu0, 0.01), 1), "peak_rss_mb": round(max(m for *_, m in r), 1)}
    out["load_before_after"] = {"1min": load}  # type: ignore[dict-item]
    return out


BASELINE = "python -c pass"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--faces", type=int, default=100_000)
    ap.add_argument("--persons", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--library", type=Path, help="measure this library (left as it is) instead of a synthetic one")
    ap.add_argument("--base", type=Path, help="an older checkout to alternate against (git worktree add ...)")
    args = ap.parse_args()
    out: dict = {"repeat": args.repeat}
    base = args.base.resolve() if args.base else None
    with tempfile.TemporaryDirectory() as tmp:
        library = args.library.resolve() if args.library else Path(tmp) / "lib"
        os.chdir(tmp)  # `python -m` puts the working folder first on sys.path: PYTHONPATH must pick the tree
        if args.library is None:
            out |= {"faces": args.faces, "persons": args.persons}
            settings = load_settings({"library": str(library), "model": str(PACK), "progress": False})
            with open_library(settings, create=True) as lib:
                build(lib, args.faces, args.persons)
        # opened and closed once by this tree: the catch-up done, the vector index sealed (store/seal.py)
        with open_library(load_settings({"library": str(library), "progress": False})):
            pass
        here = str(Path(__file__).resolve().parents[1])
        env = dict(os.environ) | {"CLUSTERIDS_LIBRARY": str(library), "CLUSTERIDS_RECLUSTER_AFTER_FACES": "0",
                                  "CLUSTERIDS_RECLUSTER_MINUTES": "0", "PYTHONPATH": here}
        envs = {"now": env} | ({"base": env | {"PYTHONPATH": str(base)}} if base else {})
        alone = dict(envs)
        if base:  # without a daemon on its own copy: an older tree's status opens the index, whose load rewrites files
            shutil.copytree(library, Path(tmp) / "base-lib", symlinks=True)
            alone["base"] = envs["base"] | {"CLUSTERIDS_LIBRARY": str(Path(tmp) / "base-lib")}
        commands = _commands(env)
        out["library"] = str(args.library) if args.library else "synthetic"
        out["without_daemon"] = measure(commands, alone, args.repeat)
        watched = Path(tmp) / "watched"
        watched.mkdir()
        with running_daemon(env, str(watched)):  # both trees' commands ask this tree's daemon
            out["with_daemon"] = measure(commands, envs, args.repeat)
    out["machine"] = machine()
    print(json.dumps(out, indent=1))


def _commands(env: dict[str, str]) -> dict[str, list[str]]:
    """The commands measured; X is the library's first person."""
    cli = [sys.executable, "-m", "clusterids.cli"]
    people = json.loads(subprocess.run([*cli, "people", "--json"], env=env, capture_output=True, text=True,
                                       check=True).stdout)
    person = str(people[0]["id"]) if people else "1"
    return {BASELINE: [sys.executable, "-c", "pass"], "clusterids --version": [*cli, "--version"],
            "clusterids people": [*cli, "people"], "clusterids people --json": [*cli, "people", "--json"],
            "clusterids photos --person X": [*cli, "photos", "--person", person],
            "clusterids faces --person X": [*cli, "faces", "--person", person],
            "clusterids status": [*cli, "status"]}


if __name__ == "__main__":
    main()
