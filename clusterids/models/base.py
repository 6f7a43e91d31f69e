"""Face models behind a small interface: a detector and a recognizer, loaded lazily."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import onnxruntime as ort

ort.set_default_logger_severity(3)
# OpenCV 5 warns about DNN targets on every detector load: errors only.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


@dataclass(frozen=True)
class Detection:
    bbox: np.ndarray  # x1, y1, x2, y2 in the pixels of the image given
    kps: np.ndarray  # 5 x 2 landmarks: eyes, nose, mouth corners
    score: float


class Detector(Protocol):
    def detect(self, img_bgr: np.ndarray, size: int | None = None) -> list[Detection]: ...


CPU = "CPUExecutionProvider"
PROVIDER_ALIASES = {"cpu": CPU, "cuda": "CUDAExecutionProvider", "tensorrt": "TensorrtExecutionProvider",
                    "openvino": "OpenVINOExecutionProvider", "coreml": "CoreMLExecutionProvider",
                    "directml": "DmlExecutionProvider", "rocm": "ROCMExecutionProvider"}


def choose_providers(setting: str) -> tuple[tuple[str, ...], list[str]]:
    """onnxruntime's execution providers named by the ``providers`` setting (short or full
    names, comma-separated, in order of preference), those this onnxruntime lacks left out with
    one notice each; the CPU always comes last as the fallback."""
    available = ort.get_available_providers()
    chosen: list[str] = []
    notices: list[str] = []
    for name in [n.strip() for n in setting.split(",") if n.strip()]:
        full = PROVIDER_ALIASES.get(name.lower(), name)
        if full in available:
            chosen.append(full)
        else:
            notices.append(f"execution provider {name} is not available here (onnxruntime has "
                           f"{', '.join(available)}; pip install 'clusterids[gpu]' for CUDA): using the CPU")
    if CPU not in chosen:
        chosen.append(CPU)
    return tuple(dict.fromkeys(chosen)), notices


def _session(model: bytes | str, providers: tuple[str, ...] = (CPU,),
             notices: list[str] | None = None, threads: int = 0) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.intra_op_num_threads = threads  # 0: onnxruntime's own choice (every core)
    # Spinning threads would steal the cores from the decoding threads running beside the models.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        session = ort.InferenceSession(model, sess_options=opts, providers=list(providers))
    except Exception as exc:  # a provider that is installed but cannot start (no device, no driver)
        if providers == (CPU,):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        _notice(notices, f"execution provider {providers[0]} could not start ({first}): using the CPU")
        return ort.InferenceSession(model, sess_options=opts, providers=[CPU])
    started = session.get_providers()
    for wanted in providers:  # onnxruntime itself falls back quietly: say so
        if wanted != CPU and wanted not in started:
            _notice(notices, f"execution provider {wanted} could not start: using {', '.join(started)}")
    return session


def _notice(notices: list[str] | None, line: str) -> None:
    if notices is not None and line not in notices:
        notices.append(line)


# insightface's model_zoo folder as a package of our own: its modules load from their files, and
# insightface's __init__ (which imports scipy, scikit-image, requests, tqdm, insightface.app) never runs.
_ZOO = "clusterids.models._insightface_model_zoo"


def _insightface_scrfd() -> Any:
    """insightface's own ``model_zoo/scrfd.py`` module, loaded without running the package's
    ``__init__`` (125 MB resident for the whole package, against the SCRFD decoder we use). Its
    relative imports (``.coreml_cache``, ``.onnxruntime_utils``) resolve in the same folder."""
    name = _ZOO + ".scrfd"
    if name in sys.modules:
        return sys.modules[name]
    top = importlib.util.find_spec("insightface")  # finds the package, runs none of it
    if top is None or top.origin is None:
        raise ModuleNotFoundError("insightface is not installed", name="insightface")
    folder = Path(top.origin).parent / "model_zoo"
    if _ZOO not in sys.modules:
        package = types.ModuleType(_ZOO, "insightface's model_zoo folder, without its __init__")
        package.__path__ = [str(folder)]
        sys.modules[_ZOO] = package
    spec = importlib.util.spec_from_file_location(name, folder / "scrfd.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


class ScrfdDetector:
    """InsightFace's SCRFD (and RetinaFace) detectors, through insightface's own decoder."""

    def __init__(self, path: Path, det_size: int, threshold: float, providers: tuple[str, ...] = (CPU,),
                 notices: list[str] | None = None, threads: int = 0) -> None:
        model = _insightface_scrfd().SCRFD(model_file=str(path),
                                           session=_session(str(path), providers, notices, threads))
        model.prepare(-1, input_size=(det_size, det_size), det_thresh=threshold)
        self.model = model

    def detect(self, img_bgr: np.ndarray, size: int | None = None) -> list[Detection]:
        boxes, kpss = self.model.detect(img_bgr, input_size=(size, size) if size else None)
        return [
            Detection(boxes[i, :4].astype(np.float32), kpss[i].astype(np.float32), float(boxes[i, 4]))
            for i in range(boxes.shape[0])
        ]


class YuNetDetector:
    """OpenCV-zoo YuNet through ``cv2.FaceDetectorYN`` (MIT licence)."""

    def __init__(self, path: Path, det_size: int, threshold: float) -> None:
        self.det_size = det_size
        self.model = cv2.FaceDetectorYN.create(str(path), "", (det_size, det_size), threshold, 0.3, 5000)
        self._lock = threading.Lock()  # its input size is state: one photo at a time

    def detect(self, img_bgr: np.ndarray, size: int | None = None) -> list[Detection]:
        h, w = img_bgr.shape[:2]
        scale = min(1.0, (size or self.det_size) / max(h, w))
        img = img_bgr if scale == 1.0 else cv2.resize(
            img_bgr, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
        )
        with self._lock:
            self.model.setInputSize((img.shape[1], img.shape[0]))
            _, rows = self.model.detect(img)
        if rows is None:
            return []
        out = []
        for r in rows:
            x, y, bw, bh = (float(v) / scale for v in r[:4])
            kps = (r[4:14].reshape(5, 2) / scale).astype(np.float32)
            out.append(Detection(np.array([x, y, x + bw, y + bh], np.float32), kps, float(r[14])))
        return out


class Recognizer:
    """An ArcFace-type recognizer (ArcFace, SFace) in onnxruntime, batched over faces."""

    def __init__(self, path: Path, providers: tuple[str, ...] = (CPU,), notices: list[str] | None = None,
                 threads: int = 0) -> None:
        import onnx  # with the models only: 17 MB resident that no read needs

        model = onnx.load(str(path))
        # Models exported with batch 1 fixed: make the batch dimension symbolic.
        for value in (model.graph.input[0], model.graph.output[0]):
            dim0 = value.type.tensor_type.shape.dim[0]
            dim0.ClearField("dim_value")
            dim0.dim_param = "N"
        names = [n.name for n in model.graph.node[:8]]
        mxnet_style = any(n.startswith(("Sub", "_minus")) for n in names) and any(
            n.startswith(("Mul", "_mul")) for n in names
        )
        self.mean, self.std = (0.0, 1.0) if mxnet_style else (127.5, 127.5)
        self.session = _session(model.SerializeToString(), providers, notices, threads)
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        self.size = int(inp.shape[2]) if isinstance(inp.shape[2], int) else 112
        self.dim = int(self.session.get_outputs()[0].shape[1])
        try:
            self._run(np.zeros((2, self.size, self.size, 3), np.uint8))
            self.batched = True
        except Exception:  # a graph with a baked-in batch size: one face a call
            self.batched = False

    def align(self, img_bgr: np.ndarray, kps: np.ndarray) -> np.ndarray:
        """The face turned and scaled onto ArcFace's five reference points (insightface's norm_crop)."""
        return cv2.warpAffine(img_bgr, similarity(kps, self.size), (self.size, self.size), borderValue=0.0)

    def _run(self, crops: np.ndarray) -> np.ndarray:
        blob = cv2.dnn.blobFromImages(
            list(crops), 1.0 / self.std, (self.size, self.size), (self.mean,) * 3, swapRB=True
        )
        return self.session.run(None, {self.input_name: blob.astype(np.float32)})[0]

    def embed_raw(self, crops: np.ndarray, batch_size: int = 32) -> np.ndarray:
        """The recognizer's outputs as they come, before any normalisation."""
        if len(crops) == 0:
            return np.zeros((0, self.dim), np.float32)
        step = batch_size if self.batched else 1
        return np.concatenate([self._run(crops[i : i + step]) for i in range(0, len(crops), step)]).astype(np.float32)

    def embed_many(self, crops: np.ndarray, mirror: np.ndarray | None = None,
                   batch_size: int = 32) -> tuple[np.ndarray, np.ndarray]:
        """Unit vectors of the faces ``crops`` and the L2 norms of the recognizer's raw outputs
        (of each face as it is, never its mirror). Each face whose ``mirror`` entry is set is
        embedded with its mirror image too, in the same batches as the faces, and the two
        outputs summed before normalising (test-time flip averaging, as ArcFace is evaluated):
        it pulls a person's left and right profiles and frontal views closer."""
        n = len(crops)
        if n == 0:
            return np.zeros((0, self.dim), np.float32), np.zeros(0, np.float32)
        turned = np.flatnonzero(mirror) if mirror is not None else np.zeros(0, np.int64)
        batch = np.concatenate([crops, crops[turned, :, ::-1]]) if len(turned) else crops
        raw = self.embed_raw(np.ascontiguousarray(batch), batch_size)
        out = raw[:n].copy()
        norms = np.linalg.norm(out, axis=1).astype(np.float32)
        out[turned] += raw[n:]
        return unit(out), norms

    def embed(self, crops: np.ndarray, batch_size: int = 32, flip: bool = False) -> np.ndarray:
        """Unit vectors; with ``flip`` every face is averaged with its mirror (see embed_many)."""
        return self.embed_many(crops, np.ones(len(crops), bool) if flip else None, batch_size)[0]


