"""The command group and how a command runs: its settings, its library, one operation
(here, or through the running daemon), the one user-error type mapped to a line."""

from __future__ import annotations

import contextlib
import traceback
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import click

from .. import __version__
from ..errors import UserError
from . import usage, words
from .render import progress_bar

if TYPE_CHECKING:
    from ..config import Settings


class Main(click.Group):
    """Catches the one user-error type in one place: ``error: ...`` and exit status 1; a usage
    error is one line too, exit status 2; the group's options may follow the command
    (cli/usage.py)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, usage.hoist(self, args))

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            raise usage.one_line(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise usage.one_line(exc, ctx) from None
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


@click.group("clusterids", cls=Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--library", "-L", type=click.Path(), help="Library folder (env CLUSTERIDS_LIBRARY).")
@click.option("--model", "-m", help="Model pack: buffalo_l, open, or a folder with two ONNX files.")
@click.option("--set", "-s", "sets", multiple=True, metavar="NAME=VALUE", help="Override any setting.")
@click.option("--verbose", "-v", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(__version__, prog_name="clusterids")  # no package metadata to read
@click.pass_context
def cli(ctx: click.Context, library: str | None, model: str | None, sets: tuple[str, ...], verbose: bool) -> None:
    """ClusterIdentities: a persistent face index for your photo folders."""
    ctx.ensure_object(dict)
    usage.echo_notices()
    ctx.obj["verbose"] = verbose
    ctx.obj["flags"] = {"library": library, "model": model}
    ctx.obj["sets"] = sets


def settings_of(ctx: click.Context) -> Settings:
    obj = ctx.find_root().obj
    if "settings" not in obj:
        from ..config import load_settings  # settings are read by commands that need them, not --help

        flags = dict(obj["flags"])
        flags.update(_parse_sets(obj["sets"]))
        obj["settings"] = load_settings(flags)
    settings: Settings = obj["settings"]
    return settings


def call(ctx: click.Context, name: str, /, **kwargs: Any) -> Any:
    """Run one operation (``"people.assign"``): through the daemon's API when a daemon owns the
    library, else here, opening the library as the operation needs it. Returns its typed result."""
    from ..core import operations
    from ..daemon.client import find_daemon

    op = operations.get(name)
    settings = settings_of(ctx)
    remote = find_daemon(settings)
    if remote is not None:
        if op.flags.offline:
            raise UserError(f"the daemon owns this library (pid {remote.pid}), and '{name}' must run alone",
                            f"stop it ('{command(ctx, 'stop')}'), then run this command again")
        _refuse_flags_for_the_daemon(ctx, settings)
        return remote.call(op, kwargs)
    op.check(kwargs)
    from .. import app
    from ..core import Hooks

    if op.flags.offline:
        with progress_bar(settings) as (progress, on_plan):
            return app.offline(settings, Hooks(progress=progress, on_plan=on_plan)).call(op, kwargs)

    with progress_bar(settings) if op.flags.long else nullcontext((None, None)) as (progress, on_plan):
        core = app.open_core(settings, op, Hooks(progress=progress, on_plan=on_plan))
        try:
            for notice in core.lib.notices:
                click.echo(notice, err=True)
            if core.lib.repaired:
                click.echo(f"repaired after an interruption: {words.repairs(core.lib.repaired)}", err=True)
            result = core.call(op, kwargs)
        except BaseException:
            with contextlib.suppress(Exception):  # the first error is the one said, not a close's after it
                core.lib.close()
            raise
        core.lib.close()  # a close that fails (a full disk at the index's flush) is said as itself
        return result


def read(ctx: click.Context, name: str, /, **kwargs: Any) -> Any:
    """Run a read command's operation (cli/quick.py lists them) and return its result as plain
    data: the short way when it gives the same answer, else ``call``."""
    from .quick import quick_read

    found = quick_read(ctx, name, kwargs)
    if found is not None:
        return found
    from ..core.results import plain

    return plain(call(ctx, name, **kwargs))


CLIENT_SIDE = frozenset({"progress"})  # settings that shape this command's output, not the work


def _refuse_flags_for_the_daemon(ctx: click.Context, settings: Settings) -> None:
    """The daemon works with the settings it started with: a flag that would change the work
    must not be dropped silently, so the command refuses and says how to apply it."""
    obj = ctx.find_root().obj
    given = [f"--model {obj['flags']['model']}"] if obj["flags"].get("model") else []
    given += [f"--set {name}={value}" for name, value in _parse_sets(obj["sets"]).items() if name not in CLIENT_SIDE]
    if not given:
        return
    sets = [f"{name} = {value}" for name, value in _parse_sets(obj["sets"]).items() if name not in CLIENT_SIDE]
    stop = command(ctx, "stop")
    alone = f"or run '{stop}' and then this command again (it runs alone then)"
    if sets:
        how = (f"to change the daemon's settings, write {'; '.join(sets)} in {settings.library / 'config.toml'} "
               f"and restart it ('{stop}', then '{command(ctx, 'ui')}' or '{command(ctx, 'watch')}'); {alone}")
    else:
        how = f"a library keeps its model pack ('clusterids reindex --model X' changes it); {alone}"
    raise UserError(f"the daemon runs this library with its own settings, so {' '.join(given)} would not reach it",
                    how)


def command(ctx: click.Context, words: str) -> str:
    """How the user types the command ``words`` for this library (``--library`` as they gave it)."""
    return usage.command_line(ctx.find_root().obj or {}, words)


class _Id(click.ParamType):
    """An id: ASCII digits only (``int()`` would take "١٢" for 12)."""

    name = "ID"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if not (text.isascii() and text.isdigit()):
            self.fail(f"{value!r} is not an id (digits 0-9)", param, ctx)
        return int(text)


ID = _Id()
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
