"""Commands about people: recluster, corrections, suggestions and the questions."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import click

from ..errors import UserError
from . import words
from .core import ID, call, cli, json_option, read
from .render import emit, plain, table
from .words import count, listed


@cli.command("recluster")
@click.option("--dry-run", is_flag=True, help="Print what would change; apply nothing.")
@click.option("--from-scratch", is_flag=True, help="Recompute the neighbour graph from the stored vectors.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def recluster_cmd(ctx: click.Context, dry_run: bool, from_scratch: bool, as_json: bool) -> None:
    """Group faces into persons (DBSCAN, cosine), keeping every correction."""
    result = call(ctx, "people.recluster", dry_run=dry_run, from_scratch=from_scratch)

    def render(r: dict[str, Any]) -> None:
        verb = "would change" if dry_run else "changed"
        click.echo(f"{count(r['clusters'], 'cluster')} over {count(r['faces'], 'face')} (eps {r['eps']:g}, "
                   f"min_samples {r['min_samples']}); {count(r['unknown'], 'face')} unknown")
        click.echo(f"{verb}: {count(r['new'], 'new person')}, {len(r['removed'])} removed, "
                   f"{len(r['merged'])} merged, {len(r['split'])} split, {count(r['faces_moved'], 'face')} moved")
        for m in r["merged"]:
            click.echo(f"  merged: person {m['person']} into {plain(m['into'])}")
        for sp in r["split"]:
            click.echo(f"  split: person {sp['person']} into {listed([plain(x) for x in sp['into']])}")

    emit(result, as_json, render)


def _correction(ctx: click.Context, op: str, as_json: bool, message: Callable[[dict[str, Any]], str], /,
                **kwargs: Any) -> None:
    result = call(ctx, f"people.{op}", **kwargs)
    emit(result, as_json, lambda r: click.echo(message(r)))


@cli.command("assign")
@click.argument("args", nargs=-1, required=True, metavar="[FACE] PERSON")
@click.option("--faces", "faces", multiple=True, type=ID, help="A face id to assign (repeatable): one correction.")
@json_option
@click.pass_context
def assign_cmd(ctx: click.Context, args: tuple[str, ...], faces: tuple[int, ...], as_json: bool) -> None:
    """FACE (or every --faces) belongs to PERSON (an id or exact name) from now on, as one correction
    that one 'undo' reverts. A name no person has creates that person."""
    if len(args) > 2 or (len(args) == 1 and not faces):
        raise UserError("assign takes FACE PERSON, or --faces ID... PERSON", "see 'clusterids assign --help'")
    if len(args) == 2 and not (args[0].isascii() and args[0].isdigit()):
        raise UserError(f"the face {args[0]!r} is not a face id", "see 'clusterids faces' for face ids")
    ids = ([int(args[0])] if len(args) == 2 else []) + list(faces)

    def render(r: dict[str, Any]) -> None:
        who = f"person {r['person']}" + (f" ({plain(r['name'])})" if r.get("name") else "")
        if r.get("created"):
            click.echo(f"created {who}")
        n = len(r["faces"])
        click.echo(f"face {r['faces'][0]} is {who}" if n == 1 else f"{count(n, 'face')} are {who}")
        for w in r.get("warnings", []):
            click.echo(f"warning: {plain(w)}", err=True)

    emit(call(ctx, "people.assign", person=args[-1], face_ids=ids), as_json, render)


@cli.command("reject")
@click.argument("face", type=ID)
@click.argument("person")
@json_option
@click.pass_context
def reject_cmd(ctx: click.Context, face: int, person: str, as_json: bool) -> None:
    """FACE is not PERSON: it never goes to that person again."""
    _correction(ctx, "reject", as_json, lambda r: f"face {r['face']} is not {plain(r['label'])}; it will not "
                "be put with them again", face_ids=[face], person=person)


@cli.command("ignore")
@click.argument("faces", nargs=-1, required=True, type=int, metavar="FACE...")
@click.option("--not-a-face", is_flag=True, help="The detection is no face at all (hair, a pattern, a blur).")
@json_option
@click.pass_context
def ignore_cmd(ctx: click.Context, faces: tuple[int, ...], not_a_face: bool, as_json: bool) -> None:
    """Put FACE... aside (strangers, a crowd): out of the unknown faces and of any person, never
    suggested again; one correction that 'undo' reverts ('unignore' takes them back)."""

    def said(r: dict[str, Any]) -> str:
        what = "not a face" if r["reason"] == "not_a_face" else "ignored"
        left = f"; {listed([plain(x) for x in r['labels']])} lost {'it' if len(r['faces']) == 1 else 'them'}" \
            if r["labels"] else ""
        return f"{words.faces_phrase(r['faces'])} {'is' if len(r['faces']) == 1 else 'are'} {what}{left}"

    _correction(ctx, "ignore", as_json, said, face_ids=list(faces), not_a_face=not_a_face)


@cli.command("unignore")
@click.argument("faces", nargs=-1, required=True, type=int, metavar="FACE...")
@json_option
@click.pass_context
def unignore_cmd(ctx: click.Context, faces: tuple[int, ...], as_json: bool) -> None:
    """Take ignored FACE... back: unknown faces again (see 'clusterids faces --ignored')."""
    _correction(ctx, "unignore", as_json, lambda r: f"{words.faces_phrase(r['faces'])} "
                f"{'is' if len(r['faces']) == 1 else 'are'} unknown again", face_ids=list(faces))


@cli.command("mark-face", context_settings={"ignore_unknown_options": True})  # a box may begin "-3,"
@click.argument("photo")
@click.argument("box", metavar="X1,Y1,X2,Y2")
@click.argument("person", required=False)
@json_option
@click.pass_context
def mark_face_cmd(ctx: click.Context, photo: str, box: str, person: str | None, as_json: bool) -> None:
    """Mark a face the detector missed: the box X1,Y1,X2,Y2 (pixels of PHOTO as shown, an id or
    path) becomes a face, PERSON's when given (a new name creates that person); one correction
    that 'undo' takes back."""
    try:
        corners = [float(v) for v in box.replace(" ", "").split(",")]
    except ValueError:
        raise UserError(f"the box {box!r} is not four numbers", "write it like 120,80,260,240 (x1,y1,x2,y2)") from None

    def said(r: dict[str, Any]) -> str:
        who = f"person {r['person']} ({plain(r['label'])})" if r.get("person") is not None else "an unknown face"
        made = f"; created person {r['person']}" if r.get("created") else \
            ", who it looks like (undo takes it back)" if r.get("placed") else ""
        how = "" if r.get("found") else " (no eyes or mouth were found in the box: check that it holds a face)"
        return f"face {r['face']} marked in photo {r['photo']}: {who}{made}{how}"

    if not (photo.isascii() and photo.isdigit()):  # a path: this shell's, not the daemon's working folder
        photo = os.path.abspath(photo)
    def render(r: dict[str, Any]) -> None:
        click.echo(said(r))
        for w in r.get("warnings", []):
            click.echo(f"warning: {plain(w)}", err=True)

    emit(call(ctx, "people.mark_face", photo=photo, box=corners, person=person), as_json, render)


@cli.command("merge")
@click.argument("persons", nargs=-1, required=True)
@click.option("--name", help="The name to keep when the persons have different names.")
@json_option
@click.pass_context
def merge_cmd(ctx: click.Context, persons: tuple[str, ...], name: str | None, as_json: bool) -> None:
    """Make PERSONS one person from now on, keeping the first one's id and the one name among them."""
    def said(r: dict[str, Any]) -> str:
        kept, now = plain(r.get("kept_label") or r["label"]), plain(r["label"])
        return (f"{listed([plain(x) for x in r['merged_labels']])} merged into {kept}"
                + (f", who is called {now} from now on" if now != kept else ""))

    _correction(ctx, "merge", as_json, said, persons=list(persons), name=name)


