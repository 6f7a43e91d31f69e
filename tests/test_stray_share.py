"""What "no person holds more than 2% of another identity's faces" can mean (issue 17): read
literally, and per person as the share of its faces that are of other identities, counted among
persons of 10 faces or more (a smaller person cannot hold 2% of anything)."""

from __future__ import annotations

import numpy as np

from clusterids.evaluation import stray_shares


def test_stray_shares_read_literally_and_per_large_person() -> None:
    truth = ["ann"] * 49 + ["bob"] * 3 + ["cat"] * 12 + ["dan"] * 4
    # person 0: 49 of Ann and 1 of Bob (2% stray, so not above); person 1: 12 of Cat and 2 of Bob
    # (14%); person 2: Dan's 4 faces, too small to count per person; Bob's last face unknown
    pred = np.array([0] * 49 + [0, 1, -1] + [1] * 12 + [2, 2, 2, 1])
    r = stray_shares(truth, pred)
    assert r["taken_over_2pct"] == 2  # persons 0 and 1 each hold a third or more of Bob's, and 1 a quarter of Dan's
    assert r["persons_10"] == 2 and r["stray_over_2pct"] == 1
    assert r["max_stray_share_10"] == round(2 / 14, 4)
