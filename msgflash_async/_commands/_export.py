"""``msgflash export members GROUP | contacts``: a list to NDJSON or CSV, resumable."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import IO, Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .._client import MsgFlash
from .._errors import InvalidInputError, NotFoundError
from .._exporting import ExportCallback, ExportProgress, ExportReport
from ._shell import PLAIN_EVERY, Settings, every, fail, find_group, note, stderr_console

__all__ = ["export"]

Exporter = Callable[
    [MsgFlash, "Path | IO[Any]", ExportCallback, dict[str, Any]], Awaitable[ExportReport]
]
"""One kind of export: with a client, to an output, reporting progress, with the options."""


@click.group()
def export() -> None:
    """Stream a group's members or all contacts to NDJSON or CSV, resumably."""


_OPTIONS = (
    click.option(
        "--format",
        "format_",
        type=click.Choice(["ndjson", "csv"]),
        help="Default: csv for an --output ending .csv, else ndjson.",
    ),
    click.option(
        "--output",
        "-o",
        type=click.Path(dir_okay=False, path_type=Path),
        help="The file to write; default: stdout.",
    ),
    click.option(
        "--state",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Where the export records how far it got, after each page: the same command "
        "with the same --state resumes there, after Ctrl-C or a crash.",
    ),
    click.option("--search", help="Only the contacts whose name or phone holds this."),
    click.option("--by-alias", is_flag=True, help="The API's camelCase keys."),
)


def _with_options(command: Callable[..., None]) -> Callable[..., None]:
    """``command`` taking the options every export takes."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


def _resume_hint(output: Path | None, state: Path | None) -> str:
    if state is None:
        return "Without --state an export cannot resume: give one to make it resumable."
    if output is None:
        return (
            f"{state} records how far it got: run the same command again, appending (>>) to "
            "the output so far, to resume."
        )
    return f"{state} records how far it got: run the same command again to resume."


@contextlib.contextmanager
def _progress_view(console: Console | None, what: str) -> Iterator[ExportCallback]:
    """A progress callback: a live bar on ``console``, else a line every ``PLAIN_EVERY`` s."""
    if console is not None:
        columns = (
            TextColumn(f"export {what}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console) as bar:
            task = bar.add_task(what, total=None)

            def draw(progress: ExportProgress) -> None:
                bar.update(task, completed=progress.written, total=progress.total)

            yield draw
        return
    due = every(PLAIN_EVERY)

    def line(progress: ExportProgress) -> None:
        if due():
            note(f"exported {progress.written}/{progress.total or '?'} {what}")

    yield line


def _export(
    settings: Settings,
    what: str,
    exporter: Exporter,
    *,
    format_: str | None,
    output: Path | None,
    state: Path | None,
    search: str | None,
    by_alias: bool,
) -> None:
    """Run ``exporter`` with a progress display on stderr; then say what was written."""
    options = {
        "format": format_ or ("csv" if output and output.suffix.lower() == ".csv" else "ndjson"),
        "state_file": state,
        "search": search,
        "by_alias": by_alias,
    }
    target: Path | IO[Any] = sys.stdout.buffer if output is None else output
    # On a terminal a bar, unless the data goes to that terminal too: it would mix with it.
    console = stderr_console()
    live = console.is_terminal and not (output is None and sys.stdout.isatty())

    async def run(client: MsgFlash) -> ExportReport:
        with _progress_view(console if live else None, what) as on_progress:
            return await exporter(client, target, on_progress, options)

    report = settings.call(run, hint=_resume_hint(output, state))
    note(f"Exported {report.written} {what} to {output or 'stdout'} in {report.elapsed:.1f} s.")


@export.command()
@click.argument("group")
@_with_options
@click.pass_obj
def members(settings: Settings, /, group: str, **options: Any) -> None:
    """Write the members of GROUP (its name or id), in the order they joined."""

    async def exporter(
        client: MsgFlash, target: Path | IO[Any], on_progress: ExportCallback, call: dict[str, Any]
    ) -> ExportReport:
        group_id = await _group_id(client, group)
        return await client.groups.export_members(group_id, target, on_progress=on_progress, **call)

    _export(settings, "members", exporter, **options)


@export.command()
@_with_options
@click.pass_obj
def contacts(settings: Settings, /, **options: Any) -> None:
    """Write every contact, newest first."""

    async def exporter(
        client: MsgFlash, target: Path | IO[Any], on_progress: ExportCallback, call: dict[str, Any]
    ) -> ExportReport:
        return await client.contacts.export(target, on_progress=on_progress, **call)

    _export(settings, "contacts", exporter, **options)


async def _group_id(client: MsgFlash, given: str) -> str:
    """The id of the group named ``given``, or whose id it is."""
    group = await find_group(client, given)
    if group is not None:
        return group.id
    try:
        return (await client.groups.get(given)).id
    except (NotFoundError, InvalidInputError):
        fail(f"no group has the name or the id {given!r}")
