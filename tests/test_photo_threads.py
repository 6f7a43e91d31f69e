"""Photos run through the models a few at a time, each on its own thread with its share of the
cores (models/packs.py ``model_threads``, indexer/pipeline.py): the same faces, the same vectors."""

from __future__ import annotations

import os
import threading

import numpy as np

from clusterids.app import open_core
from clusterids.config import load_settings
from clusterids.indexer import stages
from clusterids.models.packs import model_threads, resolve
from clusterids.store import reads

from .conftest import SCRFD_PACK, needs_shared

CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def test_a_photo_gets_its_share_of_the_cores(tmp_path):
    auto = load_settings({"library": str(tmp_path), "workers": 2})
    assert model_threads(auto) == max(1, CORES // 2)
    assert model_threads(auto.replace(workers=1)) == CORES
    assert model_threads(auto.replace(workers=CORES * 4)) == 1
    assert model_threads(auto.replace(model_threads=3)) == 3


@needs_shared
def test_the_sessions_run_with_that_many_threads(tmp_path):
    settings = load_settings({"library": str(tmp_path), "model": str(SCRFD_PACK), "model_threads": 3})
    model = resolve(str(SCRFD_PACK), settings).load(settings)
    assert model.recognizer().session.get_session_options().intra_op_num_threads == 3


def _faces(settings) -> dict[str, list[tuple[list[float], np.ndarray]]]:
    with open_core(settings, create=True) as core:
        core.library.index([str(settings.library.parent / "photos")])
        with core.lib.db.read() as s:
            rows = reads.faces_with_paths(s)
            vectors = {f.id: np.frombuffer(reads.face_vector(s, f.id) or b"", np.float32) for f, _ in rows}
    out: dict[str, list[tuple[list[float], np.ndarray]]] = {}
    for face, path in rows:
        out.setdefault(path, []).append((list(face.bbox), vectors[face.id]))
    return out


@needs_shared
def test_photos_at_once_find_what_one_at_a_time_finds(tmp_path, photos, monkeypatch):
    threads: set[str] = set()
    detect_embed = stages.detect_embed

    def watched(*args, **kwargs):  # the real stage, noting the thread it runs on
        threads.add(threading.current_thread().name)
        return detect_embed(*args, **kwargs)

    monkeypatch.setattr(stages, "detect_embed", watched)
    base = {"model": str(SCRFD_PACK), "progress": False}
    alone = _faces(load_settings(base | {"library": str(tmp_path / "one"), "workers": 1, "model_threads": 0}))
    assert threads and all(t.startswith("photo") for t in threads)
    threads.clear()
    together = _faces(load_settings(base | {"library": str(tmp_path / "two"), "workers": 3}))
    assert len({t for t in threads if t.startswith("photo")}) > 1  # the models ran on several threads
    assert alone.keys() == together.keys() and sum(map(len, alone.values())) > 20
    for path, faces in alone.items():
        other = sorted(together[path], key=lambda f: f[0])
        for (box, vec), (box2, vec2) in zip(sorted(faces, key=lambda f: f[0]), other, strict=True):
            assert np.allclose(box, box2, atol=0.5)
            assert float(vec @ vec2) > 0.9999
