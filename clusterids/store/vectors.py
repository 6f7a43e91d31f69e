"""The vector index behind a small interface: Qdrant Edge in-process, or a Qdrant server.

Point id = face id. Payload: ``photo`` (photo id) and ``person`` (person id, absent when
unknown), enough for filtered search. The database holds the same vectors and wins on
any disagreement (see ``Library.repair``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import UserError
from . import seal
from .modes import owner_only

if TYPE_CHECKING:
    import numpy as np

UPSERT_BATCH = 512


def _floats(vector: np.ndarray) -> list[float]:
    """A query vector as float32 values in a list (numpy is imported by searches, not reads)."""
    import numpy as np

    return np.asarray(vector, dtype=np.float32).tolist()


class DamagedIndex(UserError):
    """The embedded index's files cannot be read; ``rebuild-index`` starts it afresh."""


class DiskFull(UserError):
    """No room for the embedded index's files (it maps them into memory: a write into a page the
    filesystem cannot back ends the process with SIGBUS, so room is claimed before it opens)."""


# What a new shard's files take once written (measured with Qdrant Edge 0.3: 5 MiB, with a margin)
NEW_SHARD_BYTES = 8 << 20
_MB = 1 << 20


def _free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def _full(path: Path, free: int, needed: int) -> DiskFull:
    return DiskFull(f"the disk is full ({-(-free // _MB)} MB free, {-(-needed // _MB)} MB needed) for the "
                    f"vector index ({path})", "free some space on that disk (or move the library with "
                    "--library) and run the command again")


def claim_space(path: Path) -> int:
    """Give the engine's segment files their blocks now (``posix_fallocate``): it creates them
    sparse and fills them in through memory maps when it opens them, which on a full filesystem is
    a SIGBUS, not an error. Raises DiskFull, naming what is free and what is needed, before
    anything is written; returns the bytes claimed (0 once they all have their blocks: a later
    open only stats them). Its write-ahead log's segments are left sparse: the engine writes them
    a record at a time, not at open, and claiming them would cost 64 MiB a library up front."""
    holes: list[tuple[Path, int]] = []
    needed = 0
    for f in (path / "segments").rglob("*"):
        st = f.lstat()
        if f.is_file() and not f.is_symlink() and st.st_blocks * 512 < st.st_size:
            holes.append((f, st.st_size))
            needed += st.st_size - st.st_blocks * 512
    if not needed:
        return 0
    free = _free_bytes(path)
    if needed > free:
        raise _full(path, free, needed)
    for f, size in holes:
        fd = os.open(f, os.O_RDWR)
        try:
            os.posix_fallocate(fd, 0, size)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise _full(path, _free_bytes(path), needed) from exc
            if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                raise
            # a filesystem that cannot allocate ahead: the check above is all there is
        finally:
            os.close(fd)
    return needed


@dataclass(frozen=True)
class Hit:
    id: int
    score: float
    person: int | None


class VectorIndex(Protocol):
    dim: int

    def upsert(self, ids: Sequence[int], vectors: np.ndarray, persons: Sequence[int | None],
               photos: Sequence[int]) -> None: ...
    def delete(self, ids: Sequence[int]) -> None: ...
    def set_person(self, ids: Sequence[int], person: int | None) -> None: ...
    def search(self, vector: np.ndarray, limit: int, min_score: float | None = None,
               person: int | None = None) -> list[Hit]: ...
    def count(self) -> int: ...
    def ids(self) -> Iterator[int]: ...
    def points(self) -> Iterator[tuple[int, int | None, int | None]]: ...
    def optimize(self) -> None: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...


def _payload(photo: int, person: int | None) -> dict[str, Any]:
    return {"photo": int(photo)} if person is None else {"photo": int(photo), "person": int(person)}


def _unpack(point: int, payload: Any) -> tuple[int, int | None, int | None]:
    payload = payload or {}
    photo, person = payload.get("photo"), payload.get("person")
    return point, None if photo is None else int(photo), None if person is None else int(person)


def _batches(n: int, size: int = UPSERT_BATCH) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def _from_engine(exc: BaseException) -> bool:
    """The engine's own failures: its plain exceptions, and its Rust code's panics (pyo3's
    PanicException, a BaseException); not our bugs (TypeError, ...) nor the interpreter's."""
    if type(exc).__name__ == "PanicException":
        return True
    return type(exc) is Exception or isinstance(exc, OSError)


@contextmanager
def _engine(path: Path) -> Iterator[None]:
    """The engine's failures as one line each: its plain exceptions, and the panics of its Rust
    code (pyo3's PanicException derives from BaseException: ``except Exception`` misses them)."""
    try:
        yield
    except UserError:
        raise
    except BaseException as exc:
        if not _from_engine(exc):
            raise
        text = (str(exc).splitlines() or [type(exc).__name__])[0]
        if "no space left" in text.lower() or "disk is full" in text.lower():
            raise DiskFull(f"the disk is full for the vector index ({path}): {text}",
                           "free some space on that disk and run the command again") from exc
        raise DamagedIndex(f"the vector index cannot be read ({path}): {text}",
                           "run 'clusterids rebuild-index' to recreate it from the database") from exc


