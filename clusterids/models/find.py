"""Finding the faces of a photo whatever their size in the frame and the photo's turn.

The detector works at one input scale: a face filling the whole photo (ID photos, profile
pictures, prints cut to the face) is larger than its anchors, and a photo turned sideways
without an EXIF orientation shows faces it was never trained on. When the first pass finds
nothing, the photo is tried again on a padded canvas (the face then fills half of it), then
turned a quarter each way; the retries run at a small input size, so they cost a fraction of
the first pass and only on photos that gave no face. The photo is shrunk to the retry's input
before it is padded or turned: the detector would shrink it anyway, and padding or turning a
full-size photo cost as much as the detector pass itself. A face the first pass found on its
side (its landmarks say so) is found again on the photo turned upright: the detector guesses
the landmarks of a sideways face, and the vector aligned on them is another person's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import cv2
import numpy as np

from .base import Detection

PAD = 0.5  # border on each side of the padded canvas, as a share of the photo's longer side
RETRY_SIZE = 320  # detector input side of the retries
UPRIGHT = 45.0  # degrees: a face turned further than this was seen on its side
SAME = 0.3  # a face found again on the turned photo overlaps its first box at least this much


class _Detect(Protocol):
    """What find_faces needs of a model."""

    def detect(self, img_bgr: np.ndarray, size: int | None = None) -> list[Detection]: ...


def _clip(d: Detection, w: int, h: int, points: Callable[[np.ndarray], np.ndarray]) -> Detection | None:
    x1, y1, x2, y2 = d.bbox.tolist()
    corners = points(np.array([[x1, y1], [x2, y1], [x1, y2], [x2, y2]], np.float32))
    kps = points(d.kps.astype(np.float32))
    lo = np.maximum(corners.min(axis=0), 0.0)
    hi = np.minimum(corners.max(axis=0), [w, h])
    if np.any(hi - lo < 2):  # the box lies in the border
        return None
    return Detection(np.array([lo[0], lo[1], hi[0], hi[1]], np.float32), kps.astype(np.float32), d.score)


def _shrunk(img: np.ndarray, side: float) -> tuple[np.ndarray, float]:
    """The photo at most ``side`` pixels on its longer side, and the factor applied."""
    h, w = img.shape[:2]
    f = min(1.0, side / max(h, w))
    if f == 1.0:
        return img, 1.0
    small = cv2.resize(img, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    return small, f


def padded_pass(model: _Detect, img: np.ndarray, size: int = RETRY_SIZE) -> list[Detection]:
    """The photo in the middle of a grey canvas twice its size: close-ups come within scale."""
    h, w = img.shape[:2]
    small, f = _shrunk(img, size / (1 + 2 * PAD))  # the canvas is then at most the detector's input
    pad = int(round(PAD * max(small.shape[:2])))
    canvas = cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(127, 127, 127))
    out = []
    for d in model.detect(canvas, size):
        kept = _clip(d, w, h, lambda p: (p - pad) / f)
        if kept is not None:
            out.append(kept)
    return out


def turned_pass(model: _Detect, img: np.ndarray, quarter: int, size: int | None = RETRY_SIZE) -> list[Detection]:
    """Detect on the photo turned ``quarter`` quarter-turns counter-clockwise (np.rot90), with
    boxes and landmarks mapped back to the photo's own pixels (``size`` None: at the first
    pass's own input size, for the small faces of a group)."""
    h, w = img.shape[:2]
    small, f = _shrunk(img, size) if size is not None else (img, 1.0)
    turned = np.ascontiguousarray(np.rot90(small, quarter))

    def back(p: np.ndarray) -> np.ndarray:
        p = p / f
        x, y = p[:, 0], p[:, 1]
        if quarter % 4 == 1:  # counter-clockwise: turned (x, y) was (w - y, x)
            return np.stack([w - y, x], axis=1)
        if quarter % 4 == 3:  # clockwise: turned (x, y) was (y, h - x)
            return np.stack([y, h - x], axis=1)
        return np.stack([w - x, h - y], axis=1)

    out = []
    for d in model.detect(turned, size):
        kept = _clip(d, w, h, back)
        if kept is not None:
            out.append(kept)
    return out


def find_faces(model: _Detect, img: np.ndarray, padded: bool = True,
               turned: bool = True) -> tuple[list[Detection], str]:
    """The faces of a photo and the pass that found them: 'direct', 'padded', 'turned' or ''.
    ``turned``: a photo that gave no face is tried turned too (a face found on its side is
    straightened whatever it says: that costs a pass only where there is one)."""
    found = model.detect(img, None)
    if found:
        return straighten(model, img, found), "direct"
    if padded:
        found = padded_pass(model, img)
        if found:
            return found, "padded"
    if turned:
        # a quarter each way, then upside down; only faces upright where they were found count
        for quarter in (1, 3, 2):
            found = [d for d in turned_pass(model, img, quarter) if upright(d, quarter)]
            if found:
                return found, "turned"
    return [], ""


def tilt(kps: np.ndarray) -> float:
    """How far a face is turned in the picture plane, in degrees (-180, 180]: the angle of its
    eyes-to-mouth line from straight down (0 for an upright face, 90 for one that a quarter-turn
    counter-clockwise of the photo brings upright)."""
    down = (kps[3] + kps[4]) / 2 - (kps[0] + kps[1]) / 2
    return float(np.degrees(np.arctan2(-down[0], down[1])))


def upright(d: Detection, quarter: int = 0) -> bool:
    """Whether the face stood upright for the detector (the photo turned ``quarter`` quarter-turns
    counter-clockwise): a face it saw on its side has landmarks it guessed."""
    return abs((tilt(d.kps) - 90 * quarter + 180) % 360 - 180) <= UPRIGHT


def straighten(model: _Detect, img: np.ndarray, found: list[Detection]) -> list[Detection]:
    """A face the first pass found on its side (a scan or a camera photo stored sideways, someone
    lying down) is found again on the photo turned to bring it upright, where its landmarks,
    and so its vector, are right; faces found there and not before (the rest of a sideways
    photo's people) are added. A face not found again keeps the first pass's landmarks."""
    sideways = [d for d in found if not upright(d)]
    if not sideways:
        return found
    out = [d for d in found if upright(d)]
    for quarter in sorted({_quarter(d) for d in sideways} - {0}):
        again = [d for d in turned_pass(model, img, quarter, None) if upright(d, quarter)]
        for d in sideways:
            if _quarter(d) != quarter:
                continue
            best = max(again, key=lambda a: _overlap(a, d), default=None)
            if best is not None and _overlap(best, d) >= SAME:
                again.remove(best)
                out.append(best)
            else:
                out.append(d)
        out += [a for a in again if all(_overlap(a, o) < SAME for o in out)]
    out += [d for d in sideways if _quarter(d) == 0]
    return out


def _quarter(d: Detection) -> int:
    """The quarter-turns (counter-clockwise) that bring a face found on its side upright."""
    return round(tilt(d.kps) / 90) % 4


def _overlap(a: Detection, b: Detection) -> float:
    x1, y1 = np.maximum(a.bbox[:2], b.bbox[:2])
    x2, y2 = np.minimum(a.bbox[2:], b.bbox[2:])
    inter = max(0.0, float(x2 - x1)) * max(0.0, float(y2 - y1))
    area = float((a.bbox[2] - a.bbox[0]) * (a.bbox[3] - a.bbox[1]) + (b.bbox[2] - b.bbox[0]) * (b.bbox[3] - b.bbox[1]))
    return inter / (area - inter) if area > inter else 0.0
