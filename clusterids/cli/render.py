"""Rendering in one place: JSON, tables, progress, and text made safe for a terminal."""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ..config import Settings


def emit(result: Any, as_json: bool, render: Callable[[Any], None]) -> None:
    """Print a result: as JSON, or by ``render`` from the same plain data."""
    if isinstance(result, list | dict | str | int | float | bool) and not _holds_dataclass(result):
        data = result  # plain already (cli/quick.py): the results' module need not be imported
    else:
        from ..core.results import plain as plain_data

        data = plain_data(result)
    if as_json:
        click.echo(json.dumps(data, indent=None, sort_keys=False, default=str))
    else:
        render(data)


def _holds_dataclass(value: Any) -> bool:
    return isinstance(value, list) and any(dataclasses.is_dataclass(v) for v in value)


def table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    if not rows:
        click.echo("(none)")
        return
    widths = {c: max(len(c), *(len(cell(r.get(c))) for r in rows)) for c in columns}
    click.echo("  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip())
    for r in rows:
        click.echo("  ".join(cell(r.get(c)).ljust(widths[c]) for c in columns).rstrip())


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):  # before int: a bool is one
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list):
        return ",".join(cell(v) for v in value)
    return plain(str(value))


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def plain(text: str) -> str:
    """Text as printed to a terminal: control characters (ANSI escapes among them) shown as
    their code, so a name can neither move the cursor nor recolour the screen."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


@contextmanager
def progress_bar(settings: Settings) -> Iterator[tuple[Callable[[int, int], None], Callable[[int], None]]]:
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


def print_index(r: dict[str, Any]) -> None:
    from .words import count

    for f in r.get("failures", []):
        click.echo(f"failed: {plain(f['path'])}: {plain(f['reason'])}", err=True)
    if r.get("failures"):  # what to do, once: the files are read again as soon as they change
        click.echo(f"{count(len(r['failures']), 'photo')} could not be read: copy or export "
                   f"{'it' if len(r['failures']) == 1 else 'them'} again, or remove "
                   f"{'it' if len(r['failures']) == 1 else 'them'} (a photo read before keeps its faces "
                   "meanwhile); 'clusterids status --failed' lists them", err=True)
    for w in r.get("warnings", []):  # i20: a damaged sidecar, a missing XMP library
        click.echo(f"warning: {plain(w['reason'])}", err=True)
    names = r.get("names") or {}
    for skipped in names.get("names_skipped", []):
        click.echo(f"name not used: {skipped['path']}: {plain(repr(skipped['name']))}: {skipped['reason']}", err=True)
    if names.get("faces_named"):
        click.echo(f"{count(names['faces_named'], 'face')} named from the photos' metadata "
                   f"({names.get('faces_from_metadata', 0)} of them the detector had missed)")
    seen = r["photos_new"] + r["photos_changed"] + r["photos_unchanged"] + r["photos_reused"] + r["photos_failed"]
    parts = [f"{r[k]} {word}" for k, word in (("photos_new", "new"), ("photos_changed", "changed"),
                                              ("photos_unchanged", "unchanged"), ("photos_reused", "copies or moves"),
                                              ("photos_removed", "removed"), ("photos_failed", "failed"),
                                              ("photos_queued", "queued for workers")) if r.get(k)]
    click.echo(f"{count(seen, 'photo')} ({', '.join(parts) or 'none found'}); "
               f"{count(r['faces_added'], 'face')} added in {r['seconds']:.1f} s")