class EdgeIndex:
    """Qdrant Edge: the Qdrant engine in this process, one shard in a folder it locks. Every call
    into the engine goes through ``_engine``."""

    def __init__(self, path: Path, dim: int) -> None:
        import qdrant_edge as qe

        self._qe = qe
        self.dim = dim
        self.path = path
        config = qe.EdgeConfig(vectors=qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine))
        seal.remove(path)  # open: what it says may no longer hold (store/seal.py)
        try:
            if path.exists() and any(path.iterdir()):
                self._room(path)
                self.shard = qe.EdgeShard.load(str(path))
            else:
                path.mkdir(mode=0o700, parents=True, exist_ok=True)
                free = _free_bytes(path)
                if free < NEW_SHARD_BYTES:
                    raise _full(path, free, NEW_SHARD_BYTES)
                self.shard = qe.EdgeShard.create(str(path), config)
                self._room(path, opened=True)
                owner_only(path)  # the engine makes its files with the umask's modes
                self.shard.update(qe.UpdateOperation.create_field_index("person", qe.PayloadSchemaType.Integer))
                self.shard.update(qe.UpdateOperation.create_field_index("photo", qe.PayloadSchemaType.Integer))
        except UserError:
            raise
        except BaseException as exc:  # the engine's plain exceptions with its own text, and its panics
            if not _from_engine(exc):
                raise
            text = str(exc)
            if "no space left" in text.lower():
                raise DiskFull(f"the disk is full for the vector index ({path}): {text.splitlines()[0]}",
                               "free some space on that disk and run the command again") from exc
            if "WouldBlock" in text or "lock" in text.lower():
                raise UserError(
                    f"the vector index is in use by another process ({path})",
                    "stop the other clusterids process (or let the CLI talk to the running daemon)",
                ) from exc
            raise DamagedIndex(f"cannot open the vector index ({path}): {text}",
                               "run 'clusterids rebuild-index' to recreate it from the database") from exc
        with _engine(path):
            self.shard.info()

    def _room(self, path: Path, opened: bool = False) -> None:
        try:
            claim_space(path)
        except PermissionError:
            return  # an unreadable folder: the engine's own error says it, with the fix
        except DiskFull:
            if opened:
                self.shard.close()
            raise

    def upsert(self, ids: Sequence[int], vectors: np.ndarray, persons: Sequence[int | None],
               photos: Sequence[int]) -> None:
        qe = self._qe
        for part in _batches(len(ids)):
            points = [
                qe.Point(int(i), v.tolist(), _payload(ph, pe))
                for i, v, pe, ph in zip(ids[part], vectors[part], persons[part], photos[part], strict=True)
            ]
            with _engine(self.path):
                self.shard.update(qe.UpdateOperation.upsert_points(points))

    def delete(self, ids: Sequence[int]) -> None:
        for part in _batches(len(ids)):
            with _engine(self.path):
                self.shard.update(self._qe.UpdateOperation.delete_points([int(i) for i in ids[part]]))

    def set_person(self, ids: Sequence[int], person: int | None) -> None:
        qe = self._qe
        for part in _batches(len(ids)):
            chunk = [int(i) for i in ids[part]]
            with _engine(self.path):
                if person is None:
                    self.shard.update(qe.UpdateOperation.delete_payload(chunk, ["person"]))
                else:
                    self.shard.update(qe.UpdateOperation.set_payload(chunk, {"person": int(person)}))

    def search(self, vector: np.ndarray, limit: int, min_score: float | None = None,
               person: int | None = None) -> list[Hit]:
        qe = self._qe
        flt = None
        if person is not None:
            flt = qe.Filter(must=[qe.FieldCondition(key="person", match=qe.MatchValue(int(person)))])
        req = qe.QueryRequest(
            limit=limit, query=qe.Query.Nearest(_floats(vector)),
            filter=flt, score_threshold=min_score, with_payload=True,
        )
        with _engine(self.path):
            found = self.shard.query(req)
        return [Hit(int(p.id), float(p.score), (p.payload or {}).get("person")) for p in found]

    def count(self) -> int:
        with _engine(self.path):
            return int(self.shard.count(self._qe.CountRequest(exact=True)))

    def ids(self) -> Iterator[int]:
        offset = None
        while True:
            with _engine(self.path):
                records, offset = self.shard.scroll(
                    self._qe.ScrollRequest(offset=offset, limit=2048, with_payload=False, with_vector=False)
                )
            for r in records:
                yield int(r.id)
            if offset is None:
                return

    def points(self) -> Iterator[tuple[int, int | None, int | None]]:
        """Every point as (id, photo, person) from its payload."""
        offset = None
        while True:
            with _engine(self.path):
                records, offset = self.shard.scroll(
                    self._qe.ScrollRequest(offset=offset, limit=2048, with_payload=True, with_vector=False)
                )
            for r in records:
                yield _unpack(int(r.id), r.payload)
            if offset is None:
                return

    def optimize(self) -> None:
        with _engine(self.path):
            self.shard.optimize()

    def flush(self) -> None:
        with _engine(self.path):
            self.shard.flush()

    def close(self) -> None:
        try:
            points: int | None = self.count()
        except UserError:  # the engine's failures: no seal, the close goes on
            points = None
        try:
            with _engine(self.path):
                self.shard.flush()
        finally:
            with _engine(self.path), contextlib.suppress(Exception):  # the flush's error, if any, is the one said
                self.shard.close()
        if points is not None:
            seal.write(self.path, points)


