"""``msgflash import FILE``: contacts from a CSV or NDJSON file, with progress and rejects."""

from __future__ import annotations

import contextlib
import csv
import json
import math
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import attrs
import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from .._client import MsgFlash
from .._errors import ImportAbortedError, InvalidInputError
from .._importing import ImportProgress, ImportReport, UnreadableRow, validate_contact
from .._rowfiles import ROW_FILE_SUFFIXES, count_rows, read_rows
from ._shell import (
    EXIT_FAILED,
    EXIT_USAGE,
    PLAIN_EVERY,
    Settings,
    cell_text,
    every,
    fail,
    find_group,
    json_option,
    note,
    print_json,
    show_record,
    stderr_console,
)

__all__ = ["import_file"]

Rejected = dict[int, tuple[str | None, str]]
"""The rows not imported: row number -> (field at fault or None, reason)."""


@attrs.frozen
class _Check:
    """What ``--dry-run`` found in a file."""

    rows: int
    valid: int
    """Valid rows with a phone no earlier row gave: the creates a run would send."""
    duplicates: int
    rejected: Rejected


def _row_file(suffix_of: str) -> Callable[[click.Context, click.Parameter, Path | None], Any]:
    """A click callback refusing a path that is not a .csv, .ndjson or .jsonl file."""

    def check(_ctx: click.Context, _param: click.Parameter, path: Path | None) -> Any:
        if path is not None and path.suffix.lower() not in ROW_FILE_SUFFIXES:
            raise click.BadParameter(f"{suffix_of} must end in .csv, .ndjson or .jsonl")
        return path

    return check


