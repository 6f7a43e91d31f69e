"""EXIF orientation on normalised boxes.

Regions in XMP (MWG, Microsoft, ACDSee) apply to the stored pixels (MWG guidelines 2.0, 5.4
and 5.9); our boxes are in the displayed pixels, the orientation applied (media/imaging.py
``decode``). Orientations 5-8 swap width and height. Boxes here are (x1, y1, x2, y2), each
between 0 and 1 of the image's width and height.
"""

from __future__ import annotations

from ..store.rows import box_iou

Box = tuple[float, float, float, float]

# orientation -> its inverse (2, 3, 4, 5 and 7 undo themselves; 6 and 8 undo each other)
_INVERSE = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 8, 7: 7, 8: 6}


def valid(orientation: object) -> int | None:
    """The orientation as 1-8, None for anything else (absent, 0, 9, text)."""
    try:
        value = int(str(orientation).strip())
    except (TypeError, ValueError):
        return None
    return value if value in _INVERSE else None


def swaps(orientation: int) -> bool:
    """Whether the displayed photo's width is the stored height (a quarter turn)."""
    return orientation in (5, 6, 7, 8)


def _point(orientation: int, u: float, v: float) -> tuple[float, float]:
    """A stored point (normalised) where the displayed photo shows it."""
    return {
        1: (u, v),
        2: (1 - u, v),  # mirrored left to right
        3: (1 - u, 1 - v),  # turned half
        4: (u, 1 - v),  # mirrored top to bottom
        5: (v, u),  # transposed
        6: (1 - v, u),  # shown turned a quarter clockwise
        7: (1 - v, 1 - u),  # transversed
        8: (v, 1 - u),  # shown turned a quarter counter-clockwise
    }[orientation]


def _box(orientation: int, box: Box) -> Box:
    (a, b), (c, d) = _point(orientation, box[0], box[1]), _point(orientation, box[2], box[3])
    return (min(a, c), min(b, d), max(a, c), max(b, d))


def to_display(box: Box, orientation: int) -> Box:
    """A box in the stored pixels as the displayed photo shows it."""
    return _box(orientation, box)


def to_stored(box: Box, orientation: int) -> Box:
    """A box in the displayed pixels where the stored pixels hold it."""
    return _box(_INVERSE[orientation], box)


def clip(box: Box) -> Box | None:
    """The box within the photo; None when nothing of it is left."""
    x1, y1, x2, y2 = (min(1.0, max(0.0, v)) for v in box)
    return (x1, y1, x2, y2) if x2 > x1 and y2 > y1 else None


iou = box_iou  # intersection over union of two boxes (any one unit): the store's
