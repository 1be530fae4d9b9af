"""Streaming a contact list to NDJSON or CSV, one page in memory, resumable after a crash.

An export walks a cursor list page by page. Each page's lines are written and flushed (and
synced to disk, for a file the export opened itself) before the state file, when there is
one, is replaced atomically (a temporary file, then ``os.replace``) with where the walk
stands::

    {"cursor": "…", "offset": 48213, "written": 300, "done": false,
     "source": "contacts", "format": "csv", "search": null, "by_alias": false}

``cursor`` is the next page's, ``offset`` the bytes the output holds, ``written`` the items
in it. A re-run with the same state file cuts the output back to ``offset`` (dropping the
lines of a page that a crash interrupted) and goes on from ``cursor``: each item is written
once, however the run before ended. A state that says ``done`` needs no request. When the
output is a stream (``sys.stdout``), only the cursor is used. The state also names what was
exported: resuming it for another list, format, search or key form is refused.

NDJSON lines are ``to_dict(by_alias=...)`` of each item. CSV has a header row and the columns
id, name, phone, tags, meta, created_at, updated_at (and added_at for group members; camelCase
with ``by_alias``), tags and meta as JSON text, empty cells for ``None``: ``read_rows`` reads
both back as the rows an import takes.
"""

from __future__ import annotations

import csv
import inspect
import io
import os
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import IO, Any, Literal, TypeGuard, TypeVar

import anyio
import attrs

from . import _json
from ._clock import Clock
from ._errors import InvalidInputError
from ._models import Contact, camel_case
from ._pagination import AsyncPaginator

__all__ = [
    "EXPORT_FORMATS",
    "ExportFormat",
    "ExportOutput",
    "ExportProgress",
    "ExportReport",
    "export_list",
]

