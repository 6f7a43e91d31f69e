"""The indexer's stages, each a plain function over one task: read, metadata (the names in its
XMP, i20), dedupe, decode, detect and embed, store. A run composes them (indexer/pipeline.py
for folders, daemon/worker.py for a worker's claims); a task that failed passes the later
stages untouched, to be stored as failed.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

from ..config import Settings
from ..dates import taken
from ..media.imaging import BadImage, Scratch, content_hash, decode, exif_orientation, read_capped
from ..store import reads
from ..store.database import Database
from ..store.photos import Gone, NewFace, PhotoFacts, PhotoWriter
from ..xmp import state as xmp_state
from .embed import detect_and_embed
from .metadata import read_metadata
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
        if not task.sidecar_only:  # the photo is as it was: read for its own XMP, not hashed
            task.sha256 = content_hash(task.data)
    return task


def metadata(task: Task, settings: Settings) -> Task:
    """The names other programs gave its faces (its own XMP and its sidecar's) and the
    orientation a sidecar gives it, which decoding applies (i20, ``xmp_read``)."""
    if task.data is None or task.failed:
        return task
    task.xmp, task.orientation = read_metadata(settings, task.data, task.seen.sidecar)
    if task.sidecar_only:
        task.exif_orientation = exif_orientation(task.data)
        task.data = None  # no decode: the bytes are no longer needed
    return task


def dedupe(task: Task, db: Database) -> Task:
    """A content the library knows already (a copy, or a move) needs no decode and no models."""
    if task.sha256 is not None and not task.failed:
        with db.read() as s:
            task.reuse = reads.content_known(s, task.sha256)
    return task


_threads = threading.local()
NO_PIXELS = np.empty((0, 0, 3), np.uint8)


def _scratch() -> Scratch:
    """This thread's memory to decode into (media/imaging.py Scratch)."""
    scratch: Scratch | None = getattr(_threads, "scratch", None)
    if scratch is None:
        scratch = _threads.scratch = Scratch()
    return scratch


def decode_stage(task: Task, settings: Settings) -> Task:
    """The photo's pixels, in this thread's scratch: the models' stage must follow on this thread."""
    if task.data is None or task.failed or task.reuse:
        return task
    try:
        task.decoded = decode(task.data, settings.decode_max_side, settings.max_pixels, task.orientation,
                              scratch=_scratch())
    except BadImage as exc:
        task.error = str(exc)
    task.data = None  # decoded: the bytes are no longer needed
    return task


def detect_embed(task: Task, model: FaceModel, settings: Settings) -> Task:
    if task.decoded is None or task.failed:
        return task
    task.faces = [NewFace(tuple(r.bbox), r.landmarks, r.det_score, r.size_px, r.sharpness,  # type: ignore[arg-type]
                          np.asarray(r.vector, np.float32).tobytes(), r.norm)
                  for r in detect_and_embed(model, settings, task.decoded)]
    task.decoded.bgr = NO_PIXELS  # they lie in the thread's scratch, which its next photo overwrites
    return task


def store(task: Task, writer: PhotoWriter, gone: Gone, report: Report) -> bool:
    """Write what the task found; False when a known content's source vanished meanwhile, or a
    changed sidecar turns the photo another way (the task is then to be done again with decode
    and models)."""
    for line in task.xmp.problems if task.xmp is not None else []:
        report.warn(task.path, line)
    xmp = xmp_state.seen(task.xmp) if task.xmp is not None else None
    if task.failed:
        writer.fail(task.path, task.seen, task.error or "", task.sha256)
        report.failed(task.path, task.error or "")
    elif task.sidecar_only:
        if not writer.sidecar_only(task.seen, xmp, task.orientation or task.exif_orientation, task.exif_orientation):
            return False
        report.photos_sidecar += 1
    elif task.reuse and task.sha256 is not None:
        outcome = writer.reuse(task.seen, task.sha256, gone, xmp)
        if outcome == "same":  # touched, not changed
            report.photos_unchanged += 1
        elif isinstance(outcome, int):
            report.photos_reused += 1
            report.faces_added += outcome
        else:
            return False
    elif task.faces is not None and task.decoded is not None and task.sha256 is not None:
        d = task.decoded
        # the XMP's own date (issue 20) would go in as taken(..., xmp=...), after EXIF's
        when = taken(d.taken_at, task.path, task.seen.mtime_ns)
        writer.store(task.seen, task.sha256, PhotoFacts(d.width, d.height, when.at, d.orientation, when.estimated),
                     task.faces, xmp)
        report.faces_added += len(task.faces)
        if task.known:
            report.photos_changed += 1
        else:
            report.photos_new += 1
    elif task.sha256 is not None:  # read and hashed only: the models are a worker's
        writer.enqueue(task.seen, task.sha256)
        report.photos_queued += 1
    return True
