"""A synthetic library: real SQLite (or PostgreSQL), Qdrant Edge, album folders and photo files,
with faces whose vectors the test chooses. Only the model pack is a stand-in, handed to the
store the way app.open_library hands the real one (the store's ModelSource), so everything but
the models runs as it does for a user, in a fraction of the time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from clusterids.config import Settings, load_settings
from clusterids.core import Core
from clusterids.store import outbox
from clusterids.store.db import Face, Photo
from clusterids.store.library import Library, PackChoice, open_library

DIM = 16
FRONTAL = [[30.0, 40.0], [70.0, 40.0], [50.0, 60.0], [35.0, 80.0], [65.0, 80.0]]


class NoModels:
    """A ModelSource for a library whose faces are written by the test: nothing to load."""

    def negotiate(self, stored: PackChoice | None) -> tuple[PackChoice, Any, list[str]]:
        return stored or PackChoice("synthetic", "sha256:synthetic", DIM), None, []

    def load(self, spec: str, key: str | None = None) -> tuple[PackChoice, Any]:
        raise AssertionError("no model is needed here")


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


def open_synthetic(settings: Settings) -> Library:
    return open_library(settings, NoModels(), create=True)


@contextmanager
def synthetic_library(tmp_path: Path, **overrides: Any) -> Iterator[Library]:
    """A synthetic library in ``tmp_path/library`` with the default settings (and ``overrides``),
    closed afterwards: the tests' fixture."""
    settings = load_settings(overrides, environ={"CLUSTERIDS_LIBRARY": str(tmp_path / "library"),
                                                 "CLUSTERIDS_PROGRESS": "false"})
    library = open_synthetic(settings)
    try:
        yield library
    finally:
        library.close()


def _jpeg(path: Path, n: int, faces: int) -> None:
    """A small real photo: a colour of its own, one lighter square per face."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (200 * max(1, faces), 200), ((n * 37) % 256, (n * 91) % 256, (n * 53) % 256))
    draw = ImageDraw.Draw(img)
    for k in range(faces):
        draw.rectangle([10 + 200 * k, 10, 150 + 200 * k, 150], fill=(230, 200, 180))
    img.save(path, quality=80)


def add_photos(lib: Library, folder: Path, faces_per_photo: list[list[np.ndarray]], start: int = 0,
               sharpness: float = 500.0) -> list[list[int]]:
    """One photo file per entry (a real JPEG), its faces with the given vectors, the way an index
    run stores them; the face ids, per photo. ``start`` numbers the files after earlier ones;
    a ``sharpness`` under the quality gate's makes weak faces (a blurred scan)."""
    folder.mkdir(parents=True, exist_ok=True)
    out: list[list[int]] = []
    with lib.db.transaction() as s:
        stored: list[Face] = []
        for n, vectors in enumerate(faces_per_photo, start=start):
            path = folder / f"photo_{n:03d}.jpg"
            _jpeg(path, n, len(vectors))
            st = path.stat()
            photo = Photo(path=str(path), size=st.st_size, mtime_ns=st.st_mtime_ns, sha256=f"{n:064x}",
                          width=200 * max(1, len(vectors)), height=200)
            s.add(photo)
            s.flush()
            faces = [Face(photo_id=photo.id, x1=10.0 + 200 * k, y1=10.0, x2=150.0 + 200 * k, y2=150.0,
                          landmarks=[[x + 200 * k, y] for x, y in FRONTAL], det_score=0.9, size_px=140.0,
                          sharpness=sharpness, vector=v.astype(np.float32).tobytes()) for k, v in enumerate(vectors)]
            s.add_all(faces)
            s.flush()
            stored += faces
            out.append([f.id for f in faces])
        outbox.mark(s, outbox.VECTOR, [f.id for f in stored])
        outbox.mark(s, outbox.ASSIGN, [f.id for f in stored])
    lib.db.add_roots([str(folder)])
    Core(lib).catch_up()
    return out


def people_photos(n_people: int, per_person: int, seed: int = 7, spread: float = 0.04) -> list[list[np.ndarray]]:
    """``per_person`` photos of each of ``n_people`` well separated people, one face each."""
    rng = np.random.default_rng(seed)
    centres = unit(rng.normal(size=(n_people, DIM)))
    return [[unit(centres[i] + spread * rng.normal(size=DIM))] for i in range(n_people) for _ in range(per_person)]
