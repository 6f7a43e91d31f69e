"""Last stage of the person rule: two faces left unknown that are each other's nearest face,
within eps + PAIR_BEYOND and by a clear lead over every other face, are one person.

Weak faces (small, blurred, old scans) never become cores, so that they cannot chain strangers;
but then two old photos of one person, and nothing else of them, stay two unknown faces. A pair
that is mutual, close and alone is evidence a person would accept, and it cannot chain: each of
its faces is nearer to the other than to any face by PAIR_LEAD, so no third face is as near, and
a person of weak faces draws no stray face in (the attach stage counts trusted faces only).
On lag-dev (old and childhood photos) 59 of the 61 such pairs within eps + 0.1 by a lead of 0.05
are one identity (39 of 39 by 0.1), on lfw 9 of 10; BCubed F1 0.679 -> 0.696 on lag-dev, 0.993 ->
0.995 on lfw, precision as before (docs/benchmarks.md "Pairs of old photos").
"""

from __future__ import annotations

import numpy as np

from .dbscan import both_ways, ranked

PAIR_LEAD = 0.05
PAIR_BEYOND = 0.1  # a pair may lie this much beyond eps (its lead is what makes it safe)
# ... but never less alike than this: the stored graph keeps edges down to 0.3 (GRAPH_MIN_SIM),
# and a rival within the lead must be among them (a wide eps set by hand would pass it unseen)
PAIR_MIN_SIM = 0.4


def nearest_two(n: int, a: np.ndarray, b: np.ndarray, sim: np.ndarray,
                of: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each face's nearest face over the edges (-1: none), its similarity and the second
    nearest's (-inf where there are fewer edges); ``of``: only these faces' (a mask)."""
    src, dst, s = both_ways(a, b, sim)
    if of is not None:
        mine = of[src]
        src, dst, s = src[mine], dst[mine], s[mine]
    src, dst, s, first = ranked(src, dst, s)
    best = np.full(n, -1, np.int64)
    best_sim = np.full(n, -np.inf)
    second_sim = np.full(n, -np.inf)
    best[src[first]], best_sim[src[first]] = dst[first], s[first]
    nxt = first + 1
    has = nxt < len(src)
    has[has] = src[nxt[has]] == src[first[has]]
    second_sim[src[first[has]]] = s[nxt[has]]
    return best, best_sim, second_sim


def pair_unknown(labels: np.ndarray, a: np.ndarray, b: np.ndarray, sim: np.ndarray, min_sim: float,
                 lead: float = PAIR_LEAD, group: np.ndarray | None = None,
                 can_pair: np.ndarray | None = None) -> np.ndarray:
    """``labels`` with each mutual pair of unknown faces (see the module) made a new person.
    ``min_sim``: the pair's least similarity (``pair_reach`` in the rule). The edges must
    reach down to ``min_sim - lead`` (the stored graph's do); ``group``: faces
    of one photo, never a pair; ``can_pair``: the faces that may be in one (a face marked by
    hand where the detector found none is not: nothing says it is a face, and two such regions
    of background are as alike as two faces)."""
    if lead <= 0 or len(labels) == 0 or not (labels < 0).any():
        return labels
    unknown = labels < 0
    takes = unknown if can_pair is None else unknown & can_pair
    # an edge counts only where it can be a pair's or its rival's, from a face still unknown
    keep = (sim >= min_sim - lead) & (unknown[a] | unknown[b])
    if group is not None:
        keep &= group[a] != group[b]
    best, best_sim, second_sim = nearest_two(len(labels), a[keep], b[keep], sim[keep], unknown)
    with np.errstate(invalid="ignore"):  # -inf - -inf: a face with no edge, never paired
        clear = best_sim - second_sim >= lead
    i = np.flatnonzero(takes & (best >= 0) & (best_sim >= min_sim) & clear)
    j = best[i]
    ok = (best[j] == i) & (i < j) & takes[j] & clear[j]
    i, j = i[ok], j[ok]
    if not len(i):
        return labels
    out = labels.copy()
    new = out.max(initial=-1) + 1 + np.arange(len(i))
    out[i], out[j] = new, new
    return out


def pair_reach(eps: float) -> float:
    """The least similarity of a pair under the rule's radius ``eps``."""
    return max(1.0 - eps - PAIR_BEYOND, PAIR_MIN_SIM)


__all__ = ["PAIR_BEYOND", "PAIR_LEAD", "PAIR_MIN_SIM", "nearest_two", "pair_reach", "pair_unknown"]
