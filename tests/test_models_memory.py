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

    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        assert bytes(mapped[: 16 << 20]) == data[: 16 << 20]
        mapped.madvise(mmap.MADV_WILLNEED)
        total = sum(mapped[i] for i in range(0, len(mapped), 4096))  # touch every page
        before = _resident_kb(path)
        done = memory.page_out_files()
        after = _resident_kb(path)
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
        before = _resident_kb(path)
        if memory.page_out_files() == 0:
            pytest.skip("this kernel has no MADV_PAGEOUT (Linux < 5.4)")
        after = _resident_kb(path)
        assert before - after >= 48 << 10, (before, after)
        assert mapped[:] == written
    assert path.read_bytes() == written


def _resident_kb(path: Path) -> int:
    """The resident KB of this process's mappings of ``path`` (/proc/self/smaps): counted per
    file, whether the folder is on a disk or on tmpfs, and whatever else the process holds."""
    total, mine = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        parts = line.split()
        if "-" in parts[0] and not parts[0].endswith(":"):
            mine = len(parts) > 5 and parts[5] == str(path)
        elif mine and parts[0] == "Rss:":
            total += int(parts[1])
    return total


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="MADV_DONTNEED and /proc are Linux's")
def test_the_index_files_mapped_twice_are_let_go_of_and_keep_what_was_written(tmp_path: Path) -> None:
    """The vector engine maps each segment twice (a read-only and a writable view); the page-out
    passed over its pages (shared, mapped twice: /proc/PID/smaps), so they stayed resident on an
    idle daemon. Only the files of the folder named are let go of: a mapping elsewhere stays."""
    import mmap

    (tmp_path / "vectors").mkdir()
    (tmp_path / "elsewhere").mkdir()
    chunk, other = tmp_path / "vectors" / "chunk", tmp_path / "elsewhere" / "chunk"
    written = np.random.default_rng(2).integers(0, 255, 32 << 20, np.uint8).tobytes()
    for path in (chunk, other):
        path.write_bytes(bytes(32 << 20))
    with chunk.open("r+b") as fh, mmap.mmap(fh.fileno(), 0) as rw, \
            mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as ro, \
            other.open("r+b") as gh, mmap.mmap(gh.fileno(), 0) as kept, \
            mmap.mmap(gh.fileno(), 0, access=mmap.ACCESS_READ) as kept_ro:
        rw[:] = written  # not flushed: dirty pages, as the engine may leave them
        kept[:] = written
        assert ro[:] == written and kept_ro[:] == written  # both views hold every page now
        before, kept_before = _resident_kb(chunk), _resident_kb(other)
        assert memory.let_go_of_shared(tmp_path / "vectors") >= 64 << 20
        assert before >= 60 << 10 and _resident_kb(chunk) <= 4 << 10, (before, _resident_kb(chunk))
        assert kept_before >= 60 << 10 and _resident_kb(other) >= kept_before  # not under the folder: kept
        assert ro[:] == written and rw[:] == written and kept[:] == written
    assert chunk.read_bytes() == written and other.read_bytes() == written