@cli.command("suggest")
@click.option("--person", help="The unknown faces that may be this person (id or name); without it, the "
              "unknown faces that may be someone.")
@click.option("--limit", default=20, show_default=True, help="At most this many of each kind.")
@json_option
@click.pass_context
def suggest_cmd(ctx: click.Context, person: str | None, limit: int, as_json: bool) -> None:
    """Questions likely to be answered yes: persons that may be one, unknown faces that may be someone."""

    def render(r: dict[str, Any]) -> None:
        for m in r["merges"]:
            a, b = (f"{plain(n)} (person {i})" for i, n in zip(m["persons"], m["labels"], strict=True))
            click.echo(f"same person? {a} and {b}: {m['likelihood']} (similarity {m['similarity']:.2f})")
        for f in r["faces"]:
            click.echo(f"is face {f['face']} {plain(f['label'])} (person {f['person']})? {f['likelihood']} "
                       f"(similarity {f['similarity']:.2f})")
        if not r["merges"] and not r["faces"]:
            click.echo("nothing to ask for now: no suggestion is likely enough to be right")

    emit(call(ctx, "people.suggest", person=person, limit=limit), as_json, render)


@cli.command("split")
@click.argument("person")
@click.option("--faces", "faces", multiple=True, type=ID, help="A face id to move (repeatable).")
@click.option("--photos", "photos", multiple=True, type=click.Path(), help="A photo whose faces of PERSON move.")
@json_option
@click.pass_context
def split_cmd(ctx: click.Context, person: str, faces: tuple[int, ...], photos: tuple[str, ...], as_json: bool) -> None:
    """Move some faces of PERSON to a new person; they never rejoin PERSON."""
    _correction(ctx, "split", as_json, lambda r: f"{count(len(r['faces']), 'face')} of {plain(r['label'])} "
                f"split off into a new person, {plain(r['new_label'])}", person=person, face_ids=list(faces),
                photos=[os.path.abspath(p) for p in photos])


