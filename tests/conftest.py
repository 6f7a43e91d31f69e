"""Shared fixtures: real models and photos from ../shared, real stores in temporary folders."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from clusterids.cli import cli
from clusterids.config import Settings, load_settings
from clusterids.models import openpack
from clusterids.store.library import Library

SHARED = Path(__file__).resolve().parents[2] / "shared"
if not SHARED.is_dir():  # CI lays shared/ beside the checkout; a worktree may sit deeper
    SHARED = Path(os.environ.get("CLUSTERIDS_SHARED", SHARED))
LFW = SHARED / "data" / "lfw-dev"
SOLVAY = SHARED / "data" / "photos" / "solvay_conference_1927.jpg"
SCRFD_PACK = SHARED / "models" / "scrfd500m-sface"
OPENCV_ZOO = SHARED / "models" / "opencv-zoo"

needs_shared = pytest.mark.skipif(
    not (LFW.is_dir() and SCRFD_PACK.is_dir() and OPENCV_ZOO.is_dir()),
    reason=f"needs the shared models and photos at {SHARED} (absent here)",
)


def lfw_people(n_people: int, min_photos: int = 1, max_photos: int = 99) -> list[Path]:
    """The photos of the first ``n_people`` LFW identities having at least ``min_photos``."""
    out: list[Path] = []
    for person in sorted(LFW.iterdir()):
        photos = sorted(person.glob("*.jpg"))
        if len(photos) >= min_photos:
            out.extend(photos[:max_photos])
            n_people -= 1
            if n_people == 0:
                break
    return out


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The open pack, installed once from the shared files (byte-identical to the wheel's)."""
    if not OPENCV_ZOO.is_dir():
        pytest.skip(f"needs {OPENCV_ZOO}")
    folder = tmp_path_factory.mktemp("models")
    openpack.install(folder / "open", OPENCV_ZOO)
    return folder


@pytest.fixture
def env(tmp_path: Path, models_dir: Path) -> dict[str, str]:
    """An environment with its own library, models folder and an empty InsightFace root."""
    return {
        "CLUSTERIDS_LIBRARY": str(tmp_path / "library"),
        "CLUSTERIDS_MODELS_DIR": str(models_dir),
        "CLUSTERIDS_INSIGHTFACE_ROOT": str(tmp_path / "insightface"),
        "CLUSTERIDS_PROGRESS": "false",
    }


@pytest.fixture
def run(env: dict[str, str]) -> Callable[..., Result]:
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True) -> Result:
        result = runner.invoke(cli, [str(a) for a in args], env=env, obj={}, catch_exceptions=False)
        if ok and result.exit_code != 0:
            raise AssertionError(f"clusterids {' '.join(map(str, args))} exited {result.exit_code}:\n"
                                 f"{result.output}")
        return result

    return invoke


@pytest.fixture
def run_json(run: Callable[..., Result]) -> Callable[..., Any]:
    def invoke(*args: str) -> Any:
        return json.loads(run(*args, "--json").stdout)

    return invoke


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return load_settings({}, environ=env)


@pytest.fixture
def open_lib(settings: Settings) -> Iterator[Callable[..., Library]]:
    opened: list[Library] = []

    def opener(**overrides: Any) -> Library:
        s = settings
        for k, v in overrides.items():
            setattr(s, k, v)
        lib = Library.open(s, create=True)
        opened.append(lib)
        return lib

    yield opener
    for lib in opened:
        with contextlib.suppress(Exception):
            lib.close()


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """A small photo folder: the Solvay group photo and 12 LFW photos of 4 people."""
    folder = tmp_path / "photos"
    folder.mkdir()
    if SOLVAY.is_file():
        shutil.copy(SOLVAY, folder / SOLVAY.name)
    for p in lfw_people(4, min_photos=3, max_photos=3):
        (folder / p.parent.name).mkdir(exist_ok=True)
        shutil.copy(p, folder / p.parent.name / p.name)
    return folder
