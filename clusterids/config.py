"""One typed settings object, built where the program starts and passed down.

Sources, lowest to highest precedence: defaults, the library's ``config.toml``, environment
variables ``CLUSTERIDS_<NAME>``, command-line flags. pydantic-settings reads the file and the
environment and validates every value; what is ours is the record of where each value came
from (``Settings.sources``, for ``clusterids config``) and one clear line for a wrong value.
"""

from __future__ import annotations

import os
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import Field, PrivateAttr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from .errors import UserError
from .sources import CONFIG_FILE, ENV_PREFIX, default_library, layered, read_toml

LinkMode = Literal["symlink", "hardlink", "copy"]
XmpWrite = Literal["off", "sidecar"]


def _help(text: str, default: Any = None, factory: Any = None) -> Any:
    return Field(default_factory=factory, description=text) if factory else Field(default, description=text)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="forbid", validate_default=False)

    library: Path = _help("Library folder: database, vector index, config, albums.", factory=default_library)
    model: str = _help("Model pack: 'auto', 'buffalo_l', 'open' or a folder with two ONNX files.", "auto")
    models_dir: str = _help("Where the open pack is installed; empty: the user's data folder.", "")
    insightface_root: str = _help("InsightFace's model root, holding models/buffalo_l.", "~/.insightface")
    database_url: str = _help("SQLAlchemy URL of the library database; empty: SQLite inside the library.", "")
    vector_store_url: str = _help("Qdrant server URL; empty: embedded Qdrant Edge inside the library.", "")
    vector_store_api_key: str = _help("API key for the Qdrant server, if it needs one.", "")
    hnsw_min_points: int = _help("Optimize the vector index (HNSW) once it holds this many faces, and again "
                                 "each time it grew by half; below it, exact search is fast enough.", 200_000)
    max_pixels: int = _help("Photos that would decode to more pixels than this are refused (decompression "
                            "bombs); large JPEGs decode reduced and count as such. The default keeps one "
                            "decode under about 300 MB.", 30_000_000)
    max_file_bytes: int = _help("Photo files larger than this are refused before they are read.", 256 * 2**20)
    backup_hours: float = _help("While the daemon works, copy library.db into backups/ at most this often (a "
                                "command-line index or recluster that changed something always copies); the "
                                "way back from a damaged database ('clusterids restore'); 0: no copies.", 1.0)
    backup_keep: int = _help("How many copies of library.db backups/ keeps (the newest).", 3)
    decode_max_side: int = _help("Decode large photos at a reduced size near this longest side (up to 1.5x it).",
                                 2560)
    det_size: int = _help("Detector input size in pixels (square).", 640)
    det_threshold: float = _help("Minimum detection score of a stored face; 0: the detector's default "
                                 "(SCRFD 0.5, YuNet 0.7).", 0.0)
    min_face_px: int = _help("Faces smaller than this (shorter box side, original pixels) are not stored.", 16)
    core_min_det_score: float = _help("Quality gate: minimum detection score of a core face.", 0.6)
    core_min_face_px: int = _help("Quality gate: minimum box side (pixels) of a core face.", 40)
    core_min_sharpness: float = _help("Quality gate: minimum Laplacian variance of a core face crop.", 10.0)
    core_max_yaw: float = _help("Quality gate: maximum yaw of a core face, from its landmarks (0 frontal, "
                                "1 nose at the outer eye, a profile 1-3); 0: no yaw limit (profiles are then cores "
                                "and can meet their person's frontal views).", 0.0)
    weak_eps: float = _help("Radius (cosine distance) within which a face that fails the quality gate joins "
                            "a person's trusted face; 0: the clustering radius.", 0.0)
    join_eps: float = _help("Clusters whose centres (means of their trusted faces) lie within this cosine "
                            "distance are one person (a person's profiles and frontal views); 0: the pack's "
                            "default, -1: off.", 0.0)
    attach_eps: float = _help("A face left out of every cluster joins the person whose nearest centre lies "
                              "within this cosine distance; 0: the pack's default, -1: off.", 0.0)
    weak_attach_eps: float = _help("The same for a face failing the quality gate (tighter); 0: the pack's "
                                   "default, -1: as attach_eps.", 0.0)
    retry_padded: bool = _help("When a photo yields no face, look again on a padded canvas (close-ups: ID "
                               "photos, profile pictures, prints cut to the face).", True)
    retry_turned: bool | Literal["auto"] = _help(
        "When a photo yields no face, look again with it turned a quarter each way and upside down (sideways "
        "scans, old cameras); auto: only photos that do not say which way is up (no EXIF orientation tag, no "
        "sidecar's: scans, exports), as a camera or phone photo always does; true: every photo (it cost 28% of "
        "indexing time on a library where half the photos hold no face).", "auto")
    flip_embed: bool = _help("Embed a turned face and its mirror image and average them (test-time flip): "
                             "profiles meet frontal views. Only faces turned at least flip_min_yaw are "
                             "mirrored, in the same recognizer batch as the faces.", True)
    flip_min_yaw: float = _help("With flip_embed: the yaw (from the landmarks, as core_max_yaw) from which a face "
                                "is embedded with its mirror; 0: every face (twice the recognizer's work).", 0.5)
    model_ttl_seconds: float = _help("Daemon: unload the models after this many seconds unused, giving their "
                                     "memory back; the next photo loads them again (0: keep them loaded).", 300.0)
    model_nice: int = _help("Daemon: niceness added to the thread running the models (0-19), so commands and "
                            "the page answer first during an index run; 0: the daemon's own priority.", 10)
    model_io_idle: bool = _help("Daemon: the models' thread reads photos in the idle I/O class (the disk "
                                "serves others first).", True)
    eps: float = _help("DBSCAN radius (cosine distance); 0: the model pack's calibrated default.", 0.0)
    min_samples: int = _help("DBSCAN core size, the face itself included; 0: the pack's default.", 0)
    neighbors: int = _help("Neighbours kept per face in the stored similarity graph.", 32)
    albums_dir: str = _help("Album folder; empty: 'albums' inside the library.", "")
    album_link: LinkMode = _help("How album entries point at photos: symlink, hardlink or copy.", "symlink")
    workers: int = _help("Photos read, decoded and run through the models at once, each in a thread of its own.", 2)
    model_threads: int = _help("Threads onnxruntime gives each model call; 0: the cores shared among the 'workers' "
                               "photos at once (one photo a core beats one photo on every core: nothing waits).", 0)
    batch_size: int = _help("Faces embedded per recognizer call (small batches are fastest on CPUs).", 8)
    settle_seconds: float = _help("Daemon: index a file once its size and mtime held still this long.", 2.0)
    recluster_minutes: float = _help("Daemon: recluster this often when faces were added (0: never).", 60.0)
    recluster_after_faces: int = _help("Daemon: recluster once this many faces were added (0: never).", 500)
    watch_queue_max: int = _help("Daemon: pending paths held; past it, one rescan of the folders instead.", 20_000)
    api_port: int = _help("Daemon: loopback port of the local API; 0 picks a free one.", 0)
    poll_watch: bool = _help("Daemon: poll the folders instead of inotify (network shares).", False)
    providers: str = _help("onnxruntime execution providers for the models, in order of preference, comma-"
                           "separated: cpu, cuda, tensorrt, openvino, coreml, directml, rocm (or full names). One "
                           "that is missing or cannot start falls back to the CPU with one notice.", "cpu")
    path_map: str = _help("Worker: where this machine sees the library's folders, as FROM=TO pairs separated "
                          "by ';' (e.g. '/srv/photos=/mnt/nas/photos'); paths stay stored as FROM.", "")
    lease_seconds: float = _help("Worker: a claim returns to the queue this long after its worker was last "
                                 "heard of (it renews its claims while alive).", 60.0)
    claim_batch: int = _help("Worker: photos claimed at a time (one transaction stores them).", 4)
    enqueue: bool = _help("Daemon: fill the work queue for 'clusterids worker' processes instead of running "
                          "the models itself.", False)
    xmp_read: bool = _help("Read the names other programs (digiKam, Lightroom, Picasa, Mylio, ACDSee) gave "
                           "faces: MWG, Microsoft and ACDSee regions and People tags in the photo's XMP and in its "
                           "sidecar (photo.jpg.xmp, photo.xmp), and an orientation given only in the sidecar. "
                           "A named region over a face makes it that person's, as 'clusterids assign' does.", True)
    xmp_write: XmpWrite = _help("'sidecar': the photos' XMP sidecars follow the names after each correction and "
                                "recluster (MWG regions, People tags; the photos themselves are never changed); "
                                "'off': only 'clusterids xmp write' writes them.", "off")
    progress: bool = _help("Show a progress bar on stderr when it is a terminal.", True)
    _sources: dict[str, str] = PrivateAttr(default_factory=dict)

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)  # load_settings layers the sources itself, to know where each value came from

    @property
    def sources(self) -> dict[str, str]:
        """Where each value came from: 'default', the config file, 'env NAME', 'flag --library', '--set name'."""
        return self._sources

    @property
    def models_path(self) -> Path:
        if self.models_dir:
            return Path(self.models_dir).expanduser()
        return Path(platformdirs.user_data_dir("clusterids")) / "models"

    @property
    def albums_path(self) -> Path:
        return Path(self.albums_dir).expanduser() if self.albums_dir else self.library / "albums"

    def public(self) -> dict[str, Any]:
        """Every setting with its value, as plain JSON-able data."""
        return {name: str(v) if isinstance(v, Path) else v for name, v in self.model_dump().items()}

    def replace(self, **changes: Any) -> Settings:
        """A copy with some values changed (validated, sources kept)."""
        out = type(self).model_validate({**self.model_dump(), **changes})
        out._sources.update(self._sources)
        return out