def unit(vectors: np.ndarray) -> np.ndarray:
    out = np.asarray(vectors, np.float32).copy()
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    return out


def sharpness(crop_bgr: np.ndarray) -> float:
    """Variance of the Laplacian of the aligned crop: low for blurred faces."""
    gray = cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


# ArcFace's five points (eyes, nose, mouth corners) in a 112-pixel crop, as insightface's face_align
ARCFACE_POINTS = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                           [41.5493, 92.3655], [70.7299, 92.2041]], np.float32)


def similarity(kps: np.ndarray, size: int) -> np.ndarray:
    """The 2 x 3 similarity (rotation, scale, shift) taking the landmarks ``kps`` onto ArcFace's
    points in a ``size``-pixel crop, in the least-squares sense: insightface's estimate_norm.

    OpenCV's estimateAffinePartial2D, with every point an inlier and its Levenberg-Marquardt
    refinement over all five, gives scikit-image's Umeyama solution (within 0.0015 of its matrix,
    vectors at cosine >= 0.99999 on the faces of ../shared/data/photos: bench/align_compare.py)
    without importing scipy (40 MB resident). LMEDS alone fits a subset: 9 of 68 faces differ."""
    if size % 112 == 0:
        dst = ARCFACE_POINTS * (size / 112.0)
    else:  # insightface's rule for 128-pixel crops: scaled from 128, shifted by 8
        dst = ARCFACE_POINTS * (size / 128.0)
        dst[:, 0] += 8.0 * size / 128.0
    matrix, _ = cv2.estimateAffinePartial2D(np.asarray(kps, np.float32), dst, method=cv2.RANSAC,
                                            ransacReprojThreshold=1e6, refineIters=100)
    if matrix is None:  # degenerate landmarks (all at one point): no similarity fits them
        return np.eye(2, 3)
    return matrix


