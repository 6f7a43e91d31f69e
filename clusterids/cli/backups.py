"""Commands about copies of the library database: backup, restore (i22)."""

from __future__ import annotations

from typing import Any

import click

from .core import call, cli, json_option
from .render import emit, plain
from .words import count


@cli.command("backup")
@json_option
@click.pass_context
def backup_cmd(ctx: click.Context, as_json: bool) -> None:
    """Copy the library database into the library's backups/ folder now (the newest few are kept)."""
    result = call(ctx, "backups.backup")

    def render(r: dict[str, Any]) -> None:
        if r["path"] is None:
            click.echo(f"no copy: {plain(r['reason'])}")
        else:
            click.echo(f"copied to {plain(r['path'])} ({count(r['photos'], 'photo')}, "
                       f"{count(r['people'], 'person', 'people')})")

    emit(result, as_json, render)


@cli.command("restore")
@click.argument("copy", required=False)
@json_option
@click.pass_context
def restore_cmd(ctx: click.Context, copy: str | None, as_json: bool) -> None:
    """Put a copy of the library database back (COPY: a file in backups/ or a path; the newest by
    default), keeping the one it replaces; then index the photos again and replay the corrections
    made since the copy. The daemon must be stopped."""
    result = call(ctx, "backups.restore", **({"source": copy} if copy else {}))

    def render(r: dict[str, Any]) -> None:
        click.echo(f"restored {plain(r['copy'])} ({plain(r['held'])})")
        if r["moved_aside"]:
            click.echo(f"kept the database it replaced as {plain(r['moved_aside'])}")
        click.echo(f"{count(r['photos_indexed'], 'photo')} indexed again from the folders, "
                   f"{count(r['corrections_replayed'], 'correction')} replayed; "
                   f"{count(r['photos'], 'photo')} in the library")
        for line in r["corrections_skipped"]:
            click.echo(f"skipped: {plain(line)}")
        for line in r.get("warnings", []):
            click.echo(f"warning: {plain(line)}", err=True)

    emit(result, as_json, render)
