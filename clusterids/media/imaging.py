"""Reading photos: one read of the file, its hash, EXIF orientation and date, reduced decode."""

from __future__ import annotations

import functools
import hashlib
import io
import os
import stat
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

if TYPE_CHECKING:
    from PIL import Image

EXTENSIONS = frozenset({".jpg", ".jpeg", ".jpe", ".png", ".webp", ".tif", ".tiff", ".bmp", ".heic", ".heif"})
EXIF_IFD = 0x8769
DATE_TIME_ORIGINAL = 36867
DATE_TIME = 306
ORIENTATION = 0x0112
# EXIF orientation -> the turn that shows the photo as meant (what ImageOps.exif_transpose does)
TRANSPOSE = {2: 0, 3: 3, 4: 1, 5: 5, 6: 4, 7: 6, 8: 2}  # PIL.Image.Transpose values


# The models shrink a photo to their own input and crop faces at their own size: resizing a
# decode of 1.5x max_side down to it cost a third of the decode and gave them nothing.
SLACK = 1.5


class BadImage(Exception):
    """The file is not a usable image; the message is one line for the user."""


@dataclass
class Decoded:
    bgr: np.ndarray  # oriented, possibly reduced
    scale: float  # original (oriented) pixels per decoded pixel
    width: int  # oriented, original resolution
    height: int
    taken_at: str | None
    orientation: int = 1  # the EXIF orientation applied (or the one given to decode: a sidecar's)
    says_turn: bool = True  # the photo says which way is up (an EXIF orientation tag, or a sidecar's)


def not_a_file(mode: int) -> str | None:
    """Why a file of this mode is no photo to read (a FIFO or a device would block the reader, or
    never end), None for a regular file (i22)."""
    if stat.S_ISREG(mode):
        return None
    kind = next((k for test, k in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                                   (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
                                   (stat.S_ISDIR, "a folder")) if test(mode)), "not a regular file")
    return f"is {kind}, not a photo file: only regular files are read"


class NotRegular(OSError):
    """A path that is no regular file (its ``strerror`` says what it is)."""


def open_regular(path: str) -> BinaryIO:
    """Open a file for reading, refusing (``NotRegular``) anything but a regular file without
    waiting on it: a FIFO's open would wait for a writer, a device's read never end (i22)."""
    why = not_a_file(os.stat(path).st_mode)
    if why:
        raise NotRegular(0, why)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO swapped in meanwhile must not block the open
    fh = os.fdopen(fd, "rb")
    why = not_a_file(os.fstat(fd).st_mode)
    if why:
        fh.close()
        raise NotRegular(0, why)
    os.set_blocking(fd, True)
    return fh


def read_capped(path: str, max_bytes: int) -> bytes:
    """The file's bytes, refused (``BadImage``) past ``max_bytes`` without reading further, and
    when it is no regular file."""
    try:
        fh = open_regular(path)
    except NotRegular as exc:
        raise BadImage(exc.strerror) from None
    with fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise BadImage(f"larger than {max_bytes} bytes (max_file_bytes setting)")
    return data


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _taken_at(img: Image.Image) -> str | None:
    try:
        exif = img.getexif()
        raw = exif.get_ifd(EXIF_IFD).get(DATE_TIME_ORIGINAL) or exif.get(DATE_TIME)
    except Exception:  # broken EXIF blocks are common; the date is optional
        return None
    if not raw:
        return None
    text = str(raw).strip().replace("\x00", "")
    # "2021:06:01 12:30:00" -> ISO 8601
    if len(text) >= 19 and text[4] == ":" and text[7] == ":":
        return f"{text[:4]}-{text[5:7]}-{text[8:10]}T{text[11:19]}"
    return None


@functools.cache
def _decoders() -> None:
    """Pillow, its HEIF plugin and OpenCV load on the first decode, not with every command."""
    import pillow_heif
    from PIL import Image

    pillow_heif.register_heif_opener()
    # We apply our own, configurable pixel limit before decoding (see decode()).
    Image.MAX_IMAGE_PIXELS = None


def exif_orientation(data: bytes) -> int:
    """The photo's own EXIF orientation (1 when it has none), from its header alone."""
    from PIL import Image

    _decoders()
    try:
        value = Image.open(io.BytesIO(data)).getexif().get(ORIENTATION, 1)
    except Exception:  # a photo the decoder will refuse with its own message
        return 1
    return value if value in TRANSPOSE else 1


class Scratch:
    """Memory one thread decodes into, photo after photo (the indexer's threads): a fresh array
    a photo cost more in page faults than the decode itself. A decode into it is overwritten by
    the thread's next one, so its pixels are the photo's only while that photo is in hand."""

    def __init__(self) -> None:
        self._buffer = np.empty(0, np.uint8)

    def take(self, nbytes: int) -> np.ndarray:
        if self._buffer.nbytes < nbytes:
            self._buffer = np.empty(nbytes, np.uint8)
        return self._buffer


def _turbo(data: bytes, h: int, w: int, scratch: Scratch | None) -> np.ndarray | None:
    """libjpeg-turbo's decode at the DCT scale that gives ``h`` x ``w`` (simplejpeg), straight
    into ``scratch`` where given: the pixels OpenCV's decode gives, without its second array and
    copy. None where it declines (CMYK, a damaged file): OpenCV's decode and then Pillow's follow."""
    import simplejpeg

    buffer = scratch.take(h * w * 3) if scratch is not None else None
    try:
        bgr = simplejpeg.decode_jpeg(data, colorspace="BGR", min_height=h, min_width=w, buffer=buffer)
    except ValueError:
        return None
    return bgr if bgr.shape == (h, w, 3) else None


