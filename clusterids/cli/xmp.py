"""Commands about names in other programs' files (i20): XMP sidecars written, people files
carried between libraries."""

from __future__ import annotations

import os
from typing import Any

import click

from .core import call, cli, json_option
from .people import people_cmd
from .render import emit, plain
from .words import count


@cli.group("xmp")
def xmp_group() -> None:
    """Face names in the photos' XMP, for digiKam, Lightroom, Immich and PhotoPrism."""


@xmp_group.command("write")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--embed", is_flag=True, help="Write into the photos themselves (through exiftool, which keeps "
                                            "each original as PHOTO_original) instead of sidecars.")
@json_option
@click.pass_context
def xmp_write_cmd(ctx: click.Context, paths: tuple[str, ...], embed: bool, as_json: bool) -> None:
    """Write the names of the faces in PATHS (none: every photo with a named face) as MWG regions and
    People tags into each photo's XMP sidecar (photo.jpg.xmp, or photo.xmp where that is the one it
    has), merged with what other programs wrote there. The photos are not changed unless --embed."""
    result = call(ctx, "metadata.write_xmp", paths=[os.path.abspath(p) for p in paths], embed=embed)

    def render(r: dict[str, Any]) -> None:
        for line in r["problems"]:
            click.echo(f"warning: {plain(line)}", err=True)
        where = "photos" if embed else "sidecars"
        click.echo(f"{r['written']} {where} written, {r['unchanged']} already in step")

    emit(result, as_json, render)


@people_cmd.command("export")
@click.argument("file", type=click.Path(dir_okay=False))
@json_option
@click.pass_context
def people_export_cmd(ctx: click.Context, file: str, as_json: bool) -> None:
    """Write every person (name, hidden, cover) and every corrected face (by photo content and box) to
    FILE, JSON, for 'people import' in another library: a new machine, model pack or database."""
    result = call(ctx, "metadata.export_people", file=os.path.abspath(file))
    emit(result, as_json, lambda r: click.echo(
        f"{r['persons']} persons, {r['faces']} faces, {r['rejected']} rejections and "
        f"{count(r['ignored'], 'ignored face')} written to {r['file']}"))


@people_cmd.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@json_option
@click.pass_context
def people_import_cmd(ctx: click.Context, file: str, as_json: bool) -> None:
    """Apply FILE (from 'people export') here as corrections, finding faces by photo content and box
    overlap; says what it could not find. Run it after indexing the same photos."""
    result = call(ctx, "metadata.import_people", file=os.path.abspath(file))

    def render(r: dict[str, Any]) -> None:
        for u in r["unmatched"]:
            click.echo(f"not found: {plain(str(u.get('path') or u.get('face')))}: {u['reason']}", err=True)
        click.echo(f"{r['faces_assigned']} faces assigned, {r['faces_joined']} joined their named person, "
                   f"{r['faces_rejected']} rejected, {r['faces_ignored']} ignored; "
                   f"{r['persons_created']} persons created, {r['persons_matched']} matched by name; "
                   f"{len(r['unmatched'])} not found")

    emit(result, as_json, render)