def setting_fields() -> list[tuple[str, FieldInfo]]:
    """Every setting's name and field (its ``description`` is its help text)."""
    return list(Settings.model_fields.items())


class _Environ(EnvSettingsSource):
    """The environment variables of a given mapping (the process's by default)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._given = environ
        super().__init__(Settings, env_prefix=ENV_PREFIX, case_sensitive=False)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {k.lower(): v for k, v in self._given.items()}


def _wrong(error: Any, merged: Mapping[str, Any], origins: Mapping[str, str]) -> UserError:
    """One line for the first value pydantic refused: which setting, from where, what to write."""
    name = str(error["loc"][0]) if error["loc"] else ""
    origin = origins.get(name, "the settings")
    if error["type"] == "extra_forbidden":
        return UserError(f"unknown setting {name!r} in {origin}", "see 'clusterids config' for names")
    kind = typing.get_type_hints(Settings).get(name)
    if typing.get_origin(kind) is Literal:
        allowed = "one of " + ", ".join(map(repr, typing.get_args(kind)))
    else:
        allowed = f"a value of type {getattr(kind, '__name__', kind)}"
    return UserError(f"setting {name!r} from {origin} has the value {merged.get(name)!r}", f"use {allowed}")


def load_settings(flags: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings: defaults < library config.toml < environment < flags."""
    environ = os.environ if environ is None else environ
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    merged, origins, _ = layered(flags, _Environ(environ)())
    _plain_numbers(merged, origins)
    try:
        settings = Settings(**merged)  # frozen from here on: one object passed down
    except ValidationError as exc:
        raise _wrong(exc.errors()[0], merged, origins) from None
    settings._sources.update({name: origins.get(name, "default") for name in Settings.model_fields})
    _validate(settings)
    return settings


