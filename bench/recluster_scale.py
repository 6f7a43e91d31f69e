"""Re-clustering at scale: the stored-graph DBSCAN vs sklearn's exact DBSCAN, same vectors.

    python bench/recluster_scale.py [--sizes 10000 100000 1000000] [--dims 128 512] [--sklearn-max 100000]
    python bench/recluster_scale.py --sizes 100000 1000000 --only graph graph-approx   # both paths, both sizes

Synthetic face-like vectors: identities of 5 to 120 faces around random centres (same-person
cosine about 0.6-0.7, as measured on LFW), plus 10% noise faces. Each measurement runs in a
child process, so its peak memory (max RSS) is its own.

- graph: every face's neighbours within the radius, exact, blockwise (what ingest does once
  per face, amortised over indexing, and what a from-scratch build cost before issue 21);
- graph-approx: the same from scratch by the k-means cell join (clustering/graph.py, the path
  a large batch of new faces takes), with the adjusted Rand index of DBSCAN's labels over it
  against those over the exact graph, and the share of the exact graph's edges within eps found;
- recluster: DBSCAN over the stored graph (release 0.2's recluster);
- persons: today's whole rule over the same graph (tight DBSCAN, centre join, attach, faces of
  one photo kept apart; photos of 1-6 faces drawn at random), which also reads the vectors;
- add 1%: the graph update when 1% new faces arrive (their neighbours against all faces);
- sklearn: DBSCAN(metric='cosine', algorithm='brute'), the exact reference, and the adjusted
  Rand index of our labels against it.

At 1M faces the from-scratch all-pairs graph takes hours on 2 cores, so that size builds its
graph within each synthetic identity: exact here because vectors of different identities
(and noise) are near-orthogonal by construction; a sample of 500 faces is checked against
all faces to confirm no neighbour lies outside its identity.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine  # noqa: E402

EPS, MIN_SAMPLES, K = 0.45, 2, 32
ROWS = 16_384  # rows of the synthetic vectors drawn at a time (float64: 64 MB at 512-D)


def vectors(n: int, dim: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Filled in float32, ``ROWS`` rows at a time: the values are those of one float64 draw of
    all rows (the generator's stream is the same), without an N x dim float64 temporary (8 GB
    at 1M x 512-D) or the N x dim copy that normalising the whole array makes."""
    rng = np.random.default_rng(seed)
    sizes, total = [], 0
    while total < int(n * 0.9):
        s = int(rng.integers(5, 121))
        sizes.append(s)
        total += s
    sizes[-1] -= total - int(n * 0.9)
    truth = np.repeat(np.arange(len(sizes)), sizes)
    x = np.empty((n, dim), np.float32)
    spread = 0.72 / np.sqrt(dim)  # same-person cosine about 0.66
    for start in range(0, len(truth), 200_000):
        part = truth[start : start + 200_000]
        centres = np.random.default_rng(seed + 1 + start).normal(size=(len(sizes), dim)).astype(np.float32)
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        for i in range(0, len(part), ROWS):
            rows = part[i : i + ROWS]
            x[start + i : start + i + len(rows)] = centres[rows] + rng.normal(scale=spread, size=(len(rows), dim))
        del centres
    for i in range(len(truth), n, ROWS):
        x[i : min(n, i + ROWS)] = rng.normal(size=(min(n, i + ROWS) - i, dim))
    for i in range(0, n, ROWS):
        x[i : i + ROWS] /= np.linalg.norm(x[i : i + ROWS], axis=1, keepdims=True)
    labels = np.concatenate([truth, -1 - np.arange(n - len(truth))])
    return x, labels


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_s() -> float:
    """CPU seconds of this process, all threads: steadier than wall time on a loaded machine."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def one(what: str, n: int, dim: int, out: Path) -> dict:
    from clusterids.clustering.dbscan import dbscan_graph
    from clusterids.clustering.graph import Graph, neighbours, update

    # the recluster pass reads only the stored graph: no vectors in its process (its peak is its own)
    x, truth = vectors(n, dim) if what != "recluster" else (None, None)
    ids = np.arange(n, dtype=np.int64)
    graph_file = out / f"graph-{n}-{dim}.npz"
    res: dict = {"what": what, "n": n, "dim": dim}
    cpu0 = cpu_s()
    if what == "graph-approx":
        from sklearn.metrics import adjusted_rand_score

        start = time.perf_counter()
        g, _ = update(Graph.empty(0.3), ids, x, K, exact=False)
        res["seconds"] = round(time.perf_counter() - start, 2)
        res["cpu_seconds"] = round(cpu_s() - cpu0, 1)
        res["method"] = "k-means cells, 16 probed, exact products"
        res["edges"] = int(len(g.a))
        g.save(out / f"graph-approx-{n}-{dim}.npz")
        if graph_file.exists():
            ref = Graph.load(graph_file, 0.3)
            res["ari_vs_exact_graph"] = round(float(adjusted_rand_score(
                dbscan_graph(n, ref.a, ref.b, ref.sim, EPS, MIN_SAMPLES),
                dbscan_graph(n, g.a, g.b, g.sim, EPS, MIN_SAMPLES))), 6)
            within = ref.sim >= 1 - EPS
            exact_keys = ref.a[within] * n + ref.b[within]
            got = g.sim >= 1 - EPS
            res["edges_within_eps_found"] = round(float(np.isin(exact_keys, g.a[got] * n + g.b[got]).mean()), 6)
    elif what == "graph":
        start = time.perf_counter()
        if n > 200_000:
            parts = []
            for t in np.unique(truth[truth >= 0]):
                idx = np.flatnonzero(truth == t)
                parts.append(neighbours(x[idx], idx.astype(np.int64), x[idx], idx.astype(np.int64), 0.3, K))
            a = np.concatenate([p[0] for p in parts])
            b = np.concatenate([p[1] for p in parts])
            s = np.concatenate([p[2] for p in parts])
            keep = a < b
            g = Graph(ids, a[keep], b[keep], s[keep], 0.3)
            rng = np.random.default_rng(5)
            sample = rng.choice(n, 500, replace=False)
            sa, sb, _ = neighbours(x[sample], sample.astype(np.int64), x, ids, 0.3, n)
            res["sample_outside_identity"] = int(np.sum((truth[sa] != truth[sb]) | (truth[sa] < 0)))
            res["method"] = "per-identity blocks (checked on a sample)"
        else:
            g, _ = update(Graph.empty(0.3), ids, x, K, exact=True)
            res["method"] = "exact all-pairs, blockwise"
        res["seconds"] = round(time.perf_counter() - start, 2)
        res["cpu_seconds"] = round(cpu_s() - cpu0, 1)
        res["edges"] = int(len(g.a))
        g.save(graph_file)
    elif what == "recluster":
        start = time.perf_counter()
        g = Graph.load(graph_file, 0.3)
        labels = dbscan_graph(n, g.a, g.b, g.sim, EPS, MIN_SAMPLES)
        res["seconds"] = round(time.perf_counter() - start, 2)
        res["clusters"] = int(labels.max() + 1)
        np.save(out / f"labels-{n}-{dim}.npy", labels)
    elif what == "persons":
        from clusterids.clustering.merge import persons

        g = Graph.load(graph_file, 0.3)
        photo = np.repeat(np.arange(n), np.random.default_rng(3).integers(1, 7, n))[:n]
        np.random.default_rng(4).shuffle(photo)
        start = time.perf_counter()
        labels = persons(x, g.a, g.b, g.sim, EPS, MIN_SAMPLES, 0.45, 0.65, 0.6, np.ones(n, bool), photo)
        res["seconds"] = round(time.perf_counter() - start, 2)
        res["clusters"] = int(labels.max() + 1)
    elif what == "add1pct":
        g = Graph.load(graph_file, 0.3)
        keep = n - n // 100
        old = Graph(ids[:keep], g.a[(g.a < keep) & (g.b < keep)], g.b[(g.a < keep) & (g.b < keep)],
                    g.sim[(g.a < keep) & (g.b < keep)], 0.3)
        start = time.perf_counter()
        update(old, ids, x, K)
        res["seconds"] = round(time.perf_counter() - start, 2)
        res["ms_per_new_face"] = round(res["seconds"] * 1000 / (n // 100), 2)
    elif what == "sklearn":
        from sklearn.cluster import DBSCAN
        from sklearn.metrics import adjusted_rand_score

        start = time.perf_counter()
        ref = DBSCAN(eps=EPS, min_samples=MIN_SAMPLES, metric="cosine", algorithm="brute").fit_predict(x)
        res["seconds"] = round(time.perf_counter() - start, 2)
        ours = np.load(out / f"labels-{n}-{dim}.npy")
        res["ari_ours_vs_exact"] = round(float(adjusted_rand_score(ref, ours)), 6)
    res["peak_rss_mb"] = round(peak_mb())
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--dims", type=int, nargs="+", default=[128, 512])
    ap.add_argument("--dim", type=int, default=512, help=argparse.SUPPRESS)
    ap.add_argument("--sklearn-max", type=int, default=100_000)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    ap.add_argument("--only", nargs="+", default=["graph", "graph-approx", "recluster", "persons", "add1pct",
                                                  "sklearn"],
                    help="measurements to run (a graph must exist from an earlier 'graph' run)")
    ap.add_argument("--one", nargs=2, metavar=("WHAT", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]), args.dim, args.out)))
        return
    rows = []
    started = os.getloadavg()
    for dim in args.dims:
        for n in args.sizes:
            for what in [w for w in args.only if w != "sklearn" or n <= args.sklearn_max]:
                before = os.getloadavg()[0]
                proc = subprocess.run([sys.executable, __file__, "--one", what, str(n), "--dim", str(dim),
                                       "--out", str(args.out)], capture_output=True, text=True)
                if proc.returncode != 0:
                    rows.append({"what": what, "n": n, "dim": dim, "error": proc.stderr.strip().splitlines()[-1:]})
                else:
                    rows.append(json.loads(proc.stdout))
                rows[-1]["load_avg"] = round((before + os.getloadavg()[0]) / 2, 2)
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print(json.dumps({"eps": EPS, "min_samples": MIN_SAMPLES, "k": K, "rows": rows, "machine": machine(),
                      "load_avg_start": [round(v, 2) for v in started]}, indent=1))


if __name__ == "__main__":
    main()
