"""Second stage of clustering: tight clusters joined by their centres, then stray faces attached.

DBSCAN with a radius tight enough never to chain strangers (one weak link suffices) leaves a
person's profiles, or their photos of other decades, in separate clusters. Each such cluster is
represented by the mean of its trusted faces; two clusters whose centres are close are one
person. A mean is steadier than any single face, so this joins a person's views without the
chaining a wider DBSCAN radius brings. A person thus keeps one centre per view (the clusters it
was made of) for attaching: a face left out joins the person whose nearest centre is within
reach, a tighter reach for a face that fails the quality gate.
"""

from __future__ import annotations

import numpy as np

from .graph import neighbours
from .pairs import PAIR_LEAD, pair_reach, pair_unknown

ROUNDS = 3
# A stray face joins a person only when this many of its trusted faces are near it too, not its
# centre alone; each may be SUPPORT_SLACK farther than the centre's reach (one face is noisier
# than a mean). bench/calibrate.py, docs/benchmarks.md "Calibrated on the union of the dev sets".
ATTACH_SUPPORT = 4
SUPPORT_SLACK = 0.1
# ... and only when its person's nearest centre is this much nearer than any other person's: a
# face as close to two look-alikes (siblings, a child and a parent) is evidence for neither.
ATTACH_LEAD = 0.1
# ... a lead a profile (yaw TURNED_YAW or more: the nose past the outer eye, models/pose.py) of
# LARGE_FACE_PX or more needs: a profile lies far from its person's frontal views, and so hardly
# nearer to them than to anyone else, yet a large one keeps the detail that tells people apart.
# Small profiles (a print, a crowd: upscaled for the recognizer) and faces less turned keep the
# full lead. cfp-dev's profiles were left unknown by it (BCubed 0.954 -> 0.961); lfw-dev,
# lag-dev (faces of 50-65 px) and the composed library (one-off frontal strangers) are unchanged
# (yaw 0.4 cost lfw-dev 0.001). docs/benchmarks.md "A smaller lead for large profiles".
ATTACH_LEAD_TURNED = 0.05
TURNED_YAW = 0.8
LARGE_FACE_PX = 80
# With JOIN_WIDE above 0, clusters whose centres are up to that much beyond join_eps are one
# person when JOIN_PAIRS trusted faces of each have a face of the other within that reach (a
# two-level join: centres alone where close, several face pairs farther). Off: 0.05 gave lag-dev
# pairwise precision +0.008 and nothing elsewhere, but that band (0.50-0.55 for the open pack) is
# where the merge suggestions offer two persons for the user to join (core/suggestions.py,
# tests/test_suggestions.py); docs/benchmarks.md "Evidence a person would accept".
JOIN_WIDE = 0.0
JOIN_PAIRS = 2
RIVALS = 8  # centres looked at for the rival person (beyond them, all are farther)
# Faces this similar in two photos are one face seen twice: the same pixels (a copy of a photo,
# whose faces reuse the original's vectors; a file whose metadata alone differs). One sighting,
# not two: a stranger in a photo kept twice is no person, and a copy follows its original.
# Two shots of one moment (a burst, a rescan) stay below it: 0.995 at most on lag-dev.
COPY_SIM = 0.9999


def _sums(vectors: np.ndarray, labels: np.ndarray, use: np.ndarray, k: int) -> np.ndarray:
    from scipy.sparse import csr_matrix
    rows = np.flatnonzero(use)
    m = csr_matrix((np.ones(len(rows)), (labels[rows], rows)), shape=(k, len(vectors)))
    return np.asarray(m @ vectors.astype(np.float64))


def _centres(vectors: np.ndarray, labels: np.ndarray, weight: np.ndarray) -> np.ndarray:
    k = int(labels.max()) + 1
    sums = _sums(vectors, labels, (labels >= 0) & weight, k)
    # a cluster without trusted faces (possible after an attach) falls back to all its faces
    empty = ~np.any(sums, axis=1)
    if empty.any():
        sums[empty] = _sums(vectors, labels, (labels >= 0) & empty[np.maximum(labels, 0)], k)[empty]
    sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    return sums.astype(np.float32)