def _bgr_jpeg(data: bytes, r: int, size: tuple[int, int], orientation: int,
              scratch: Scratch | None = None) -> np.ndarray | None:
    """A JPEG's reduced decode (libjpeg's DCT scaling by ``r`` to ``size``, width and height)
    straight to BGR, turned as ``orientation`` says; about a quarter of Pillow's decode, array
    copy and colour swap."""
    bgr = _turbo(data, size[1], size[0], scratch)
    if bgr is None:
        import cv2

        flags = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
                 8: cv2.IMREAD_REDUCED_COLOR_8}[r]
        bgr = cv2.imdecode(np.frombuffer(data, np.uint8), flags | cv2.IMREAD_IGNORE_ORIENTATION)
    if bgr is None:  # truncated or damaged: Pillow decodes it again and says why
        return None
    turn = TRANSPOSE.get(orientation)
    return bgr if turn is None else _turn(bgr, turn)


def _turn(bgr: np.ndarray, turn: int) -> np.ndarray:
    """``turn`` as PIL.Image.Transpose numbers it (TRANSPOSE's values), done by OpenCV."""
    import cv2

    if turn in (0, 1):  # FLIP_LEFT_RIGHT, FLIP_TOP_BOTTOM
        return cv2.flip(bgr, 1 - turn)
    if turn in (2, 3, 4):  # ROTATE_90 (anticlockwise), ROTATE_180, ROTATE_270
        return cv2.rotate(bgr, {2: cv2.ROTATE_90_COUNTERCLOCKWISE, 3: cv2.ROTATE_180, 4: cv2.ROTATE_90_CLOCKWISE}[turn])
    transposed = cv2.transpose(bgr)  # TRANSPOSE; TRANSVERSE is it turned half round
    return transposed if turn == 5 else cv2.rotate(transposed, cv2.ROTATE_180)


def decode(data: bytes, max_side: int, max_pixels: int, orientation: int | None = None,
           fast_jpeg: bool = True, slack: float = SLACK, scratch: Scratch | None = None) -> Decoded:
    """Decode image bytes to oriented BGR about ``max_side`` on its longest side: a decode (a
    JPEG's at its DCT scale) of up to ``slack`` times it is kept as it is, a larger one is
    resized to ``max_side``. Thumbnails give ``slack`` 1 for a firm cap. With ``scratch`` a JPEG
    may be decoded into it (see Scratch).
    ``orientation`` (1-8) replaces the photo's own EXIF orientation (one given in a sidecar).
    A whole JPEG is decoded by libjpeg-turbo (``fast_jpeg``), anything else by Pillow."""
    import cv2
    from PIL import Image, JpegImagePlugin, UnidentifiedImageError

    _decoders()
    if not data:
        raise BadImage("empty file (0 bytes)")
    bgr: np.ndarray | None = None
    try:
        img: Image.Image = Image.open(io.BytesIO(data))
        width, height = img.size
        r = 1
        jpeg = isinstance(img, JpegImagePlugin.JpegImageFile)
        if jpeg:
            # DCT scaling decodes at 1/2, 1/4 or 1/8 for a fraction of the work; keep at least
            # three quarters of max_side so that small faces keep their pixels.
            while r < 8 and max(width, height) / (2 * r) >= 0.75 * max_side:
                r *= 2
        # the pixels the decode will really hold, checked before anything reads them (reading
        # a PNG's EXIF may decode the whole image)
        reduced = (-(-width // r), -(-height // r))  # what a decode at 1/r holds: libjpeg rounds up
        if reduced[0] * reduced[1] > max_pixels:
            raise BadImage(f"{width}x{height} pixels is over the limit of {max_pixels} (max_pixels setting)")
        says_turn = orientation in TRANSPOSE or orientation == 1
        if not says_turn:
            exif = img.getexif()
            says_turn = ORIENTATION in exif
            orientation = exif.get(ORIENTATION, 1)
            orientation = orientation if orientation in TRANSPOSE else 1
        swapped = orientation in (5, 6, 7, 8)
        taken_at = _taken_at(img)
        if jpeg and fast_jpeg and img.mode in ("RGB", "L", "CMYK"):
            bgr = _bgr_jpeg(data, r, reduced, orientation or 1, scratch)
        if bgr is None:  # Pillow: other formats, and what libjpeg-turbo and OpenCV would not read
            if r > 1:
                img.draft("RGB", reduced)
            img.load()
            if orientation in TRANSPOSE:  # our own turn: a sidecar's orientation may replace EXIF's
                img = img.transpose(Image.Transpose(TRANSPOSE[orientation]))
            if img.mode != "RGB":
                img = img.convert("RGB")
            bgr = cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2BGR)
    except BadImage:
        raise
    except UnidentifiedImageError:
        raise BadImage("not an image in a format we read (JPEG, PNG, WebP, TIFF, BMP, HEIC)") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise BadImage(f"cannot decode: {exc}") from None
    if swapped:
        width, height = height, width
    longest = max(bgr.shape[:2])
    if longest > max_side * slack:
        f = max_side / longest
        size = (max(1, round(bgr.shape[1] * f)), max(1, round(bgr.shape[0] * f)))
        bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_LINEAR)
    return Decoded(
        bgr=bgr,
        scale=width / bgr.shape[1],
        width=width,
        height=height,
        taken_at=taken_at,
        orientation=orientation or 1,
        says_turn=says_turn,
    )
