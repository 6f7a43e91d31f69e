"""Where the settings come from, read as raw values: the library's ``config.toml``, the
environment, the flags, in that order of precedence over the defaults.

Light on purpose (the standard library and platformdirs only): ``config.load_settings`` layers
these and validates them into the one frozen ``Settings``; a read of the database
(``cli/quick.py``) needs only where the library is and must not pay for pydantic to learn it.
"""

from __future__ import annotations

import stat
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import platformdirs

from .errors import UserError

ENV_PREFIX = "CLUSTERIDS_"
CONFIG_FILE = "config.toml"
# every setting's name, as config.Settings declares them (tests/test_cli_imports.py keeps them equal)
SETTING_NAMES = frozenset({
    "library", "model", "models_dir", "insightface_root", "database_url", "vector_store_url", "vector_store_api_key",
    "hnsw_min_points", "max_pixels", "max_file_bytes", "backup_hours", "backup_keep", "decode_max_side", "det_size",
    "det_threshold", "min_face_px", "core_min_det_score", "core_min_face_px", "core_min_sharpness", "core_max_yaw",
    "weak_eps", "join_eps", "attach_eps", "weak_attach_eps", "retry_padded", "retry_turned", "flip_embed",
    "flip_min_yaw", "model_ttl_seconds", "model_nice", "model_io_idle", "eps", "min_samples", "neighbors",
    "albums_dir", "album_link", "workers", "model_threads", "batch_size", "settle_seconds", "recluster_minutes",
    "recluster_after_faces", "watch_queue_max", "api_port", "poll_watch", "providers", "path_map", "lease_seconds",
    "claim_batch", "enqueue", "xmp_read", "xmp_write", "progress"})


OWN_FLAGS = ("library", "model")  # the settings with flags of their own; every other one is given by --set


def default_library() -> Path:
    return Path(platformdirs.user_data_dir("clusterids")) / "library"


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``[vector_store] url = ...`` and ``vector_store_url = ...`` mean the same setting."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}".replace("-", "_").replace(".", "_")
        out.update(_flatten(value, name + "_") if isinstance(value, Mapping) else {name: value})
    return out


def read_toml(path: Path) -> dict[str, Any]:
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # a FIFO would wait forever, a device never end
            raise UserError(f"the config file is not a regular file ({path})",
                            "replace it by a text file, or remove it")
        with path.open("rb") as fh:
            return _flatten(tomllib.load(fh))
    except (FileNotFoundError, NotADirectoryError):  # a library path that is a file: said where it is opened
        return {}
    except UnicodeDecodeError as exc:
        raise UserError(f"the config file is not UTF-8 text ({path})",
                        f"save it as UTF-8 (byte {exc.start} is not), or remove it") from exc
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"cannot read the config file ({path})", f"fix or remove it: {exc}") from exc


def plain_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The settings the environment gives, by name, as pydantic-settings' environment source
    reads them for scalar settings: ``CLUSTERIDS_NAME`` in any case, unknown names ignored."""
    lowered = {k.lower(): v for k, v in environ.items()}
    prefix = ENV_PREFIX.lower()
    return {name: lowered[prefix + name] for name in sorted(SETTING_NAMES) if prefix + name in lowered}


def layered(flags: Mapping[str, Any], env: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str], Path]:
    """The given values over the defaults, config.toml < environment < flags: (value by name,
    where each came from, the config file's path). ``flags`` holds no None."""
    # The library decides where config.toml lives, so it is resolved first.
    library = flags.get("library") or env.get("library") or default_library()
    toml_path = Path(str(library)).expanduser() / CONFIG_FILE
    toml = {k: v for k, v in read_toml(toml_path).items() if k != "library"}
    merged: dict[str, Any] = {}
    origins: dict[str, str] = {}
    layers: list[tuple[Mapping[str, Any], Callable[[str], str]]] = [
        (toml, lambda _: str(toml_path)), (env, lambda n: f"env {ENV_PREFIX}{n.upper()}"),
        (flags, lambda n: f"flag --{n}" if n in OWN_FLAGS else f"--set {n}")]
    for values, origin in layers:
        for name, value in values.items():
            merged[name], origins[name] = value, origin(name)
    return merged, origins, toml_path
