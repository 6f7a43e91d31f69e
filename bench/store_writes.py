"""The indexer's writer alone: CPU per photo stored (photo row, its faces, their outbox marks).

    python bench/store_writes.py [--photos 500] [--faces 5]
    python bench/store_writes.py --base /tmp/base [--rounds 5]

Writes synthetic photos of ``--faces`` faces each (128-D vectors) through PhotoWriter into a
fresh SQLite library, the way an index run's one writer does, and prints the writer thread's CPU
per photo. With ``--base TREE`` it runs itself alternately from TREE and from this checkout
in fresh processes (A, B, A, B, ...) and reports each one's median.
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


def once(photos: int, faces: int) -> float:
    import numpy as np

    from clusterids.app import open_core
    from clusterids.config import load_settings
    from clusterids.store.photos import NewFace, PhotoFacts, PhotoWriter, Seen

    rng = np.random.default_rng(0)
    made = [[NewFace((1.0, 2.0, 50.0, 60.0), [[1.0, 2.0]] * 5, 0.9, 50.0, 100.0,
                     rng.standard_normal(128).astype(np.float32).tobytes(), 20.0) for _ in range(faces)]
            for _ in range(photos)]
    tmp = tempfile.mkdtemp()
    try:
        settings = load_settings({"library": tmp + "/lib", "progress": False})
        with open_core(settings, create=True) as core:
            start = time.thread_time()
            with PhotoWriter(core.lib.db) as writer:
                for i in range(photos):
                    writer.store(Seen(f"/photos/p{i}.jpg", 1000, 1), f"{i:064x}", PhotoFacts(4000, 3000, None, 1),
                                 made[i])
            return (time.thread_time() - start) / photos
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=int, default=500)
    ap.add_argument("--faces", type=int, default=5)
    ap.add_argument("--base", type=Path, help="an older checkout to alternate against (git worktree add ...)")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    if args.base is None:
        print(json.dumps({"cpu_ms_per_photo": round(once(args.photos, args.faces) * 1000, 3)}))
        return
    here = Path(__file__).resolve().parents[1]
    runs: dict[str, list[float]] = {str(args.base): [], str(here): []}
    for _ in range(args.rounds):
        for tree in runs:
            env = dict(os.environ, PYTHONPATH=tree)
            out = subprocess.run([sys.executable, __file__, "--photos", str(args.photos), "--faces", str(args.faces)],
                                 cwd=tree, env=env, capture_output=True, text=True, check=True).stdout
            runs[tree].append(json.loads(out)["cpu_ms_per_photo"])
    print(json.dumps({tree: {"median_ms": statistics.median(v), "runs_ms": v} for tree, v in runs.items()}
                     | {"load_avg": os.getloadavg()}, indent=1))


if __name__ == "__main__":
    main()