class ServerIndex:
    """A Qdrant server or cluster through qdrant-client (``vector_store_url``)."""

    def __init__(self, client: Any, collection: str, dim: int) -> None:
        from qdrant_client import models

        self._m = models
        self.client = client
        self.collection = collection
        self.dim = dim
        if not client.collection_exists(collection):
            client.create_collection(
                collection, vectors_config=models.VectorParams(size=dim, distance=models.Distance.COSINE)
            )
            with warnings.catch_warnings():  # in-process mode warns that it has no payload indexes
                warnings.simplefilter("ignore", UserWarning)
                for key in ("person", "photo"):
                    client.create_payload_index(collection, key, models.PayloadSchemaType.INTEGER)

    @classmethod
    def connect(cls, url: str, api_key: str, collection: str, dim: int) -> ServerIndex:
        from qdrant_client import QdrantClient

        client = QdrantClient(location=url, api_key=api_key or None) if url == ":memory:" else \
            QdrantClient(url=url, api_key=api_key or None)
        try:
            return cls(client, collection, dim)
        except Exception as exc:
            raise UserError(f"cannot reach the Qdrant server ({url}): {exc}",
                            "check vector_store_url, or leave it empty for the embedded index") from exc

    def upsert(self, ids: Sequence[int], vectors: np.ndarray, persons: Sequence[int | None],
               photos: Sequence[int]) -> None:
        m = self._m
        for part in _batches(len(ids)):
            points = [
                m.PointStruct(id=int(i), vector=v.tolist(), payload=_payload(ph, pe))
                for i, v, pe, ph in zip(ids[part], vectors[part], persons[part], photos[part], strict=True)
            ]
            self.client.upsert(self.collection, points=points, wait=True)

    def delete(self, ids: Sequence[int]) -> None:
        for part in _batches(len(ids)):
            chunk: list[int | str | Any] = [int(i) for i in ids[part]]
            self.client.delete(self.collection, points_selector=self._m.PointIdsList(points=chunk))

    def set_person(self, ids: Sequence[int], person: int | None) -> None:
        for part in _batches(len(ids)):
            chunk = [int(i) for i in ids[part]]
            if person is None:
                self.client.delete_payload(self.collection, keys=["person"], points=chunk)
            else:
                self.client.set_payload(self.collection, payload={"person": int(person)}, points=chunk)

    def search(self, vector: np.ndarray, limit: int, min_score: float | None = None,
               person: int | None = None) -> list[Hit]:
        m = self._m
        flt = None
        if person is not None:
            flt = m.Filter(must=[m.FieldCondition(key="person", match=m.MatchValue(value=int(person)))])
        res = self.client.query_points(
            self.collection, query=_floats(vector), limit=limit,
            score_threshold=min_score, query_filter=flt, with_payload=True,
        )
        return [Hit(int(p.id), float(p.score), (p.payload or {}).get("person")) for p in res.points]

    def count(self) -> int:
        return int(self.client.count(self.collection, exact=True).count)

    def ids(self) -> Iterator[int]:
        offset = None
        while True:
            records, offset = self.client.scroll(
                self.collection, limit=2048, offset=offset, with_payload=False, with_vectors=False
            )
            for r in records:
                yield int(r.id)
            if offset is None:
                return

    def points(self) -> Iterator[tuple[int, int | None, int | None]]:
        offset = None
        while True:
            records, offset = self.client.scroll(
                self.collection, limit=2048, offset=offset, with_payload=True, with_vectors=False
            )
            for r in records:
                yield _unpack(int(r.id), r.payload)
            if offset is None:
                return

    def optimize(self) -> None:
        """The server optimizes on its own."""

    def flush(self) -> None:
        """Writes are acknowledged with wait=True."""

    def close(self) -> None:
        self.client.close()


class DeferredIndex:
    """The vector index of a library whose index only its owner may open: nothing is written
    here; the ``vectors_dirty`` mark makes the owner restore the vectors from the database."""

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def upsert(self, ids: Sequence[int], vectors: np.ndarray, persons: Sequence[int | None],
               photos: Sequence[int]) -> None:
        pass

    def delete(self, ids: Sequence[int]) -> None:
        pass

    def set_person(self, ids: Sequence[int], person: int | None) -> None:
        pass

    def search(self, vector: np.ndarray, limit: int, min_score: float | None = None,
               person: int | None = None) -> list[Hit]:
        return []

    def count(self) -> int:
        return 0

    def ids(self) -> Iterator[int]:
        return iter(())

    def points(self) -> Iterator[tuple[int, int | None, int | None]]:
        return iter(())

    def optimize(self) -> None:
        pass

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass
