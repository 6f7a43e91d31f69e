"""Items 22.3 and 22.4: settings that would write albums among system files or photos, and a
config file that cannot be read, are one line each, at settings load or library open."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clusterids.config import load_settings
from clusterids.errors import UserError

from .test_boundaries import cli_one_line


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """A library folder of its own; these tests need no models."""
    return {"CLUSTERIDS_LIBRARY": str(tmp_path / "library"), "CLUSTERIDS_PROGRESS": "false"}


@pytest.mark.parametrize("albums", ["/", "/usr", "/etc/clusterids", "/proc/self", "/dev", "/sys", "/bin", "~"])
def test_albums_dir_in_a_system_folder_is_refused(tmp_path, albums):
    env = {"CLUSTERIDS_LIBRARY": str(tmp_path / "lib"), "CLUSTERIDS_ALBUMS_DIR": albums}
    with pytest.raises(UserError, match="albums_dir") as caught:
        load_settings({}, environ=env)
    assert "\n" not in str(caught.value)


def test_albums_dir_of_its_own_is_fine(tmp_path):
    env = {"CLUSTERIDS_LIBRARY": str(tmp_path / "lib"), "CLUSTERIDS_ALBUMS_DIR": str(tmp_path / "People")}
    assert load_settings({}, environ=env).albums_path == tmp_path / "People"
    home = {"CLUSTERIDS_LIBRARY": str(tmp_path / "lib"), "CLUSTERIDS_ALBUMS_DIR": "~/People"}
    assert load_settings({}, environ=home).albums_path == Path.home() / "People"


def test_albums_dir_inside_a_photo_folder_is_refused(tmp_path, cli_env):
    """The synthetic library needs no models: the refusal comes before any photo is read."""
    from tests.synthetic import open_synthetic

    photos = tmp_path / "photos"
    photos.mkdir()
    settings = load_settings({}, environ={"CLUSTERIDS_LIBRARY": str(tmp_path / "library")})
    lib = open_synthetic(settings)
    lib.db.add_roots([str(photos)])
    lib.close()
    env = {"CLUSTERIDS_LIBRARY": str(tmp_path / "library"), "CLUSTERIDS_ALBUMS_DIR": str(photos / "People")}
    with pytest.raises(UserError, match="inside the photo folder"):
        open_synthetic(load_settings({}, environ=env))
    line = cli_one_line(cli_env, "--set", f"albums_dir={photos}", "status")
    assert "inside the photo folder" in line


def test_albums_dir_refused_on_the_command_line(cli_env):
    line = cli_one_line(cli_env, "--set", "albums_dir=/", "status")
    assert "albums_dir" in line and "root folder" in line


@pytest.mark.parametrize("content", [b"eps = 0.4\n# caf\xe9\n", b"\xff\xfe\x00e\x00p\x00s", b"name = '\xc3'\n"])
def test_config_that_is_not_utf8_is_one_line(cli_env, content):
    library = Path(cli_env["CLUSTERIDS_LIBRARY"])
    library.mkdir(parents=True)
    (library / "config.toml").write_bytes(content)
    line = cli_one_line(cli_env, "status")
    assert str(library / "config.toml") in line and "UTF-8" in line, line


def test_config_that_is_a_fifo_is_one_line(cli_env):
    library = Path(cli_env["CLUSTERIDS_LIBRARY"])
    library.mkdir(parents=True)
    os.mkfifo(library / "config.toml")
    line = cli_one_line(cli_env, "status")
    assert str(library / "config.toml") in line and "not a regular file" in line, line


@pytest.mark.parametrize("given, said", [
    (("--set", "eps=1_0"), "'1_0': write a plain number (like 0.45)"),  # Python reads it as 10
    (("--set", "workers=1_0"), "'1_0': write a plain number (like 4)"),
    (("--set", "eps=inf"), "'inf': write a plain number"),
    (("--set", "eps=abc"), "setting 'eps' from --set eps has the value 'abc'"),
    (("--set", "max_pixels=0"), "must be positive, not 0: give another value (--set max_pixels=...)"),
    (("--set", "min_samples=-1"), "setting 'min_samples' must be 0 or more, not -1"),
])
def test_a_wrong_value_says_where_it_was_given(cli_env, given, said):
    line = cli_one_line(cli_env, *given, "config")
    assert said in line, line


def test_a_wrong_value_in_the_environment_or_a_library_that_is_a_file_say_so(cli_env, tmp_path):
    line = cli_one_line(cli_env | {"CLUSTERIDS_MAX_PIXELS": "0"}, "config")
    assert "change CLUSTERIDS_MAX_PIXELS in the environment" in line, line
    a_file = tmp_path / "a-file"
    a_file.write_text("not a library")
    line = cli_one_line(cli_env, "--library", str(a_file), "status")
    assert "the library path is a file" in line and "config.toml" not in line, line


def test_another_named_pack_in_the_config_is_refused_without_fetching_it(tmp_path):
    """`model = "buffalo_l"` in the config of an open-pack library: every command, reads and
    backup too, tried to download buffalo_l and failed with a long network error; it is the
    same refusal as for a pack found, naming where the setting came from."""
    from clusterids.app import open_library
    from clusterids.store.db import set_meta

    from ..synthetic import add_photos, open_synthetic, people_photos

    env = {"CLUSTERIDS_LIBRARY": str(tmp_path / "library"), "CLUSTERIDS_PROGRESS": "false",
           "CLUSTERIDS_INSIGHTFACE_ROOT": str(tmp_path / "none")}
    lib = open_synthetic(load_settings({}, environ=env))
    add_photos(lib, tmp_path / "photos", people_photos(1, 2))
    with lib.db.transaction() as s:
        set_meta(s, "model", "open")  # as an open-pack library records it
    lib.close()
    (tmp_path / "library" / "config.toml").write_text('model = "buffalo_l"\n')
    with pytest.raises(UserError, match="made by the model pack open, not buffalo_l") as caught:
        open_library(load_settings({}, environ=env))
    assert "config.toml" in caught.value.what and "reindex --model buffalo_l" in caught.value.hint
