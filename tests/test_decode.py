"""The JPEG fast path (OpenCV's reduced decode) gives Pillow's pixels, turns and refusals."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from clusterids.media.imaging import BadImage, decode


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
    fast = decode(data, 1400, 10**9)  # 1/2 by DCT scaling, then resized to 1400
    slow = decode(data, 1400, 10**9, fast_jpeg=False)
    assert fast.bgr.shape == slow.bgr.shape == (933, 1400, 3)
    assert fast.scale == slow.scale == 3000 / 1400
    assert np.abs(fast.bgr.astype(int) - slow.bgr).mean() < 1.0


def test_a_truncated_jpeg_is_refused_not_half_grey():
    data = _jpeg(400, 300)
    with pytest.raises(BadImage, match="cannot decode"):
        decode(data[: len(data) // 2], 4000, 10**9)


def test_bytes_after_the_image_still_decode():
    # a motion photo carries its video after the JPEG's end
    data = _jpeg(120, 90) + b"\x00\x00\x00\x18ftypmp42" + bytes(200)
    assert decode(data, 4000, 10**9).bgr.shape == (90, 120, 3)
