"""Every command and every setting is documented; settings come from the right place."""

from __future__ import annotations

import json

import click
import pydantic
import pytest
from click.testing import CliRunner

from clusterids.cli import cli
from clusterids.config import load_settings, setting_fields
from clusterids.errors import UserError


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out = []
    for name, cmd in group.commands.items():
        out.append((prefix + name, cmd))
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, prefix + name + " "))
    return out


@pytest.mark.parametrize("name,cmd", _commands(cli))
def test_every_command_has_help(name, cmd):
    assert cmd.help and len(cmd.help) > 10, name
    result = CliRunner().invoke(cli, [*name.split(), "--help"], obj={})
    assert result.exit_code == 0 and "Usage:" in result.output


def test_every_setting_has_help():
    for name, info in setting_fields():
        assert len(info.description or "") > 10, name


def test_precedence_toml_env_flag(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "config.toml").write_text('eps = 0.4\nworkers = 3\nalbum_link = "copy"\n[vector_store]\nurl = "x"\n')
    env = {"CLUSTERIDS_LIBRARY": str(lib), "CLUSTERIDS_WORKERS": "4"}
    s = load_settings({"album_link": "hardlink"}, environ=env)
    assert (s.eps, s.workers, s.album_link, s.vector_store_url) == (0.4, 4, "hardlink", "x")
    assert s.sources["eps"].endswith("config.toml")
    assert s.sources["workers"] == "env CLUSTERIDS_WORKERS"
    assert s.sources["album_link"] == "--set album_link"
    assert s.sources["library"] == "env CLUSTERIDS_LIBRARY"
    with pytest.raises(pydantic.ValidationError, match="frozen"):  # one frozen object, passed down
        s.eps = 0.5  # type: ignore[misc]


def test_config_command_shows_sources(tmp_path):
    env = {"CLUSTERIDS_LIBRARY": str(tmp_path / "lib"), "CLUSTERIDS_EPS": "0.5"}
    result = CliRunner().invoke(cli, ["--set", "workers=3", "config", "--json"], env=env, obj={})
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert rows["eps"] == {"name": "eps", "value": 0.5, "source": "env CLUSTERIDS_EPS"}
    assert rows["workers"]["source"] == "--set workers" and rows["workers"]["value"] == 3


@pytest.mark.parametrize("toml,words", [
    ("eps = 'wide'", "use a value of type float"),
    ("nonsense = 1", "unknown setting"),
    ("eps = [", "cannot read the config file"),
    ("album_link = 'move'", "'symlink'"),
])
def test_wrong_config_is_one_clear_error(tmp_path, toml, words):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "config.toml").write_text(toml + "\n")
    with pytest.raises(UserError, match=words):
        load_settings({}, environ={"CLUSTERIDS_LIBRARY": str(lib)})
    result = CliRunner().invoke(cli, ["status"], env={"CLUSTERIDS_LIBRARY": str(lib)}, obj={})
    assert result.exit_code == 1 and result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


def _tool(name: str):
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location(name, root / "tools" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return root, module


def test_the_cli_reference_is_in_step_with_the_commands():
    """docs/cli.md is what tools/cli_reference.py prints from the commands' --help."""
    root, module = _tool("cli_reference")
    written = (root / "docs" / "cli.md").read_text()
    assert written == module.reference(), "run: python tools/cli_reference.py > docs/cli.md"


def test_the_api_reference_is_in_step_with_the_operations():
    """docs/api.md is what tools/api_reference.py prints from the controllers' operations."""
    root, module = _tool("api_reference")
    written = (root / "docs" / "api.md").read_text()
    assert written == module.reference(), "run: python tools/api_reference.py > docs/api.md"