ExportFormat = Literal["ndjson", "csv"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("ndjson", "csv")

ExportOutput = str | os.PathLike[str] | IO[str] | IO[bytes]
"""A path to write (created or replaced), or an open text or binary stream (left open)."""

C = TypeVar("C", bound=Contact)
T = TypeVar("T")

CSV_COLUMNS = ("id", "name", "phone", "tags", "meta", "created_at", "updated_at", "added_at")
"""The CSV columns, in order; a model without one of them (a contact has no ``added_at``)
leaves it out."""


@attrs.frozen
class ExportProgress:
    """Where an export stands, after each page written."""

    written: int
    """Items in the output, those of an earlier run resumed included."""
    total: int | None
    """How many items the list holds, when it says (a ``search`` counts its matches)."""
    cursor: str | None
    """The cursor a re-run resumes from; ``None`` once the last page is written."""
    elapsed: float
    """Seconds since this run started."""


@attrs.frozen
class ExportReport:
    """What an export wrote."""

    written: int
    """Items in the output, those of an earlier run resumed included."""
    cursor: str | None
    """The cursor to resume from; ``None`` when the export is done."""
    done: bool
    """Whether the whole list is in the output."""
    elapsed: float
    """Seconds this run took."""


ExportCallback = Callable[[ExportProgress], object]
"""Called after each page; may be a coroutine function."""


@attrs.frozen
class _State:
    cursor: str | None = None
    offset: int = 0
    written: int = 0
    done: bool = False


_FRESH = _State()


async def export_list(
    walk: Callable[[str | None], AsyncPaginator[C]],
    output: ExportOutput,
    *,
    model: type[C],
    source: str,
    format: str,
    state_file: str | os.PathLike[str] | None,
    search: str | None,
    by_alias: bool,
    on_progress: ExportCallback | None,
    clock: Clock,
) -> ExportReport:
    """Write every item ``walk(cursor)`` yields to ``output``; see the module's docstring.

    ``source`` names the list in the state file. Every argument is checked, the state file
    read and the output opened before the first request: a bad one raises
    ``InvalidInputError`` naming it.
    """
    started = clock.monotonic()
    encode = _encoder(format, model, by_alias)
    identity = {"source": source, "format": format, "search": search, "by_alias": by_alias}
    state_path = None if state_file is None else Path(state_file)
    state = _FRESH
    if state_path is not None:
        state = await _in_thread(partial(_load_state, state_path, identity))
        if state.done:
            return ExportReport(state.written, None, True, clock.monotonic() - started)
        await _in_thread(partial(_save_first_state, state_path, state, identity))
    pages = walk(state.cursor).pages()
    sink = await _in_thread(partial(_open_output, output, state.offset))
    try:
        header = state == _FRESH
        async for page in pages:
            data = encode(page.items, header)
            header = False
            state = _State(
                cursor=None if page.is_last else page.next_cursor,
                offset=state.offset + len(data),
                written=state.written + len(page.items),
                done=page.is_last,
            )
            await _in_thread(partial(_commit, sink, data, state_path, state, identity))
            if on_progress is not None:
                elapsed = clock.monotonic() - started
                outcome = on_progress(
                    ExportProgress(state.written, page.total, state.cursor, elapsed)
                )
                if inspect.isawaitable(outcome):
                    await outcome
    finally:
        await _in_thread(sink.close)
    return ExportReport(state.written, state.cursor, state.done, clock.monotonic() - started)


async def _in_thread(function: Callable[[], T]) -> T:
    # Files are written and synced in a worker thread, never blocking the event loop; a
    # cancelled export waits for the thread, so a page and its state are committed together.
    return await anyio.to_thread.run_sync(function)


# --- encoding -----------------------------------------------------------------------------


def _encoder(
    format: object, model: type[Contact], by_alias: bool
) -> Callable[[Sequence[Contact], bool], bytes]:
    """The function turning a page of items (after a header when asked) into bytes."""
    if format == "ndjson":
        return lambda items, header: b"".join(
            [_json.dumps(item.to_dict(by_alias=by_alias)) + b"\n" for item in items]
        )
    if format == "csv":
        fields = attrs.fields_dict(model)
        columns = [camel_case(name) if by_alias else name for name in CSV_COLUMNS if name in fields]
        return lambda items, header: _csv_page(columns, items, header, by_alias)
    raise InvalidInputError("format", f"must be one of {', '.join(EXPORT_FORMATS)}, got {format!r}")


def _csv_page(
    columns: Sequence[str], items: Sequence[Contact], header: bool, by_alias: bool
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(columns)
    for item in items:
        row = item.to_dict(by_alias=by_alias)
        writer.writerow([_csv_cell(row[column]) for column in columns])
    return buffer.getvalue().encode()


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return _json.dumps(value).decode()


# --- output -------------------------------------------------------------------------------


class _FileOutput:
    """A file the export opened and closes; each write is synced to disk before the state."""

    def __init__(self, file: IO[bytes]) -> None:
        self._file = file

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


class _StreamOutput:
    """The caller's stream: written and flushed, never closed."""

    def __init__(self, stream: IO[Any]) -> None:
        self._stream = stream
        self._binary = isinstance(stream, (io.RawIOBase, io.BufferedIOBase))

    def write(self, data: bytes) -> None:
        self._stream.write(data if self._binary else data.decode())
        self._stream.flush()

    def close(self) -> None:
        """Nothing to do: the stream is the caller's."""


def _open_output(output: ExportOutput, offset: int) -> _FileOutput | _StreamOutput:
    """The output; a path is cut back to ``offset`` bytes, or created when it is 0."""
    if not isinstance(output, (str, os.PathLike)):
        if not callable(getattr(output, "write", None)):
            raise InvalidInputError(
                "output", f"must be a path or an open file, not {type(output).__name__}"
            )
        return _StreamOutput(output)
    path = Path(output)
    try:
        file = open(path, "r+b" if offset else "wb")  # noqa: SIM115 - the export closes it
    except OSError as exc:
        if offset and isinstance(exc, FileNotFoundError):
            raise InvalidInputError(
                "state_file", f"says {offset} bytes were written to {str(path)!r}, which is gone"
            ) from None
        raise InvalidInputError("output", f"cannot be written: {_reason(exc)}") from None
    size = file.seek(0, os.SEEK_END)
    if size < offset:
        file.close()
        raise InvalidInputError(
            "state_file",
            f"says {offset} bytes were written to {str(path)!r}, which holds only {size}",
        )
    file.truncate(offset)
    file.seek(offset)
    return _FileOutput(file)


def _reason(exc: OSError) -> str:
    return f"{exc.strerror or exc}: {exc.filename!r}" if exc.filename else str(exc)


# --- state --------------------------------------------------------------------------------


def _load_state(path: Path, identity: dict[str, Any]) -> _State:
    """The state a file holds for this export; a fresh one if there is no such file."""
    try:
        document = _json.loads(path.read_bytes())
    except FileNotFoundError:
        return _FRESH
    except OSError as exc:
        raise InvalidInputError("state_file", f"cannot be read: {_reason(exc)}") from None
    except ValueError:
        document = None
    state = _state_of(document)
    if state is None:
        raise InvalidInputError("state_file", f"{str(path)!r} holds no export state")
    assert isinstance(document, dict)
    theirs = {key: document.get(key) for key in identity}
    if theirs != identity:
        raise InvalidInputError(
            "state_file",
            f"{str(path)!r} is the state of another export ({_describe(theirs)}); this one is "
            f"{_describe(identity)}",
        )
    return state


def _state_of(document: object) -> _State | None:
    """The state in a state file's JSON, or ``None`` if it holds none."""
    if not isinstance(document, dict):
        return None
    cursor, offset, written, done = (
        document.get(key) for key in ("cursor", "offset", "written", "done")
    )
    if (
        (cursor is None or isinstance(cursor, str))
        and _is_count(offset)
        and _is_count(written)
        and isinstance(done, bool)
    ):
        return _State(cursor, offset, written, done)
    return None


def _is_count(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _describe(identity: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in identity.items())


def _save_first_state(path: Path, state: _State, identity: dict[str, Any]) -> None:
    """Write the state before the first request: a state file that cannot be written must
    stop the export before it starts."""
    try:
        _save_state(path, state, identity)
    except OSError as exc:
        raise InvalidInputError("state_file", f"cannot be written: {_reason(exc)}") from None


def _save_state(path: Path, state: _State, identity: dict[str, Any]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as file:
        file.write(_json.dumps({**attrs.asdict(state), **identity}))
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


def _commit(
    sink: _FileOutput | _StreamOutput,
    data: bytes,
    state_path: Path | None,
    state: _State,
    identity: dict[str, Any],
) -> None:
    """Write a page, then the state that counts it."""
    sink.write(data)
    if state_path is not None:
        _save_state(state_path, state, identity)