def _plain_numbers(merged: Mapping[str, Any], origins: Mapping[str, str]) -> None:
    """A number given as text is plain digits: "1_0" (Python's 10) and "inf" or "nan" are typing
    slips or nonsense for a setting, never what was meant."""
    hints = typing.get_type_hints(Settings)
    for name, value in merged.items():
        if hints.get(name) in (int, float) and isinstance(value, str) and \
                ("_" in value or value.strip().lower().lstrip("+-") in ("inf", "infinity", "nan")):
            raise UserError(f"setting {name!r} from {origins.get(name, 'the settings')} has the value {value!r}",
                            f"write a plain number ({'like 0.45' if hints[name] is float else 'like 4'})")


def _fix(s: Settings, *names: str) -> str:
    """Where to change a refused value: the place it came from."""
    origin = s.sources.get(names[0], "default")
    if origin.startswith(("--set", "flag")):
        return f"give another value ({origin}=...)" if origin.startswith("--set") else f"give another {origin}"
    if origin.startswith("env "):
        return f"change {origin[4:]} in the environment"
    return f"change it in {origin}" if origin != "default" else "fix the config"


def _validate(s: Settings) -> None:
    positive = ("max_pixels", "max_file_bytes", "decode_max_side", "det_size", "workers", "batch_size", "neighbors",
                "lease_seconds", "claim_batch")
    for name in positive:
        if getattr(s, name) <= 0:
            raise UserError(f"setting {name!r} must be positive, not {getattr(s, name)}", _fix(s, name))
    if s.model_threads < 0:
        raise UserError(f"setting 'model_threads' must be 0 (as many as fit) or more, not {s.model_threads}",
                        _fix(s, "model_threads"))
    for name in ("model_ttl_seconds", "flip_min_yaw", "min_samples", "min_face_px", "backup_keep"):
        if getattr(s, name) < 0:
            raise UserError(f"setting {name!r} must be 0 or more, not {getattr(s, name)}", _fix(s, name))
    if not 0 <= s.model_nice <= 19:
        raise UserError(f"setting 'model_nice' must be 0 to 19, not {s.model_nice}", _fix(s, "model_nice"))
    if not 0.0 <= s.eps < 2.0:
        raise UserError(f"setting 'eps' must be a cosine distance in [0, 2), not {s.eps}", _fix(s, "eps"))
    path_map_pairs(s.path_map)
    _check_albums_dir(s)