@cli.command("rename")
@click.argument("person")
@click.argument("name")
@json_option
@click.pass_context
def rename_cmd(ctx: click.Context, person: str, name: str, as_json: bool) -> None:
    """Name PERSON (renames its album folder); an empty NAME ("") removes the name."""
    _correction(ctx, "rename", as_json, lambda r: f"person {r['person']} is called {plain(r['name'])} from now on"
                if r["name"] else f"person {r['person']} has no name now (shown as {plain(r['label'])})",
                person=person, name=name)


@cli.command("born")
@click.argument("person")
@click.argument("date")
@json_option
@click.pass_context
def born_cmd(ctx: click.Context, person: str, date: str, as_json: bool) -> None:
    """PERSON was born on DATE (YYYY-MM-DD; "" removes it): their faces in photos taken before it
    leave them and never come back, unless you gave them by hand (a parent's childhood photo is
    not their child's)."""

    def said(r: dict[str, Any]) -> str:
        who = plain(r["label"])
        if not r["born"]:
            return f"{who} has no birth date now"
        left = f"; {count(len(r['left']), 'face')} from photos taken before it left them" if r["left"] else ""
        kept = f"; {count(len(r['pinned_before']), 'face')} before it kept (given by hand)" \
            if r["pinned_before"] else ""
        return f"{who} was born on {r['born']}{left}{kept}"

    _correction(ctx, "born", as_json, said, person=person, date=date)


def _person_command(name: str, doc: str, message: Callable[[dict[str, Any]], str]) -> None:
    """hide and unhide: PERSON, one correction each."""

    @cli.command(name, help=doc)
    @click.argument("person")
    @json_option
    @click.pass_context
    def command(ctx: click.Context, person: str, as_json: bool) -> None:
        _correction(ctx, name, as_json, message, person=person)


_person_command("hide", "Hide PERSON from the list and the albums.",
                lambda r: f"{plain(r['label'])} is hidden (see 'clusterids people --all')")
_person_command("unhide", "Show a hidden PERSON again.", lambda r: f"{plain(r['label'])} is shown again")


@cli.command("undo")
@json_option
@click.pass_context
def undo_cmd(ctx: click.Context, as_json: bool) -> None:
    """Revert the last correction (see 'clusterids history')."""

    def said(r: dict[str, Any]) -> str:
        c = r.get("correction")
        return f"undone: {words.correction(c) if c else plain(r['undone'])}"

    _correction(ctx, "undo", as_json, said)


@cli.command("history")
@click.option("--limit", default=10, show_default=True, help="At most this many corrections.")
@json_option
@click.pass_context
def history_cmd(ctx: click.Context, limit: int, as_json: bool) -> None:
    """The last corrections, newest first: 'clusterids undo' reverts the first one."""

    def render(rows: list[dict[str, Any]]) -> None:
        if not rows:
            click.echo("no corrections yet")
            return
        click.echo("newest first; 'clusterids undo' reverts the first")
        for c in rows:
            click.echo(f"{words.when(c['at'])}: {words.correction(c)}")

    emit(call(ctx, "people.history", limit=limit), as_json, render)