def _duration(seconds: float) -> str:
    """``42 s``, ``3 min 20 s``, ``2 h 05 min``."""
    whole = math.ceil(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def _counts(progress: ImportProgress) -> str:
    return (
        f"created {progress.created}, existing {progress.existing}, "
        f"invalid {progress.invalid}, duplicates {progress.duplicates}, failed {progress.failed}"
    )


def _speed(progress: ImportProgress) -> str:
    rate = progress.rows / progress.elapsed if progress.elapsed > 0 else 0.0
    eta = "?" if progress.eta is None else _duration(progress.eta)
    return f"{rate:.1f} rows/s, ETA {eta}"


@contextlib.contextmanager
def _progress_view(console: Console, total: int) -> Iterator[Callable[[ImportProgress], None]]:
    """A progress callback: a live bar on a terminal, else a line every ``PLAIN_EVERY`` s."""
    if console.is_terminal:
        columns = (
            TextColumn("import"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[speed]}"),
            TextColumn("{task.fields[counts]}"),
        )
        with Progress(*columns, console=console) as bar:
            task = bar.add_task("import", total=total, speed="", counts="")

            def draw(progress: ImportProgress) -> None:
                bar.update(
                    task, completed=progress.rows, speed=_speed(progress), counts=_counts(progress)
                )

            yield draw
        return
    due = every(PLAIN_EVERY)

    def line(progress: ImportProgress) -> None:
        if due():
            note(f"imported {progress.rows}/{total} rows, {_speed(progress)}, {_counts(progress)}")

    yield line


def _rejected_by(report: ImportReport) -> Rejected:
    rejected: Rejected = {
        problem.row: (problem.field, problem.reason)
        for problem in (*report.invalid, *report.failed)
    }
    for duplicate in report.duplicates:
        rejected[duplicate.row] = ("phone", _duplicate_reason(duplicate.first_row))
    return rejected


def _duplicate_reason(first_row: int) -> str:
    return f"duplicate: row {first_row} has the same phone (sent once)"


def _check(file: Path) -> _Check:
    """Validate every row as the import would, sending nothing."""
    first_rows: dict[str, int] = {}
    rejected: Rejected = {}
    number = valid = duplicates = 0
    for number, row in enumerate(read_rows(file), start=1):
        if isinstance(row, UnreadableRow):
            rejected[number] = (None, row.reason)
            continue
        try:
            phone = validate_contact(row).phone
        except InvalidInputError as exc:
            rejected[number] = (exc.field, exc.message)
            continue
        first = first_rows.setdefault(phone, number)
        if first == number:
            valid += 1
        else:
            duplicates += 1
            rejected[number] = ("phone", _duplicate_reason(first))
    return _Check(rows=number, valid=valid, duplicates=duplicates, rejected=rejected)


_MARKS = ("row", "field", "reason")
"""The columns a rejects file adds before the row's own values."""


def _write_rejects(file: Path, rejected: Rejected, target: Path) -> None:
    """Each rejected row, with its field, reason and values, in row order: NDJSON lines
    ``{"row", "field", "reason", "values"}`` for a .ndjson/.jsonl target, else CSV whose
    columns after row, field and reason are the rows' own (so the fixed file imports; a
    column of the rows named like one of those three gives way)."""

    def rows() -> Iterator[tuple[int, Mapping[str, Any]]]:
        for number, row in enumerate(read_rows(file), start=1):
            if number in rejected:
                yield number, {} if isinstance(row, UnreadableRow) else row

    with open(target, "w", encoding="utf-8", newline="") as out:
        if target.suffix.lower() != ".csv":
            for number, values in rows():
                field, reason = rejected[number]
                marks = {"row": number, "field": field, "reason": reason}
                out.write(json.dumps({**marks, "values": values}, ensure_ascii=False) + "\n")
            return
        columns = dict.fromkeys(_MARKS)
        for _, values in rows():  # a first pass for the columns: rows need not share keys
            columns.update(dict.fromkeys(values))
        writer = csv.DictWriter(out, list(columns))
        writer.writeheader()
        for number, values in rows():
            field, reason = rejected[number]
            cells = {key: cell_text(value) for key, value in values.items() if key not in _MARKS}
            writer.writerow({**cells, "row": number, "field": field or "", "reason": reason})


def _summary(report: ImportReport, rejects: Path | None) -> dict[str, Any]:
    return {
        "rows": report.rows,
        "created": report.created,
        "existing": len(report.existing),
        "updated": report.updated,
        "invalid": len(report.invalid),
        "duplicates": len(report.duplicates),
        "failed": len(report.failed),
        "resumed": report.resumed,
        "added_to_group": report.added_to_group,
        "already_in_group": report.already_in_group,
        "elapsed": round(report.elapsed, 3),
        "rejects": None if rejects is None else str(rejects),
    }


@click.command("import")
@click.argument(
    "file",
    type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path),
    callback=_row_file("FILE"),
)
@click.option(
    "--group",
    "group_name",
    metavar="NAME",
    help="Add every contact imported or found to this group; created if missing.",
)
@click.option(
    "--on-existing",
    type=click.Choice(["skip", "update", "fail"]),
    default="skip",
    show_default=True,
    help="A phone already on the server: report it, update its name, tags and meta, or count "
    "the row as failed.",
)
@click.option(
    "--checkpoint",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A SQLite file recording each row's outcome: after a crash or Ctrl-C, the same "
    "command skips the rows done, without a request.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Contacts created at the same time (within the rate limit).",
)
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    callback=_row_file("--rejects"),
    help="Where the rows not imported go, with the field and reason: .csv (columns row, "
    "field, reason, then the row's own) or .ndjson. Default: FILE.rejects.csv.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Validate the whole file and tell how long the import would take; send nothing.",
)
@json_option
@click.pass_obj
def import_file(
    settings: Settings,
    file: Path,
    group_name: str | None,
    on_existing: Literal["skip", "update", "fail"],
    checkpoint: Path | None,
    concurrency: int,
    rejects: Path | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Import contacts from FILE: .csv with a header row (name, phone, tags, meta), or .ndjson
    (one JSON object per line).

    Invalid rows are never sent; phones repeated in the file are sent once. Rows not
    imported go to the rejects file. Exits 1 when some rows are invalid or failed.
    """
    try:
        total = count_rows(file)
    except (OSError, InvalidInputError) as exc:
        fail(f"cannot read {file}: {exc}", EXIT_USAGE)
    rejects = rejects or file.with_name(file.name + ".rejects.csv")
    if dry_run:
        _dry_run(settings, file, rejects, group_name, as_json)
        return
    hint = (  # after Ctrl-C, or an error that stopped the import
        f"Rows done are recorded in {checkpoint}: run the same command again to resume."
        if checkpoint
        else "Contacts created so far are kept; to resume without a request for each of "
        "them, import with --checkpoint PATH."
    )

    async def run(client: MsgFlash) -> ImportReport:
        group_id = None
        if group_name is not None:
            group = await find_group(client, group_name)
            if group is None:
                group = await client.groups.create(name=group_name)
                note(f"Created the group {group.name!r} ({group.id}).")
            group_id = group.id
        with _progress_view(stderr_console(), total) as on_progress:
            return await client.contacts.import_many(
                read_rows(file),
                on_existing=on_existing,
                group_id=group_id,
                checkpoint=checkpoint,
                concurrency=concurrency,
                total=total,
                on_progress=on_progress,
            )

    try:
        report = settings.call(run, hint=hint)
    except ImportAbortedError as exc:
        _finish(file, exc.report, rejects, as_json)
        note(hint)
        raise
    if not _finish(file, report, rejects, as_json):
        raise click.exceptions.Exit(EXIT_FAILED)


def _finish(file: Path, report: ImportReport, rejects: Path, as_json: bool) -> bool:
    """Write the rejects and show the summary; whether every row was imported."""
    rejected = _rejected_by(report)
    if rejected:
        _write_rejects(file, rejected, rejects)
        note(f"{len(rejected)} rows not imported, with the reasons: {rejects}")
    show_record(_summary(report, rejects if rejected else None), as_json, title="import")
    return report.ok


def _dry_run(
    settings: Settings, file: Path, rejects: Path, group_name: str | None, as_json: bool
) -> None:
    """Validate ``file`` and estimate the import's time at the client's rate; send nothing."""

    async def rate(client: MsgFlash) -> int | None:  # checks the configuration, sends nothing
        return client.rate_limit

    per_second = settings.call(rate)
    found = _check(file)
    if found.rejected:
        _write_rejects(file, found.rejected, rejects)
    seconds = None if per_second is None else found.valid / per_second
    invalid = len(found.rejected) - found.duplicates
    outcome = {
        "dry_run": True,
        "rows": found.rows,
        "valid": found.valid,
        "invalid": invalid,
        "duplicates": found.duplicates,
        "requests": found.valid,
        "rate_limit": per_second,
        "seconds": seconds,
        "rejects": str(rejects) if found.rejected else None,
    }
    if as_json:
        print_json(outcome)
    else:
        pace = (
            "unpaced, as fast as the server answers"
            if seconds is None
            else f"about {_duration(seconds)} at {per_second} requests/s"
        )
        click.echo(
            f"{found.rows} rows: {found.valid} to send, {invalid} invalid, "
            f"{found.duplicates} duplicate phones. Nothing was sent."
        )
        click.echo(f"Importing would send {found.valid} creates: {pace}.")
        if group_name is not None:
            click.echo(f"Each contact would join the group {group_name!r} (created if missing).")
        if found.rejected:
            click.echo(f"Rows that would not be imported, with the reasons: {rejects}")
    if invalid:
        raise click.exceptions.Exit(EXIT_FAILED)