# albums_dir may be none of these, nor inside one of them: a sync writes and removes entries there
SYSTEM_DIRS = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/run", "/sbin", "/sys", "/usr")


def _check_albums_dir(s: Settings) -> None:
    if not s.albums_dir:
        return
    where = os.path.realpath(s.albums_path)
    home = os.path.realpath(Path.home())
    system = next((d for d in SYSTEM_DIRS if where == d or where.startswith(d + "/")), None)
    if where in ("/", home) or system:
        what = "the root folder" if where == "/" else "your home folder itself" if where == home else \
            f"inside the system folder {system}"
        raise UserError(f"setting 'albums_dir' ({s.albums_dir}) is {what}, where album folders must not be "
                        f"written or removed", "choose a folder of its own, e.g. ~/Pictures/People, or leave it empty")


def check_albums_outside(s: Settings, roots: list[str]) -> None:
    """Refuse an ``albums_dir`` that is one of the photo folders ``roots``, or inside one (the
    folders are the library's, so this is checked where it is opened and where it grows)."""
    if not s.albums_dir:
        return
    where = os.path.realpath(s.albums_path)
    for root in roots:
        top = os.path.realpath(root)
        if where == top or where.startswith(top.rstrip("/") + "/"):
            raise UserError(f"setting 'albums_dir' ({s.albums_dir}) is inside the photo folder {root}, where album "
                            "folders would be written among your photos",
                            "choose a folder outside your photo folders, or leave it empty")


def path_map_pairs(text: str) -> list[tuple[str, str]]:
    """The ``path_map`` setting as (library path, this machine's path) pairs, longest first."""
    pairs = []
    for item in (p.strip() for p in text.split(";")):
        if not item:
            continue
        src, sep, dst = item.partition("=")
        if not sep or not src.strip() or not dst.strip():
            raise UserError(f"setting 'path_map' has the item {item!r}", "write FROM=TO pairs separated by ';'")
        pairs.append((src.strip().rstrip("/") or "/", dst.strip().rstrip("/") or "/"))
    return sorted(pairs, key=lambda p: -len(p[0]))


def map_path(path: str, pairs: list[tuple[str, str]]) -> str:
    """Where this machine sees ``path`` of the library."""
    for src, dst in pairs:
        if path == src or path.startswith(src.rstrip("/") + "/"):
            return dst + path[len(src):] if src != "/" else dst.rstrip("/") + path
    return path


__all__ = ["CONFIG_FILE", "ENV_PREFIX", "Settings", "default_library", "load_settings", "read_toml", "setting_fields"]
