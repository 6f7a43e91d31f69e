"""Model packs: which detector and recognizer make a library's vectors.

A pack is ``buffalo_l`` (InsightFace, non-commercial research only, never shipped),
``open`` (YuNet + SFace from PyPI, permissive licences) or a folder holding one detector
and one recognizer ONNX file. A library records its pack's recognizer checksum and
refuses vectors made by another one.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UserError
from . import openpack

if TYPE_CHECKING:  # typing only: a read names the pack's licence without the settings' machinery
    from ..config import Settings
    from .base import FaceModel

BUFFALO = "buffalo_l"
OPEN = "open"
BUFFALO_FILES = ("det_10g.onnx", "w600k_r50.onnx")
LICENCES = {
    BUFFALO: "InsightFace weights: non-commercial research use only",
    OPEN: "YuNet: MIT; SFace: Apache-2.0",
}
DIMS = {BUFFALO: 512, OPEN: 128}


@dataclass(frozen=True)
class Pack:
    name: str  # buffalo_l, open, or the folder's absolute path
    detector: Path
    recognizer: Path
    licence: str

    @property
    def key(self) -> str:
        """What identifies the vector space: the recognizer's content."""
        return _file_key(self.recognizer)

    def load(self, settings: Settings) -> FaceModel:
        from .base import FaceModel, choose_providers  # onnxruntime and cv2 load with the model

        providers, notices = choose_providers(settings.providers)
        model = FaceModel(self.name, self.detector, self.recognizer, settings.det_size, settings.det_threshold,
                          providers, model_threads(settings))
        model.notices.extend(notices)
        return model


def model_threads(settings: Settings) -> int:
    """onnxruntime's threads for one model call: ``model_threads``, or the cores this process may
    use shared among the ``workers`` photos run at once (at least one)."""
    if settings.model_threads:
        return settings.model_threads
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // max(1, settings.workers))


@functools.lru_cache(maxsize=16)
def _file_key(path: Path) -> str:
    return "sha256:" + openpack.sha256(path)[:16]


def buffalo_dir(settings: Settings) -> Path:
    return Path(settings.insightface_root).expanduser() / "models" / BUFFALO


def open_dir(settings: Settings) -> Path:
    return settings.models_path / OPEN


def installed(name: str, settings: Settings) -> bool:
    if name == BUFFALO:
        return all((buffalo_dir(settings) / f).is_file() for f in BUFFALO_FILES)
    if name == OPEN:
        folder = open_dir(settings)
        return (folder / openpack.YUNET).is_file() and (folder / openpack.SFACE_FP32).is_file()
    return False


def _folder_pack(folder: Path) -> Pack:
    onnx_files = sorted(folder.glob("*.onnx"))
    from .base import Recognizer

    detectors, recognizers = [], []
    for f in onnx_files:
        lowered = f.name.lower()
        if any(k in lowered for k in ("det", "scrfd", "yunet", "retina")):
            detectors.append(f)
        elif any(k in lowered for k in ("rec", "arcface", "sface", "w600k", "r50", "r100", "mbf")):
            recognizers.append(f)
        else:
            try:
                Recognizer(f)
                recognizers.append(f)
            except Exception:
                detectors.append(f)
    if len(detectors) != 1 or len(recognizers) != 1:
        raise UserError(
            f"the model folder {folder} holds {len(detectors)} detector(s) and {len(recognizers)} recognizer(s)",
            "keep exactly one detector ONNX and one recognizer ONNX in it",
        )
    licence = "InsightFace weights: non-commercial research use only" if "scrfd" in detectors[0].name.lower() \
        else "see the files' own licences"
    return Pack(str(folder.resolve()), detectors[0], recognizers[0], licence)


def _ensure_buffalo(settings: Settings) -> None:
    if installed(BUFFALO, settings):
        return
    try:
        from insightface.utils import ensure_available

        ensure_available("models", BUFFALO, root=str(Path(settings.insightface_root).expanduser()))
    except Exception as exc:
        raise UserError(
            f"the model pack buffalo_l is not in {buffalo_dir(settings)} and could not be downloaded ({exc})",
            "put buffalo_l there, or use '--model open'",
        ) from exc
    if not installed(BUFFALO, settings):
        raise UserError(f"buffalo_l in {buffalo_dir(settings)} lacks {' or '.join(BUFFALO_FILES)}",
                        "reinstall buffalo_l, or use '--model open'")


def resolve(spec: str, settings: Settings, install: bool = True) -> Pack:
    """Turn 'buffalo_l', 'open' or a folder into a pack, installing the open pack if needed."""
    if spec == BUFFALO:
        _ensure_buffalo(settings)
        folder = buffalo_dir(settings)
        return Pack(BUFFALO, folder / BUFFALO_FILES[0], folder / BUFFALO_FILES[1], LICENCES[BUFFALO])
    if spec == OPEN:
        folder = open_dir(settings)
        if not installed(OPEN, settings):
            if not install:
                raise UserError("the open model pack is not installed", "run 'clusterids models install open'")
            openpack.install(folder)
        return Pack(OPEN, folder / openpack.YUNET, folder / openpack.SFACE_FP32, LICENCES[OPEN])
    folder = Path(spec).expanduser()
    if folder.is_dir():
        return _folder_pack(folder)
    raise UserError(f"unknown model pack {spec!r}", "use buffalo_l, open, or a folder with two ONNX files")


def choose_default(settings: Settings) -> tuple[str, str]:
    """The pack a new library takes, and why."""
    if installed(BUFFALO, settings):
        return BUFFALO, f"buffalo_l was found in {buffalo_dir(settings)}"
    return OPEN, f"buffalo_l is not in {buffalo_dir(settings)}; the open pack (YuNet + SFace) is used"


def catalogue(settings: Settings) -> list[dict[str, object]]:
    return [
        {"name": name, "dim": DIMS[name], "licence": LICENCES[name], "installed": installed(name, settings)}
        for name in (BUFFALO, OPEN)
    ]
