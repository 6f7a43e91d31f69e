"""The models at run time: the selective flip, the raw norm, unloading when idle, a lower priority."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from clusterids.config import load_settings
from clusterids.indexer.embed import detect_and_embed
from clusterids.media.imaging import decode
from clusterids.models.base import FaceModel, unit
from clusterids.models.packs import resolve
from clusterids.models.pose import yaw
from clusterids.models.priority import lower_thread_priority, thread_priority

from .conftest import LFW, SCRFD_PACK, SHARED, needs_shared

FRONTAL = LFW / "Aaron_Eckhart" / "Aaron_Eckhart_0001.jpg"
PROFILE = SHARED / "data" / "cfp-dev" / "50_Cent" / "001_profile_01.jpg"


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory):
    settings = load_settings({"library": str(tmp_path_factory.mktemp("lib")), "model": str(SCRFD_PACK)})
    return settings, resolve(str(SCRFD_PACK), settings).load(settings)


def _faces(model: FaceModel, settings, path):
    decoded = decode(path.read_bytes(), settings.decode_max_side, settings.max_pixels)
    return decoded, detect_and_embed(model, settings, decoded)


def _raw(model: FaceModel, decoded, kps: list[list[float]]) -> tuple[np.ndarray, np.ndarray]:
    """The recognizer's raw outputs for the aligned face and for its mirror."""
    rec = model.recognizer()
    crop = rec.align(decoded.bgr, np.asarray(kps, np.float32) / decoded.scale)[None]
    return rec.embed_raw(crop)[0], rec.embed_raw(np.ascontiguousarray(crop[:, :, ::-1]))[0]


@needs_shared
@pytest.mark.skipif(not PROFILE.is_file(), reason=f"needs {PROFILE}")
def test_only_turned_faces_are_embedded_with_their_mirror(pack):
    settings, model = pack
    for path, turned in ((FRONTAL, False), (PROFILE, True)):
        decoded, faces = _faces(model, settings, path)
        face = max(faces, key=lambda f: f.size_px)
        assert (yaw(np.array(face.landmarks))[0] >= settings.flip_min_yaw) == turned, path
        raw, mirror = _raw(model, decoded, face.landmarks)
        expected = unit((raw + mirror if turned else raw)[None])[0]
        assert float(face.vector @ expected) > 0.9999, path
        assert face.norm == pytest.approx(float(np.linalg.norm(raw)), rel=1e-3)  # never the mirror's
    # flip_min_yaw 0 mirrors every face; flip_embed off mirrors none
    decoded, faces = _faces(model, settings.replace(flip_min_yaw=0.0), FRONTAL)
    raw, mirror = _raw(model, decoded, faces[0].landmarks)
    assert float(faces[0].vector @ unit((raw + mirror)[None])[0]) > 0.9999
    decoded, faces = _faces(model, settings.replace(flip_embed=False), PROFILE)
    raw, _ = _raw(model, decoded, faces[0].landmarks)
    assert float(faces[0].vector @ unit(raw[None])[0]) > 0.9999


@needs_shared
def test_one_batch_of_faces_and_mirrors_gives_what_separate_calls_give(pack):
    _, model = pack
    rec = model.recognizer()
    rng = np.random.default_rng(0)
    crops = rng.integers(0, 255, size=(5, rec.size, rec.size, 3), dtype=np.uint8)
    mirror = np.array([True, False, True, False, False])
    vectors, norms = rec.embed_many(crops, mirror, batch_size=4)
    raw = rec.embed_raw(crops)
    flipped = rec.embed_raw(np.ascontiguousarray(crops[:, :, ::-1]))
    expected = unit(np.where(mirror[:, None], raw + flipped, raw))
    np.testing.assert_allclose(vectors, expected, atol=1e-5)
    np.testing.assert_allclose(norms, np.linalg.norm(raw, axis=1), rtol=1e-4)
    empty, no_norms = rec.embed_many(crops[:0], mirror[:0])
    assert empty.shape == (0, rec.dim) and no_norms.shape == (0,)


@needs_shared
def test_models_unload_when_idle_and_load_again_on_use(pack):
    settings, _ = pack
    model = resolve(str(SCRFD_PACK), settings).load(settings)
    assert not model.loaded and not model.unload()  # nothing loaded before the first use
    img = np.zeros((64, 64, 3), np.uint8)
    assert model.detect(img) == []
    assert model.loaded and model.dim == 128
    assert not model.unload_if_idle(3600)  # used just now
    assert not model.unload_if_idle(0)  # 0: never
    time.sleep(0.05)
    assert model.idle_seconds() >= 0.05
    assert model.unload_if_idle(0.01) and not model.loaded
    assert model.dim == 128 and not model.loaded  # the dimension is known without loading again
    assert model.recognizer().dim == 128 and model.loaded  # the next use loads them again
    assert model.idle_seconds() < 60
    assert model.unload() and not model.loaded


def test_the_calling_thread_alone_is_lowered():
    before = thread_priority()
    seen: dict[str, object] = {}

    def work() -> None:
        seen["applied"] = lower_thread_priority(5, idle_io=True)
        seen["after"] = thread_priority()

    t = threading.Thread(target=work)
    t.start()
    t.join()
    nice, io = seen["after"]  # type: ignore[misc]
    assert f"nice {min(19, before[0] + 5)}" in seen["applied"]  # type: ignore[operator]
    assert nice == min(19, before[0] + 5)
    if "io idle" in seen["applied"]:  # type: ignore[operator]
        assert io == "IOPRIO_CLASS_IDLE"
    assert thread_priority() == before  # the caller's own thread is as it was
    assert lower_thread_priority(0, idle_io=False) == []  # nothing asked, nothing done