class FaceModel:
    """A model pack ready to run: lazy load guarded by a lock, then detect and embed.

    Models not used for a while can be unloaded (``unload``, ``unload_if_idle``: Immich's model
    TTL) to give their memory back (models/memory.py `give_back`, by the process that owns them);
    the next use loads them again, under the same lock."""

    def __init__(self, name: str, detector_path: Path, recognizer_path: Path, det_size: int,
                 threshold: float, providers: tuple[str, ...] = (CPU,), threads: int = 0) -> None:
        self.name = name
        self.threads = threads  # onnxruntime's per call (packs.model_threads); 0: its own choice
        self.providers = providers  # asked for; see providers_in_use() for what started
        self.notices: list[str] = []
        self.detector_path = detector_path
        self.recognizer_path = recognizer_path
        self.det_size = det_size
        self.threshold = threshold
        self._lock = threading.Lock()
        self._detector: Detector | None = None
        self._recognizer: Recognizer | None = None
        self._dim: int | None = None  # known after the first load, kept across unloads
        self._last_used = time.monotonic()

    def _load(self) -> tuple[Detector, Recognizer]:
        with self._lock:
            self._last_used = time.monotonic()
            if self._detector is None or self._recognizer is None:
                # YuNet's scores run higher than SCRFD's: at 0.5 it finds 31 faces among the 29 of
                # the Solvay photo, at 0.7 the 29 (and still a face in every LFW photo tried).
                if "yunet" in self.detector_path.name.lower():
                    self._detector = YuNetDetector(self.detector_path, self.det_size, self.threshold or 0.7)
                else:
                    self._detector = ScrfdDetector(self.detector_path, self.det_size, self.threshold or 0.5,
                                                   self.providers, self.notices, self.threads)
                self._recognizer = Recognizer(self.recognizer_path, self.providers, self.notices, self.threads)
                self._dim = self._recognizer.dim
            return self._detector, self._recognizer

    @property
    def loaded(self) -> bool:
        return self._detector is not None or self._recognizer is not None

    def idle_seconds(self) -> float:
        """Seconds since the models were last asked for (a detection or the recognizer)."""
        return time.monotonic() - self._last_used

    def unload(self) -> bool:
        """Drop the loaded models (their sessions and memory); True if any was loaded. A call
        running meanwhile finishes on the models it holds; the next one loads them again."""
        with self._lock:
            was = self.loaded
            self._detector = self._recognizer = None
            return was

    def unload_if_idle(self, ttl_seconds: float) -> bool:
        """Unload when loaded and unused for ``ttl_seconds`` (0 or less: never); True if it did."""
        with self._lock:
            if ttl_seconds <= 0 or not self.loaded or time.monotonic() - self._last_used < ttl_seconds:
                return False
            self._detector = self._recognizer = None
        return True

    def providers_in_use(self) -> list[str]:
        """The recognizer's providers as started (YuNet runs in OpenCV, on the CPU)."""
        return list(self._load()[1].session.get_providers())

    @property
    def dim(self) -> int:
        return self._dim if self._dim is not None else self._load()[1].dim

    def detect(self, img_bgr: np.ndarray, size: int | None = None) -> list[Detection]:
        return self._load()[0].detect(img_bgr, size)

    def recognizer(self) -> Recognizer:
        return self._load()[1]