@cli.group("people", invoke_without_command=True)
@click.option("--all", "include_hidden", is_flag=True, help="Include hidden and empty persons.")
@json_option
@click.pass_context
def people_cmd(ctx: click.Context, include_hidden: bool, as_json: bool) -> None:
    """List persons: id, name, faces, photos, hidden. 'people export FILE' and 'people import
    FILE' carry them to another library (cli/xmp.py)."""
    if ctx.invoked_subcommand is not None:  # i20: export and import are its subcommands
        return
    rows = read(ctx, "people.persons", include_hidden=include_hidden)

    def render(r: list[dict[str, Any]]) -> None:
        if not r:
            click.echo("no persons yet: run 'clusterids recluster'" if not include_hidden else "no persons yet")
            return
        shown = [p | {"hidden": "hidden" if p["hidden"] else ""} for p in r]
        table(shown, ["id", "name", "faces", "photos"] + (["hidden"] if include_hidden else []))

    emit(rows, as_json, render)


@cli.command("faces")
@click.option("--person", help="Only this person's faces (id or exact name).")
@click.option("--unknown", is_flag=True, help="Only faces in no person (the ignored ones aside).")
@click.option("--ignored", is_flag=True, help="Only the faces put aside with 'clusterids ignore'.")
@json_option
@click.pass_context
def faces_cmd(ctx: click.Context, person: str | None, unknown: bool, ignored: bool, as_json: bool) -> None:
    """List faces: id, photo, box, detection score, person."""
    rows = read(ctx, "people.faces", person=person, unknown=unknown, ignored=ignored)

    def render(r: list[dict[str, Any]]) -> None:
        shown = [f | {"bbox": words.box(f["bbox"]), "person": _whose(f), "det_score": f"{f['det_score']:.2f}"}
                 for f in r]
        table(shown, ["id", "person", "det_score", "bbox", "photo"])

    emit(rows, as_json, render)


def _whose(face: dict[str, Any]) -> str:
    if face.get("ignored"):
        return "not a face" if face["ignored"] == "not_a_face" else "ignored"
    return str(face["person"]) if face["person"] is not None else "unknown"


@cli.command("photos")
@click.option("--person", "persons", multiple=True, required=True, help="A person (repeatable).")
@click.option("--any", "any_of", is_flag=True, help="Photos showing any of them, not all.")
@json_option
@click.pass_context
def photos_cmd(ctx: click.Context, persons: tuple[str, ...], any_of: bool, as_json: bool) -> None:
    """Paths of the photos showing all the persons given (or any of them)."""
    paths = read(ctx, "photos.showing", persons=list(persons), any_of=any_of)

    def render(rows: list[str]) -> None:
        if rows:  # one path a line: a newline or a control character in a name is shown as its code
            click.echo("\n".join(plain(r) for r in rows))
            return
        who = [f"person {p}" if p.strip().isdigit() else plain(p.strip()) for p in persons]
        if len(who) == 1:
            said = f"no photo shows {who[0]}"
        else:
            said = f"no photo shows {listed(who, 'or')}" if any_of else f"no photo shows {listed(who)} together"
        click.echo(said, err=True)  # stdout stays a list of paths, for scripts

    emit(paths, as_json, render)


@cli.command("search")
@click.argument("photo", type=click.Path())
@json_option
@click.pass_context
def search_cmd(ctx: click.Context, photo: str, as_json: bool) -> None:
    """Who is in PHOTO (which need not be in the library): per face, persons best first."""
    result = call(ctx, "photos.search", photo=os.path.abspath(photo))

    def render(rows: list[dict[str, Any]]) -> None:
        if not rows:
            click.echo("no face found")
        for r in rows:
            box = words.box(r["bbox"])
            who = "; ".join(f"{plain(m['label'])} (similarity {m['similarity']:.2f})"
                            for m in r["matches"]) or "nobody known"
            click.echo(f"face at {box}: {who}")

    emit(result, as_json, render)
