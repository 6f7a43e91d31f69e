"""Issue 21: the models load only what they use, and an idle process gives their memory back.

Loading a pack and running it on a photo must not bring in what insightface's package __init__
imports (scipy, scikit-image, requests, tqdm, insightface.app): checked in a fresh interpreter.
The alignment that replaced scikit-image's must give insightface's own crops, on real faces."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from clusterids.models import memory
from clusterids.models.base import FaceModel

from .conftest import OPENCV_ZOO, SCRFD_PACK, SHARED, SOLVAY, needs_shared

# what insightface's __init__ and scikit-image's transforms import, and no model of ours needs
NOT_NEEDED = ("scipy", "scipy.sparse", "scipy.spatial", "skimage", "requests", "tqdm", "insightface",
              "insightface.app", "matplotlib")

SCRIPT = """
import json, sys
from pathlib import Path
import cv2
from clusterids.models.base import FaceModel
det, rec = Path(sys.argv[1]), Path(sys.argv[2])
model = FaceModel("t", det, rec, 640, 0.0)
img = cv2.imread(sys.argv[3])
faces = model.detect(img)
r = model.recognizer()
r.embed(r.align(img, faces[0].kps)[None])
print(json.dumps({"faces": len(faces), "modules": sorted(sys.modules)}))
"""


def _modules_after_a_search(detector: Path, recognizer: Path) -> tuple[int, set[str]]:
    root = str(Path(__file__).resolve().parents[1])
    environ = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(detector), str(recognizer), str(SOLVAY)],
                          env=environ, capture_output=True, text=True, timeout=300, check=False, cwd=root)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.splitlines()[-1])
    return out["faces"], set(out["modules"])


@needs_shared
@pytest.mark.parametrize("detector", ["scrfd", "yunet"])
def test_loading_and_running_the_models_imports_only_what_they_use(detector: str) -> None:
    recognizer = SCRFD_PACK / "face_recognition_sface_2021dec_fp32.onnx"
    yunet = OPENCV_ZOO / "face_detection_yunet_2023mar_int8bq.onnx"
    det = SCRFD_PACK / "scrfd_500m.onnx" if detector == "scrfd" else yunet
    faces, modules = _modules_after_a_search(det, recognizer)
    assert faces >= 20  # the Solvay photo: the models did run
    assert not modules & set(NOT_NEEDED), sorted(modules & set(NOT_NEEDED))


@needs_shared
def test_the_alignment_gives_insightfaces_crops_on_real_faces() -> None:
    """Our OpenCV similarity against insightface's norm_crop (scikit-image's Umeyama), through the
    recognizer: the vectors agree to cosine 0.9999 on every face of the shared photos."""
    from insightface.utils import face_align  # the reference; the models themselves never import it

    model = FaceModel("t", SCRFD_PACK / "scrfd_500m.onnx", SCRFD_PACK / "face_recognition_sface_2021dec_fp32.onnx",
                      640, 0.5)
    rec = model.recognizer()
    ours, theirs = [], []
    for photo in sorted((SHARED / "data" / "photos").rglob("*.jpg")):
        img = cv2.imread(str(photo))
        for face in model.detect(img):
            ours.append(rec.align(img, face.kps))
            theirs.append(face_align.norm_crop(img, landmark=face.kps, image_size=rec.size))
    assert len(ours) >= 50
    cosine = np.sum(rec.embed(np.stack(ours)) * rec.embed(np.stack(theirs)), axis=1)
    assert cosine.min() >= 0.9999, sorted(cosine)[:5]


def test_read_only_and_shared_file_mappings_are_the_ones_paged_out() -> None:
    maps = """\
