"""Regions matched to detected faces: by box overlap, the best pair first, each at most once."""

from __future__ import annotations

from collections.abc import Sequence

from .orient import Box, iou

MATCH_IOU = 0.3  # a box drawn by hand around a face is larger than the detector's


def pairs(regions: Sequence[Box], faces: Sequence[Box], least: float = MATCH_IOU) -> dict[int, int]:
    """region index -> face index, greedily by overlap (IoU at least ``least``)."""
    scored = sorted(((iou(r, f), i, j) for i, r in enumerate(regions) for j, f in enumerate(faces)), reverse=True)
    out: dict[int, int] = {}
    used: set[int] = set()
    for score, i, j in scored:
        if score < least:
            break
        if i in out or j in used:
            continue
        out[i] = j
        used.add(j)
    return out


def scaled(box: Box, width: float, height: float) -> Box:
    """A normalised box in pixels."""
    return (box[0] * width, box[1] * height, box[2] * width, box[3] * height)


def normalised(box: Sequence[float], width: float, height: float) -> Box:
    """A box in pixels as shares of the image's width and height."""
    return (box[0] / width, box[1] / height, box[2] / width, box[3] / height)
