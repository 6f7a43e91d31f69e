"""Commands that run as processes: the daemon, an indexing worker, the web page."""

from __future__ import annotations

from typing import Any

import click

from .core import cli, command, settings_of
from .render import emit
from .usage import echo_notices
from .words import count


@cli.command("worker")
@click.option("--once", is_flag=True, help="Stop when nothing is left to claim (default: wait for more).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the counts at the end.")
@click.pass_context
def worker_cmd(ctx: click.Context, once: bool, as_json: bool) -> None:
    """Run the models for a library on a database server: claim queued photos, store their faces.
    Start any number, on any machines (same database_url, vector_store_url, models; path_map
    where the photos are mounted elsewhere). Stop with Ctrl-C or SIGTERM."""
    import signal

    from ..daemon import worker

    stopping: list[int] = []

    def stop(signum: int, _frame: Any) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    report = worker.run(settings_of(ctx), should_stop=lambda: bool(stopping), once=once,
                        on_notice=lambda line: click.echo(line, err=True))
    emit(vars(report), as_json, lambda r: click.echo(
        f"worker {r['worker']} ({','.join(r['providers'])}): {count(r['photos'], 'photo')}, "
        f"{count(r['faces'], 'face')}, {r['failed']} failed, {r['lost']} taken over, in {r['seconds']:.1f} s"))


@cli.command("watch")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, file_okay=False))
@click.option("--started-by", type=click.Choice(["watch", "ui"]), default="watch", hidden=True)
@click.pass_context
def watch_cmd(ctx: click.Context, paths: tuple[str, ...], started_by: str) -> None:
    """Run the daemon in the foreground: follow PATHS (default: the library's folders), keep
    people and albums current, serve the CLI over a local API. Stop with Ctrl-C, SIGTERM or
    'clusterids stop'."""
    from ..daemon.daemon import watch

    echo_notices(False)  # the daemon's log prints them
    watch(settings_of(ctx), list(paths), started_by)


@cli.command("ui")
@click.option("--no-browser", is_flag=True, help="Print the login link; do not open a browser.")
@click.pass_context
def ui_cmd(ctx: click.Context, no_browser: bool) -> None:
    """Open the web page (starting the daemon if needed) with a one-time login link."""
    import webbrowser

    from ..daemon.client import ensure_daemon

    settings = settings_of(ctx)
    remote = ensure_daemon(settings)
    url = f"{remote.base_url}/login?code={remote.login_code()}"
    said = "started a daemon for this library" if remote.started else "a daemon runs this library already"
    click.echo(f"{said} (pid {remote.pid}, its log: {settings.library / 'daemon.log'}); it keeps people and "
               f"albums current until you stop it with '{command(ctx, 'stop')}'", err=True)
    click.echo(url)  # alone on stdout, for scripts
    if not no_browser:
        webbrowser.open(url)


@cli.command("stop")
@click.option("--wait", default=120.0, show_default=True, help="Seconds to wait for it to finish the work in hand.")
@click.pass_context
def stop_cmd(ctx: click.Context, wait: float) -> None:
    """Stop the library's daemon cleanly (SIGTERM), waiting until it is gone."""
    from ..daemon.client import stop_daemon

    settings = settings_of(ctx)
    state = stop_daemon(settings, wait)
    if state is None:
        click.echo(f"no daemon runs on this library ({settings.library})")
        return
    again = state.get("restart") or command(ctx, "ui")
    click.echo(f"stopped the daemon (pid {state.get('pid')}); '{again}' starts it again")
