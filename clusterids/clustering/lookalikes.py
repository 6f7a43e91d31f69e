"""Unknown faces that resemble each other, grouped for the unknown page (i18): naming a group
names all its faces at once, as Immich and PhotoPrism do with their unnamed clusters.

A view, never a decision: nothing is written. Faces are joined pair by pair over the edges
within the rule's radius, the most similar pair first (single linkage), with three refusals
that keep a group one person: two faces of one photo never share a group (the same-photo
rule), a group never grows past ``MAX_GROUP``, and a join is refused when a face of the joined
group would lie beyond the radius from its centre, or its faces would average below the spread
guard's bound to it (clustering/spread.py): a group never grows by chaining through strangers
(a chain of close pairs keeps at most its few middle links together). Pairs count: two faces
make a group.
"""

from __future__ import annotations

import numpy as np

from .spread import SPREAD_MARGIN

MAX_GROUP = 60  # faces: larger is a person for the recluster to find, not a group to name at a glance


def lookalike_groups(vectors: np.ndarray, photos: np.ndarray, a: np.ndarray, b: np.ndarray, sim: np.ndarray,
                     eps: float, max_group: int = MAX_GROUP) -> list[list[int]]:
    """Groups of two rows or more (row indices, ascending), largest first, then by first row.
    ``vectors``: unit rows; ``photos``: each row's photo; (a, b, sim): edges between rows."""
    floor = 1.0 - eps + SPREAD_MARGIN
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keep = (sim >= 1.0 - eps) & (lo != hi)
    lo, hi, sim = lo[keep], hi[keep], sim[keep]
    order = np.lexsort((hi, lo, -sim))  # the most similar pair first; ties by rows: deterministic
    edges = zip(lo[order].tolist(), hi[order].tolist(), sim[order].tolist(), strict=True)
    photo = photos.tolist()
    root = list(range(len(vectors)))
    members: dict[int, list[int]] = {}
    shots: dict[int, set[int]] = {}
    sums: dict[int, np.ndarray] = {}
    seen: set[tuple[int, int]] = set()

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    for i, j, s in edges:
        ra, rb = find(i), find(j)
        if ra == rb or (ra, rb) in seen:
            continue
        ma, mb = members.get(ra, [ra]), members.get(rb, [rb])
        pa, pb = shots.get(ra, {photo[ra]}), shots.get(rb, {photo[rb]})
        if len(ma) + len(mb) > max_group or pa & pb:
            continue
        if len(ma) + len(mb) == 2:  # a pair: its centre is s-close to both ((1+s)/2)^0.5, no arithmetic needed
            if ((1.0 + s) / 2.0) ** 0.5 < max(floor, 1.0 - eps):
                continue
            total = vectors[ra].astype(np.float64) + vectors[rb].astype(np.float64)
        else:
            total = sums.get(ra, vectors[ra].astype(np.float64)) + sums.get(rb, vectors[rb].astype(np.float64))
            length = float(np.linalg.norm(total))
            if length / (len(ma) + len(mb)) < floor or float((vectors[ma + mb] @ (total / length)).min()) < 1.0 - eps:
                seen.update(((ra, rb), (rb, ra)))  # a chain, not a person: these two are not tried again
                continue
        root[rb] = ra
        members[ra], shots[ra], sums[ra] = ma + mb, pa | pb, total
        for gone in (members, shots, sums):
            gone.pop(rb, None)
    groups = [sorted(m) for r, m in members.items() if find(r) == r and len(m) > 1]
    return sorted(groups, key=lambda g: (-len(g), g[0]))
