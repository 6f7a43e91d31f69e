"""Shared fixtures: real models and photos from ../shared, real stores in temporary folders."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from clusterids.app import open_library
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

# A test about the models, decoding or quality, where the database engine changes nothing: it runs
# on SQLite only (the store's own tests run on both engines).
on_sqlite = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

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


# -- PostgreSQL: a throwaway cluster for the session ---------------------------------------------

def _pg_bin() -> Path | None:
    given = os.environ.get("CLUSTERIDS_PG_BIN")
    if given:
        return Path(given)
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    return versions[-1].parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def postgres_cluster(bin_dir: Path) -> Iterator[str]:
    """initdb in a temporary folder, pg_ctl start as an unprivileged user (the server refuses
    root) on 127.0.0.1 only; yields a server URL without a database name; stops and removes it."""
    folder = Path(tempfile.mkdtemp(prefix="clusterids-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        folder.chmod(0o755)
        shutil.chown(folder, "nobody")
        prefix = ["runuser", "-u", "nobody", "--"]
    data, port = folder / "data", _free_port()

    def pg(*args: str) -> None:
        subprocess.run(prefix + list(args), check=True, capture_output=True, cwd=folder, timeout=120)

    try:
        pg(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
           "--locale=C", "--no-sync")
        opts = f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off -c max_connections=200"
        pg(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-o", opts, "-w", "start")
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {exc.stderr.decode(errors='replace')}") from exc
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            pg(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL cluster of our own for the session (see postgres_cluster).
    CLUSTERIDS_TEST_POSTGRES=0 skips PostgreSQL, and CLUSTERIDS_TEST_POSTGRES_URL uses a server
    already running instead."""
    if os.environ.get("CLUSTERIDS_TEST_POSTGRES") == "0":
        pytest.skip("PostgreSQL skipped (CLUSTERIDS_TEST_POSTGRES=0)")
    given = os.environ.get("CLUSTERIDS_TEST_POSTGRES_URL")
    if given:
        yield given.rstrip("/")
        return
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql, or CLUSTERIDS_TEST_POSTGRES=0)")
    with postgres_cluster(bin_dir) as url:
        yield url


_databases = itertools.count()


@contextlib.contextmanager
def postgres_database(server: str) -> Iterator[str]:
    """A fresh, empty database on the test server; dropped afterwards."""
    import psycopg

    name = f"clusterids_t{os.getpid()}_{next(_databases)}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as con:
            con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every test that touches the store runs on both engines: '' is SQLite inside the library."""
    if request.param == "sqlite":
        yield ""
        return
    with postgres_database(request.getfixturevalue("postgres_server")) as url:
        yield url


def photo_count(env: dict[str, str]) -> int | None:
    """Photos in the library's database, read beside a running process; None when not readable yet."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    url = env.get("CLUSTERIDS_DATABASE_URL") or f"sqlite:///{Path(env['CLUSTERIDS_LIBRARY']) / 'library.db'}"
    if url.startswith("sqlite") and not Path(url.removeprefix("sqlite:///")).exists():
        return None
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as con:
            return int(con.execute(text("select count(*) from photos")).scalar_one())
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()


def copy_library_database(library: Path, url: str) -> None:
    """Put the SQLite database of a library folder into the (empty) database at ``url``."""
    from clusterids.store.db import copy_database, open_engine

    src, dst = open_engine(f"sqlite:///{library / 'library.db'}"), open_engine(url)
    try:
        copy_database(src, dst)
    finally:
        src.dispose()
        dst.dispose()


@pytest.fixture
def env(tmp_path: Path, models_dir: Path, database_url: str) -> dict[str, str]:
    """An environment with its own library, models folder and an empty InsightFace root, on
    SQLite or on a fresh PostgreSQL database."""
    out = {
        "CLUSTERIDS_LIBRARY": str(tmp_path / "library"),
        "CLUSTERIDS_MODELS_DIR": str(models_dir),
        "CLUSTERIDS_INSIGHTFACE_ROOT": str(tmp_path / "insightface"),
        "CLUSTERIDS_PROGRESS": "false",
    }
    if database_url:
        out["CLUSTERIDS_DATABASE_URL"] = database_url
    return out


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
        lib = open_library(settings.replace(**overrides) if overrides else settings, create=True)
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


# The page's browser and its site (tests/browser.py), for tests/test_page*.py and tests/test_web.py.
from .browser import chromium, new_page, open_page, site  # noqa: E402, F401