def _photos_of(labels: np.ndarray, group: np.ndarray) -> list[set[int]]:
    out: list[set[int]] = [set() for _ in range(int(labels.max()) + 1)]
    for lb, g in zip(labels.tolist(), group.tolist(), strict=True):
        if lb >= 0:
            out[lb].add(g)
    return out


def join_clusters(vectors: np.ndarray, labels: np.ndarray, min_sim: float, trusted: np.ndarray,
                  group: np.ndarray | None = None, pairs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
                  wide: float = 0.0, needed: int = JOIN_PAIRS) -> np.ndarray:
    """Clusters whose centres have cosine similarity >= ``min_sim`` become one (rounds until
    stable); clusters sharing a photo are never joined. With ``pairs`` (the graph's edges: rows
    a, b and similarity) and ``wide`` above 0, clusters whose centres are up to ``wide`` farther
    join too, when ``needed`` trusted faces on each side have a face of the other within that
    wider reach (a person would accept several look-alike pairs, not one). Labels renumbered
    from 0."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    labels = labels.copy()
    reach = min_sim - wide if pairs is not None and wide > 0 else min_sim
    for _ in range(ROUNDS):
        k = int(labels.max()) + 1
        if k < 2:
            break
        centres = _centres(vectors, labels, trusted)
        ids = np.arange(k, dtype=np.int64)
        a, b, s = neighbours(centres, ids, centres, ids, reach, 16)
        keep = a < b
        a, b, s = a[keep], b[keep], s[keep]
        if reach < min_sim and pairs is not None and len(a):
            backed = _cross_faces(labels, *pairs, trusted, reach, k)
            key = a * k + b
            ok = s >= min_sim
            found = np.searchsorted(backed[0], key)
            hit = found < len(backed[0])
            hit[hit] = backed[0][found[hit]] == key[hit]
            ok[hit] |= backed[1][found[hit]] >= needed
            a, b = a[ok], b[ok]
        if group is not None and len(a):
            photos = _photos_of(labels, group)
            ok = np.array([not (photos[i] & photos[j]) for i, j in zip(a.tolist(), b.tolist(), strict=True)], bool)
            a, b = a[ok], b[ok]
        if not len(a):
            break
        _, comp = connected_components(coo_matrix((np.ones(len(a)), (a, b)), shape=(k, k)), directed=False)
        labels = np.where(labels >= 0, comp[np.maximum(labels, 0)], -1)
    return labels


def _cross_faces(labels: np.ndarray, a: np.ndarray, b: np.ndarray, sim: np.ndarray, trusted: np.ndarray,
                 min_sim: float, k: int) -> tuple[np.ndarray, np.ndarray]:
    """For each two clusters (key x * k + y, x < y, sorted) with trusted faces within ``min_sim``
    of each other: the fewer, over the two sides, of the faces in such a pair."""
    la, lb = labels[a], labels[b]
    m = (la >= 0) & (lb >= 0) & (la != lb) & trusted[a] & trusted[b] & (sim >= min_sim)
    a, b, la, lb = a[m], b[m], la[m], lb[m]
    low = la < lb
    key = np.where(low, la * k + lb, lb * k + la)
    counts = []
    for face in (np.where(low, a, b), np.where(low, b, a)):  # the lower cluster's face, the other's
        distinct = np.unique(np.stack([key, face], axis=1), axis=0) if len(key) else np.zeros((0, 2), np.int64)
        counts.append(np.unique(distinct[:, 0], return_counts=True))
    keys = counts[0][0]  # both sides list the same keys
    return keys, np.minimum(counts[0][1], counts[1][1])


def attach(vectors: np.ndarray, labels: np.ndarray, centre_labels: np.ndarray, trusted: np.ndarray,
           min_sim: float, weak_min_sim: float, group: np.ndarray | None = None, support: int = 1,
           slack: float = SUPPORT_SLACK, lead: float | np.ndarray = 0.0) -> np.ndarray:
    """Each face left unknown joins the person of its most similar cluster centre (clusters as
    DBSCAN made them: ``centre_labels``, a person's several views) when within reach, unless
    that person already holds a face of its photo. With ``support`` above 1 the face must also
    be within that reach less ``slack`` of as many of the person's trusted faces (so a person
    with fewer takes no stray face): a centre lies near many strangers, several of one person's
    faces do not (a one-off face near one or two of them is how the composed library's persons
    went wrong). With ``lead`` above 0 the person's nearest centre must also be that much nearer
    than the nearest centre of any other person (among the face's RIVALS nearest centres); an
    array gives each face its own lead (``leads``)."""
    out = labels.copy()
    noise = np.flatnonzero(out < 0)
    if not len(noise) or centre_labels.max() < 0:
        return out
    lead_of = np.broadcast_to(np.asarray(lead, np.float64), (len(vectors),))[noise]
    rivalled = bool((lead_of > 0).any())
    centres = _centres(vectors, centre_labels, trusted)
    person_of = np.full(len(centres), -1, np.int64)
    member = centre_labels >= 0
    person_of[centre_labels[member]] = labels[member]
    need = np.where(trusted[noise], min_sim, weak_min_sim)
    # each stray face's nearest centres, blockwise (no noise x centres matrix in memory); down to
    # the reach less the lead, so a rival person within the lead is seen
    qa, qb, qs = neighbours(vectors[noise], np.arange(len(noise), dtype=np.int64), centres,
                            np.arange(len(centres), dtype=np.int64) + len(noise),
                            float(min(min_sim, weak_min_sim) - lead_of.max()), RIVALS if rivalled else 3)
    order = np.lexsort((-qs, qa))
    rival = _rivals(qa[order], person_of[qb[order] - len(noise)], qs[order], len(noise)) if rivalled else None
    photos = _photos_of(out, group) if group is not None else None
    backers = _trusted_members(labels, trusted) if support > 1 else []
    banks: dict[int, np.ndarray] = {}
    for row, c, sim in zip(qa[order].tolist(), (qb[order] - len(noise)).tolist(), qs[order].tolist(), strict=True):
        i = int(noise[row])
        if out[i] >= 0 or sim < need[row]:
            continue
        p = int(person_of[c])
        if p < 0:
            continue
        if rival is not None and sim - rival[row] < lead_of[row]:
            continue
        if support > 1:
            if p not in banks:  # each person's trusted faces gathered once, not per stray face
                banks[p] = vectors[backers[p]]
            near = int(np.count_nonzero(banks[p] @ vectors[i] >= need[row] - slack))
            if near < support:
                continue
        if photos is not None and group is not None:
            if int(group[i]) in photos[p]:
                continue
            photos[p].add(int(group[i]))
        out[i] = p
    return out


def _rivals(row: np.ndarray, person: np.ndarray, sim: np.ndarray, n: int) -> np.ndarray:
    """For each stray face (``row``, its centres sorted nearest first): the similarity of the
    nearest centre of another person than its nearest centre's (-inf: none among them)."""
    out = np.full(n, -np.inf)
    first = np.r_[True, row[1:] != row[:-1]] if len(row) else np.zeros(0, bool)
    top = person[first][np.cumsum(first) - 1]  # each pair's face's nearest person
    other = person != top
    seen = np.flatnonzero(other)
    if len(seen):  # the first of each face's other persons, sorted nearest first
        r = row[seen]
        keep = np.r_[True, r[1:] != r[:-1]]
        out[r[keep]] = sim[seen[keep]]
    return out


def _trusted_members(labels: np.ndarray, trusted: np.ndarray) -> list[np.ndarray]:
    """Each person's trusted faces (rows), as the persons stand before attaching."""
    rows = np.flatnonzero((labels >= 0) & trusted)
    order = rows[np.argsort(labels[rows], kind="stable")]
    cuts = np.searchsorted(labels[order], np.arange(int(labels.max()) + 2))
    return [order[cuts[k]:cuts[k + 1]] for k in range(int(labels.max()) + 1)]


def persons(vectors: np.ndarray, a: np.ndarray, b: np.ndarray, sim: np.ndarray, eps: float, min_samples: int,
            join_eps: float, attach_eps: float, weak_attach_eps: float, trusted: np.ndarray,
            group: np.ndarray | None = None, weak_eps: float | None = None, attach_support: int = ATTACH_SUPPORT,
            support_slack: float = SUPPORT_SLACK, attach_lead: float | np.ndarray = ATTACH_LEAD,
            join_wide: float = JOIN_WIDE, pair_lead: float = PAIR_LEAD,
            can_pair: np.ndarray | None = None) -> np.ndarray:
    """The whole rule: tight DBSCAN over the graph's edges (trusted cores only), clusters
    joined by their centres (or, a little farther, by several face pairs), stray faces attached
    (near several of a person's faces, and nearer to it than to any other person by a lead), and
    every group whose faces spread too far from their centre clustered again by density
    (clustering/spread.py), and two unknown faces each other's nearest by ``pair_lead`` made a
    person (clustering/pairs.py; ``can_pair``: the faces that may be, default all). A distance
    of 0 turns a stage off. ``attach_lead``: one for every face, or each face's own (``leads``)."""
    from .dbscan import _apart, dbscan_graph
    from .spread import split_loose

    n = len(vectors)
    original = _originals(n, a, b, sim, group)
    if original is not None:  # the rule over one face of each copy; the copies take its person
        kept = np.flatnonzero(original == np.arange(n))
        row = np.full(n, -1, np.int64)
        row[kept] = np.arange(len(kept))
        edge = (row[a] >= 0) & (row[b] >= 0)
        labels = persons(vectors[kept], row[a[edge]], row[b[edge]], sim[edge], eps, min_samples, join_eps,
                         attach_eps, weak_attach_eps, trusted[kept], None if group is None else group[kept],
                         weak_eps, attach_support, support_slack,
                         np.asarray(attach_lead)[kept] if np.ndim(attach_lead) else attach_lead, join_wide,
                         pair_lead, None if can_pair is None else can_pair[kept])
        return labels[row[original]] if len(labels) else np.full(n, -1, np.int64)
    tight = dbscan_graph(n, a, b, sim, eps, min_samples, trusted, group, weak_eps)
    if len(tight) == 0 or tight.max() < 0:
        return pair_unknown(tight, a, b, sim, pair_reach(eps), pair_lead, group, can_pair)
    joined = tight
    if join_eps:
        joined = join_clusters(vectors, tight, 1.0 - join_eps, trusted, group, (a, b, sim), join_wide)
    if group is not None:
        joined = _apart(joined, group, a, b, sim)
    if attach_eps:
        joined = attach(vectors, joined, np.where(joined >= 0, tight, -1), trusted, 1.0 - attach_eps,
                        1.0 - (weak_attach_eps or attach_eps), group, attach_support, support_slack, attach_lead)
    return pair_unknown(split_loose(vectors, joined, eps), a, b, sim, pair_reach(eps), pair_lead,
                        group, can_pair)


def leads(size_px: np.ndarray, yaw: np.ndarray, lead: float = ATTACH_LEAD,
          turned_lead: float = ATTACH_LEAD_TURNED) -> np.ndarray:
    """The lead each face needs over a rival person to be attached: ``turned_lead`` for a large
    profile, ``lead`` for any other (``size_px``: the shorter side of each face's box)."""
    profile = (np.asarray(size_px) >= LARGE_FACE_PX) & (np.asarray(yaw) >= TURNED_YAW)
    return np.where(profile, turned_lead, lead)


def _originals(n: int, a: np.ndarray, b: np.ndarray, sim: np.ndarray, group: np.ndarray | None) -> np.ndarray | None:
    """Each face's original (the first of the faces COPY_SIM alike across photos, itself where it
    has no copy), or None when no face has a copy."""
    copy = sim >= COPY_SIM
    if group is not None:
        copy &= group[a] != group[b]
    if not copy.any():
        return None
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    _, comp = connected_components(coo_matrix((np.ones(int(copy.sum())), (a[copy], b[copy])), shape=(n, n)),
                                   directed=False)
    first = np.full(int(comp.max()) + 1, n, np.int64)
    np.minimum.at(first, comp, np.arange(n, dtype=np.int64))
    return first[comp]