55d0a0000000-55d0a0021000 r--p 00000000 08:01 1234  /usr/bin/python3.11
55d0a0021000-55d0a0200000 r-xp 00021000 08:01 1234  /usr/bin/python3.11
55d0a0400000-55d0a0420000 rw-p 00400000 08:01 1234  /usr/bin/python3.11
55d0a1000000-55d0a2000000 rw-p 00000000 00:00 0     [heap]
7f0000000000-7f0000100000 r--s 00000000 08:01 99    /lib/vectors/segment.bin
7f0000100000-7f0000180000 rw-s 00000000 08:01 98    /lib/vectors/wal/closed-100
7f0000200000-7f0000300000 ---p 00000000 00:00 0
7ffd0000000-7ffd0021000 r-xp 00000000 00:00 0       [vdso]
"""
    assert memory.file_mappings(maps) == [
        (0x55D0A0000000, 0x21000), (0x55D0A0021000, 0x1DF000), (0x7F0000000000, 0x100000),
        (0x7F0000100000, 0x80000)]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="MADV_PAGEOUT and /proc are Linux's")
def test_paging_out_drops_clean_file_pages_and_keeps_their_contents(tmp_path: Path) -> None:
    """A file mapped and read in counts in the process's file-backed RSS; after page_out_files it
    no longer does (the kernel took the clean pages back), and reading it again gives the same bytes."""
    import mmap

    data = np.random.default_rng(0).integers(0, 255, 64 << 20, np.uint8).tobytes()
    path = tmp_path / "blob"
    path.write_bytes(data)

    def rss_file_kb() -> int:
        line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("RssFile:"))
        return int(line.split()[1])

    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        assert bytes(mapped[: 16 << 20]) == data[: 16 << 20]
        mapped.madvise(mmap.MADV_WILLNEED)
        total = sum(mapped[i] for i in range(0, len(mapped), 4096))  # touch every page
        before = rss_file_kb()
        done = memory.page_out_files()
        after = rss_file_kb()
        if done == 0:
            pytest.skip("this kernel has no MADV_PAGEOUT (Linux < 5.4)")
        assert before - after >= 48 << 10, (before, after)  # most of the 64 MB mapping left the RSS
        assert sum(mapped[i] for i in range(0, len(mapped), 4096)) == total
        assert bytes(mapped[-4096:]) == data[-4096:]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="MADV_PAGEOUT and /proc are Linux's")
def test_paging_out_a_written_shared_mapping_drops_its_pages_and_keeps_what_was_written(tmp_path: Path) -> None:
    """The vector engine writes through shared mappings: on an idle daemon their pages leave
    the RSS (those written and flushed too), and what was written stays, in the mapping and in
    the file. Before, only read-only mappings were paged out."""
    import mmap

    path = tmp_path / "segment"
    path.write_bytes(bytes(64 << 20))
    written = np.random.default_rng(1).integers(0, 255, 64 << 20, np.uint8).tobytes()
    with path.open("r+b") as fh, mmap.mmap(fh.fileno(), 0) as mapped:
        mapped[:] = written
        mapped.flush()  # as the engine's flush leaves them: written to the file, clean
        before = _rss_file_kb()
        if memory.page_out_files() == 0:
            pytest.skip("this kernel has no MADV_PAGEOUT (Linux < 5.4)")
        after = _rss_file_kb()
        assert before - after >= 48 << 10, (before, after)
        assert mapped[:] == written
    assert path.read_bytes() == written


def _rss_file_kb() -> int:
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("RssFile:"))
    return int(line.split()[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="MADV_PAGEOUT and /proc are Linux's")
def test_a_file_mapped_twice_leaves_the_rss_and_keeps_what_was_written(tmp_path: Path) -> None:
    """The vector engine maps each segment twice (a read-only and a writable view); the page-out
    alone passes over pages mapped twice, so they stayed resident on an idle daemon."""
    import mmap

    path = tmp_path / "chunk"
    path.write_bytes(bytes(32 << 20))
    written = np.random.default_rng(2).integers(0, 255, 32 << 20, np.uint8).tobytes()
    with path.open("r+b") as fh, mmap.mmap(fh.fileno(), 0) as rw, \
            mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as ro:
        rw[:] = written  # not flushed: dirty pages, as the engine may leave them
        assert ro[:] == written  # both views hold every page now
        before = _rss_file_kb()
        if memory.page_out_files() == 0:
            pytest.skip("this kernel has no MADV_PAGEOUT (Linux < 5.4)")
        after = _rss_file_kb()
        assert before - after >= 48 << 10, (before, after)  # of the 64 MB the two views held
        assert ro[:] == written and rw[:] == written
    assert path.read_bytes() == written
