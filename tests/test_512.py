"""The 512-D path that buffalo_l takes, end to end, without buffalo_l's weights (never shipped):
a recognizer built here from a real one (SFace, 128-D) whose output is carried into 512
dimensions by a fixed map that keeps every cosine, so faces cluster as they do at 128-D."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from .conftest import SCRFD_PACK, lfw_people, needs_shared, on_sqlite

SFACE = "face_recognition_sface_2021dec_fp32.onnx"


def widen_to_512(src: Path, dest: Path) -> None:
    """``src``'s recognizer followed by x -> x W, W (128 x 512) with orthonormal rows: the
    output is 512 wide and x W . y W = x . y, so cosines (and clusters) are those of ``src``."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(src))
    out = model.graph.output[0]
    width = out.type.tensor_type.shape.dim[1].dim_value
    q, _ = np.linalg.qr(np.random.default_rng(512).normal(size=(512, 512)))
    w = q[:width].astype(np.float32)  # rows orthonormal: W W^T = I
    model.graph.initializer.append(numpy_helper.from_array(w, "widen_w"))
    model.graph.node.append(helper.make_node("MatMul", [out.name, "widen_w"], ["embedding_512"]))
    batch = out.type.tensor_type.shape.dim[0]
    wide = helper.make_tensor_value_info("embedding_512", onnx.TensorProto.FLOAT,
                                         [batch.dim_param or batch.dim_value or "N", 512])
    model.graph.output.pop()
    model.graph.output.append(wide)
    onnx.checker.check_model(model)
    onnx.save(model, str(dest))


@needs_shared
@on_sqlite
def test_512_wide_vectors_go_through_index_vectors_graph_recluster_and_search(tmp_path, run_json, env):
    pack = tmp_path / "pack512"
    pack.mkdir()
    shutil.copy(SCRFD_PACK / "scrfd_500m.onnx", pack / "scrfd_500m.onnx")
    widen_to_512(SCRFD_PACK / SFACE, pack / "recognizer_512.onnx")
    folder = tmp_path / "photos"
    folder.mkdir()
    photos = lfw_people(3, min_photos=4, max_photos=4)
    for p in photos:
        shutil.copy(p, folder / p.name)

    report = run_json("--model", pack, "index", folder)
    assert report["photos_new"] == len(photos) and report["faces_added"] >= len(photos)
    status = run_json("status")
    assert status["dim"] == 512 and status["vectors"] == status["faces"] == report["faces_added"]

    run_json("recluster")
    graph = np.load(Path(env["CLUSTERIDS_LIBRARY"]) / "graph.npz")
    assert len(graph.files) > 0  # the neighbour graph was built from the 512-D vectors
    people = run_json("people")
    names_of = {person["id"]: sorted(Path(p).name for p in run_json("photos", "--person", person["id"]))
                for person in people}
    identity = {p.name: p.name.rsplit("_", 1)[0] for p in photos}
    assert sorted(sorted({identity[n] for n in names}) for names in names_of.values()) == \
        sorted([name] for name in set(identity.values()))  # one person per identity, nothing mixed
    assert all(len(names) == 4 for names in names_of.values())

    (hit,) = [face for face in run_json("search", photos[0]) if face["matches"]]
    assert photos[0].name in names_of[hit["matches"][0]["person"]]
