"""What every command shares: settings, the client, output, and how errors end a command."""

from __future__ import annotations

import json
import math
import os
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, NoReturn, TypeVar

import attrs
import click
from rich.console import Console
from rich.table import Table

from .._cli import error_line
from .._client import MsgFlash
from .._errors import ConfigurationError, InvalidInputError
from .._models import ContactGroup
from .._signals import run_until_signalled

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "PLAIN_EVERY",
    "App",
    "cell_text",
    "Interrupted",
    "Settings",
    "every",
    "fail",
    "find_group",
    "json_option",
    "note",
    "print_json",
    "run_async",
    "show_list",
    "show_record",
    "show_table",
    "stderr_console",
]

T = TypeVar("T")

EXIT_FAILED = 1
"""An API or file error, or rows that were not imported."""
EXIT_USAGE = 2
"""A bad option or argument, an unreadable input file, or a configuration that cannot work."""
EXIT_INTERRUPTED = 130
"""Ctrl-C, as shells report a process ended by SIGINT (128 + 2)."""
PLAIN_EVERY = 5.0
"""Seconds between two progress lines when stderr is not a terminal."""


@attrs.frozen
class Settings:
    """The global options, shared by every command through click's context."""

    base_url: str | None
    rate_limit: int | None
    """Requests per second for the key; None when pacing is off."""
    poll_interval: float
    """Seconds between two polls of a bulk job."""

    def client(self) -> MsgFlash:
        """A client of the configured server; the key comes from ``MSGFLASH_API_KEY``."""
        return MsgFlash(
            base_url=self.base_url,
            rate_limit=self.rate_limit,
            job_poll_interval=self.poll_interval,
        )

    def call(self, work: Callable[[MsgFlash], Awaitable[T]], *, hint: str | None = None) -> T:
        """Run ``work`` with a client that is closed after it (see ``run_async``)."""

        async def with_client() -> T:
            async with self.client() as client:
                return await work(client)

        return run_async(with_client, hint=hint)


class Interrupted(Exception):
    """Ctrl-C during a command; ``hint`` says how to pick up where it stopped."""

    def __init__(self, hint: str | None = None) -> None:
        super().__init__(hint)
        self.hint = hint


def run_async(work: Callable[[], Awaitable[T]], *, hint: str | None = None) -> T:
    """Run ``work()`` to its end; Ctrl-C cancels it, then becomes ``Interrupted`` with ``hint``."""
    try:
        return run_until_signalled(work)
    except KeyboardInterrupt:
        raise Interrupted(hint) from None


def _exit_status(error: Exception) -> int:
    """Usage for what the person typed or configured, failure for everything else."""
    usage = isinstance(error, (ConfigurationError, InvalidInputError))
    return EXIT_USAGE if usage else EXIT_FAILED


class App(click.Group):
    """The top-level group: turns every error of a command into one line and an exit status.

    ``Error: <Class>: <message> (request_id=...)`` on stderr, without a traceback unless
    ``MSGFLASH_DEBUG=1``; Ctrl-C ends with ``Interrupted.`` and how to resume.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, BrokenPipeError):
            raise  # click reports these itself (a reader such as head that stopped: quietly)
        except (Interrupted, KeyboardInterrupt) as exc:
            hint = exc.hint if isinstance(exc, Interrupted) else None
            note("Interrupted." + (f" {hint}" if hint else ""))
            ctx.exit(EXIT_INTERRUPTED)
        except Exception as exc:
            if os.environ.get("MSGFLASH_DEBUG") == "1":
                traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
            note(error_line(exc))
            ctx.exit(_exit_status(exc))


def every(seconds: float) -> Callable[[], bool]:
    """A test that is true at its first call, then when ``seconds`` have passed since it was
    last true: plain progress lines, at most one every few seconds."""
    last = -math.inf

    def due() -> bool:
        nonlocal last
        now = time.monotonic()
        if now - last < seconds:
            return False
        last = now
        return True

    return due


def fail(message: str, status: int = EXIT_FAILED) -> NoReturn:
    """End the command with ``Error: message`` on stderr and ``status``."""
    note(f"Error: {message}")
    raise click.exceptions.Exit(status)


json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print JSON on stdout (and nothing else there)."
)


def note(message: str) -> None:
    """A line for the person, not the data: stderr."""
    click.echo(message, err=True)


def stderr_console() -> Console:
    """Where progress goes; its ``is_terminal`` chooses bars or plain lines."""
    return Console(stderr=True)


def print_json(data: Any) -> None:
    """``data`` as one JSON document on stdout."""
    click.echo(json.dumps(data, ensure_ascii=False))


def cell_text(value: Any) -> str:
    """A value as a table or CSV cell: JSON for lists and objects, empty for None."""
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def show_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str = "") -> None:
    """Rows on stdout: a rich table on a terminal, else tab-separated lines under a header."""
    console = Console()
    if console.is_terminal:
        table = Table(*columns, title=title or None)
        for row in rows:
            table.add_row(*(cell_text(value) for value in row))
        console.print(table)
        return
    for line in (columns, *rows):
        click.echo("\t".join(cell_text(value) for value in line))


def show_list(records: Sequence[Mapping[str, Any]], as_json: bool, columns: Sequence[str]) -> None:
    """Objects on stdout: a JSON array of them whole, or a table of some of their fields."""
    if as_json:
        print_json(list(records))
    else:
        show_table(columns, [[record[column] for column in columns] for record in records])


def show_record(record: Mapping[str, Any], as_json: bool, *, title: str) -> None:
    """One object on stdout: JSON, or a field per line."""
    if as_json:
        print_json(record)
    else:
        show_table(("field", "value"), list(record.items()), title=title)


async def find_group(client: MsgFlash, name: str) -> ContactGroup | None:
    """The group named ``name`` (names are unique ignoring case), if there is one."""
    async for group in client.groups.list(search=name):
        if group.name.casefold() == name.casefold():
            return group
    return None
