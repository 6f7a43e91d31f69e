"""The JPEG fast path (OpenCV's reduced decode) gives Pillow's pixels, turns and refusals."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from clusterids.media.imaging import BadImage, Scratch, decode


def _jpeg(width: int, height: int, orientation: int = 1, mode: str = "RGB") -> bytes:
    rng = np.random.default_rng(orientation)
    pixels = (rng.random((height, width, 3)) * 255).astype(np.uint8)
    pixels[: height // 3, : width // 3] = (250, 10, 10)  # a corner that shows any wrong turn
    img = Image.fromarray(pixels).convert(mode)
    exif = img.getexif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif, quality=92)
    return buf.getvalue()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_turn_matches_pillow(orientation):
    data = _jpeg(90, 60, orientation)
    fast = decode(data, 4000, 10**9)
    slow = decode(data, 4000, 10**9, fast_jpeg=False)
    assert fast.bgr.shape == slow.bgr.shape
    assert np.abs(fast.bgr.astype(int) - slow.bgr).mean() < 1.0
    assert (fast.width, fast.height, fast.scale, fast.orientation) == (slow.width, slow.height, slow.scale,
                                                                       slow.orientation)


@pytest.mark.parametrize("mode", ["L", "CMYK"])
def test_grey_and_cmyk_jpegs_come_out_as_bgr(mode):
    data = _jpeg(80, 64, mode=mode)
    fast = decode(data, 4000, 10**9)
    slow = decode(data, 4000, 10**9, fast_jpeg=False)
    assert fast.bgr.shape == slow.bgr.shape == (64, 80, 3)
    assert np.abs(fast.bgr.astype(int) - slow.bgr).mean() < 3.0


def test_a_large_jpeg_is_reduced_like_pillows_draft():
    data = _jpeg(3000, 2000)
    fast = decode(data, 1400, 10**9, slack=1.0)  # 1/2 by DCT scaling, then resized to 1400
    slow = decode(data, 1400, 10**9, fast_jpeg=False, slack=1.0)
    assert fast.bgr.shape == slow.bgr.shape == (933, 1400, 3)
    assert fast.scale == slow.scale == 3000 / 1400
    assert np.abs(fast.bgr.astype(int) - slow.bgr).mean() < 1.0


def test_a_decode_near_max_side_is_kept_unresized_for_the_models():
    data = _jpeg(3000, 2000)
    fast = decode(data, 1400, 10**9)  # 1/2 by DCT scaling: 1500 px, within 1.5x of 1400
    slow = decode(data, 1400, 10**9, fast_jpeg=False)
    assert fast.bgr.shape == slow.bgr.shape == (1000, 1500, 3)
    assert fast.scale == slow.scale == 2.0
    assert np.abs(fast.bgr.astype(int) - slow.bgr).mean() < 1.0
    png = io.BytesIO()
    Image.new("RGB", (1400, 700), (90, 120, 150)).save(png, "PNG")
    assert decode(png.getvalue(), 1000, 10**9).bgr.shape == (700, 1400, 3)  # within 1.5x: kept
    assert decode(png.getvalue(), 900, 10**9).bgr.shape == (450, 900, 3)  # beyond: resized


def test_a_truncated_jpeg_is_refused_not_half_grey():
    data = _jpeg(400, 300)
    with pytest.raises(BadImage, match="cannot decode"):
        decode(data[: len(data) // 2], 4000, 10**9)


def test_bytes_after_the_image_still_decode():
    # a motion photo carries its video after the JPEG's end
    data = _jpeg(120, 90) + b"\x00\x00\x00\x18ftypmp42" + bytes(200)
    assert decode(data, 4000, 10**9).bgr.shape == (90, 120, 3)


def test_a_thread_decodes_photo_after_photo_into_the_same_memory():
    scratch = Scratch()
    first, second = _jpeg(640, 480), _jpeg(600, 400, orientation=2)
    a = decode(first, 4000, 10**9, scratch=scratch)
    assert np.array_equal(a.bgr, decode(first, 4000, 10**9).bgr)
    held = a.bgr.copy()
    b = decode(first, 4000, 10**9, scratch=scratch)
    assert np.shares_memory(a.bgr, b.bgr)  # no fresh array (and its page faults) for each photo
    assert np.array_equal(b.bgr, held)
    turned = decode(second, 4000, 10**9, scratch=scratch)  # a turned photo: Pillow's pixels, turned
    slow = decode(second, 4000, 10**9, fast_jpeg=False)
    assert turned.bgr.shape == slow.bgr.shape == (400, 600, 3)
    assert np.abs(turned.bgr.astype(int) - slow.bgr).mean() < 1.0
