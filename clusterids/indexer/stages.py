"""The indexer's stages, each a plain function over one task: read, dedupe, decode, detect and
embed, store. A run composes them (indexer/pipeline.py for folders, daemon/worker.py for a
worker's claims); a task that failed passes the later stages untouched, to be stored as failed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..config import Settings
from ..dates import taken
from ..media.imaging import BadImage, content_hash, decode, read_capped
from ..store import reads
from ..store.database import Database
from ..store.photos import Gone, NewFace, PhotoFacts, PhotoWriter
from .embed import detect_and_embed
from .task import Report, Task

if TYPE_CHECKING:
    from ..models.base import FaceModel


def read(task: Task, settings: Settings) -> Task:
    """The file's bytes, read once (capped), and their hash."""
    try:
        task.data = read_capped(task.local_path or task.path, settings.max_file_bytes)
    except BadImage as exc:
        task.error = str(exc)
    except FileNotFoundError:
        task.error = "vanished before it could be read"
    except IsADirectoryError:
        task.error = "is a folder"
    except OSError as exc:
        task.error = f"cannot read: {exc.strerror or exc}"
    else:
        task.sha256 = content_hash(task.data)
    return task


def dedupe(task: Task, db: Database) -> Task:
    """A content the library knows already (a copy, or a move) needs no decode and no models."""
    if task.sha256 is not None and not task.failed:
        with db.read() as s:
            task.reuse = reads.content_known(s, task.sha256)
    return task


def decode_stage(task: Task, settings: Settings) -> Task:
    if task.data is None or task.failed or task.reuse:
        return task
    try:
        task.decoded = decode(task.data, settings.decode_max_side, settings.max_pixels)
    except BadImage as exc:
        task.error = str(exc)
    task.data = None  # decoded: the bytes are no longer needed
    return task


def detect_embed(task: Task, model: FaceModel, settings: Settings) -> Task:
    if task.decoded is None or task.failed:
        return task
    task.faces = [NewFace(tuple(r.bbox), r.landmarks, r.det_score, r.size_px, r.sharpness,  # type: ignore[arg-type]
                          np.asarray(r.vector, np.float32).tobytes(), getattr(r, "norm", None))
                  for r in detect_and_embed(model, settings, task.decoded)]
    return task


def store(task: Task, writer: PhotoWriter, gone: Gone, report: Report) -> bool:
    """Write what the task found; False when a known content's source vanished meanwhile (the
    task is then to be done again with decode and models)."""
    if task.failed:
        writer.fail(task.path, task.seen, task.error or "", task.sha256)
        report.failed(task.path, task.error or "")
    elif task.reuse and task.sha256 is not None:
        outcome = writer.reuse(task.seen, task.sha256, gone)
        if outcome == "same":  # touched, not changed
            report.photos_unchanged += 1
        elif isinstance(outcome, int):
            report.photos_reused += 1
            report.faces_added += outcome
        else:
            return False
    elif task.faces is not None and task.decoded is not None and task.sha256 is not None:
        d = task.decoded
        # issue 20: the XMP sidecar's date goes in as taken(..., xmp=...), after EXIF's
        when = taken(d.taken_at, task.path, task.seen.mtime_ns)
        writer.store(task.seen, task.sha256, PhotoFacts(d.width, d.height, when.at, when.estimated), task.faces)
        report.faces_added += len(task.faces)
        if task.known:
            report.photos_changed += 1
        else:
            report.photos_new += 1
    elif task.sha256 is not None:  # read and hashed only: the models are a worker's
        writer.enqueue(task.seen, task.sha256)
        report.photos_queued += 1
    return True
