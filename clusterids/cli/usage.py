"""How the command line is read beyond click's defaults: a usage error is one line with the
hint (``error: what (where): what to do``, exit status 2), and the options of the group
(``--library``, ``--set``...) may follow the command as well as precede it, as ``--json`` may
precede it (``clusterids people --library L``, ``clusterids --json people``)."""

from __future__ import annotations

import logging
import shlex
from typing import IO, Any

import click

JSON = "--json"


class OneLineUsage(click.UsageError):
    """A usage error said in one line, the hint after it."""

    def __init__(self, message: str, hint: str, ctx: click.Context | None = None) -> None:
        super().__init__(message, ctx)
        self.hint = hint

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.message}: {self.hint}", err=file is None, file=file)


def one_line(exc: click.UsageError, around: click.Context | None = None) -> OneLineUsage:
    """Click's usage error (usage, hint and message on three lines) as one line; ``around`` is
    the group's context, for an error raised without its own (a missing option value)."""
    if isinstance(exc, OneLineUsage):
        return exc
    ctx = exc.ctx
    if ctx is not None:
        where = ctx.command_path
    elif around is not None:
        where = " ".join(filter(None, [around.command_path, around.invoked_subcommand]))
    else:
        where = "clusterids"
    text = " ".join(line.strip() for line in exc.format_message().splitlines() if line.strip())
    text, _, guess = text.partition(" Did you mean ")  # click's own suggestion goes to the hint
    text = text.rstrip(".")
    text = text[:1].lower() + text[1:]
    hint = f"see '{where} --help'"
    if guess:
        hint = f"did you mean {guess.rstrip('?')}? or {hint}"
    return OneLineUsage(f"{text} ({where})", hint, ctx)


def _option_names(command: click.Command) -> set[str]:
    return {name for p in command.params if isinstance(p, click.Option) for name in p.opts + p.secondary_opts}


def hoist(group: click.Group, args: list[str]) -> list[str]:
    """``args`` with the group's options that follow the command moved before it (unless the
    command has an option of that name itself, like ``reindex --model``), and a ``--json``
    given before the command moved after it."""
    takes_value = {n for p in group.params if isinstance(p, click.Option) and not p.is_flag
                   and p.name != "version" for n in p.opts}
    flags = {n for p in group.params if isinstance(p, click.Option) and p.is_flag and p.name != "version"
             for n in p.opts}
    head: list[str] = []
    json_first = False
    i = 0
    while i < len(args) and args[i] != "--" and args[i].startswith("-"):
        if args[i] == JSON:
            json_first = True
        else:
            head.append(args[i])
            if args[i] in takes_value and i + 1 < len(args):
                i += 1
                head.append(args[i])
        i += 1
    rest = args[i:]
    if not rest or rest[0] == "--":
        return head + ([JSON] if json_first else []) + rest
    chain, own = [rest[0]], set()
    command: click.Command | None = group.commands.get(rest[0])
    k = 1
    while command is not None:
        own |= _option_names(command)
        if not isinstance(command, click.Group) or k >= len(rest) or rest[k] not in command.commands:
            break
        command = command.commands[rest[k]]
        chain.append(rest[k])
        k += 1
    moved: list[str] = []
    tail: list[str] = []
    tokens = rest[k:]
    j = 0
    while j < len(tokens):
        token = tokens[j]
        if token == "--":
            tail += tokens[j:]
            break
        name = token.split("=", 1)[0]
        if name not in own and (token in flags or (name in takes_value and "=" in token)):
            moved.append(token)
        elif token in takes_value and token not in own and j + 1 < len(tokens):
            moved += tokens[j: j + 2]
            j += 1
        else:
            tail.append(token)
        j += 1
    return head + moved + chain + ([JSON] if json_first else []) + tail


def command_line(obj: dict[str, Any], words: str) -> str:
    """A command as this user would type it for this library: with ``--library`` when they
    named the library by that flag (an environment variable is theirs already)."""
    library = (obj.get("flags") or {}).get("library")
    return "clusterids " + (f"--library {shlex.quote(str(library))} " if library else "") + words


NOTICES = "clusterids.models"  # the loggers whose lines a person waiting on a command should see


class EchoNotices(logging.Handler):
    """Lines the lower parts log for the user while a command runs (the model pack being
    downloaded), printed on stderr as they come."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(record.getMessage(), err=True)


def echo_notices(on: bool = True) -> None:
    """Print the notices on stderr (``on``), or leave them to the logging set up by the process
    (the daemon's log: 'watch' turns the echo off)."""
    logger = logging.getLogger(NOTICES)
    for handler in [h for h in logger.handlers if isinstance(h, EchoNotices)]:
        logger.removeHandler(handler)
    if on:
        logger.addHandler(EchoNotices(logging.INFO))
    logger.setLevel(logging.INFO)
