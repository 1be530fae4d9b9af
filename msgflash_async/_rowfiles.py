"""Reading contact rows from CSV and NDJSON files, one row at a time.

The files an export writes read back as the rows an import takes:

- ``.csv``: UTF-8 (a byte-order mark is skipped), a header row naming the columns, any line
  ending. An empty cell is left out of its row. The ``tags`` cell is a JSON array
  (``["vip","new"]``) or tags separated by ``;`` (``vip; new``); the ``meta`` cell is JSON
  (``{"city":"Paris"}``). Other cells are kept as text. Rows whose every cell is empty are
  skipped.
- ``.ndjson`` / ``.jsonl``: one JSON object per line; blank lines are skipped.

A row that cannot be read (a line that is not JSON or not an object, a CSV row with more cells
than the header, a ``tags`` or ``meta`` cell that is not JSON) still yields a row, so that
rows keep their numbers: an ``UnreadableRow`` whose reason starts with the line number
(``"line 7: not a JSON object"``). An import reports such a row as invalid, with that reason
and no field.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import _json
from ._errors import InvalidInputError
from ._importing import UnreadableRow

__all__ = ["ROW_FILE_SUFFIXES", "count_rows", "read_rows"]

ROW_FILE_SUFFIXES = (".csv", ".ndjson", ".jsonl")

_BOM = b"\xef\xbb\xbf"
_BLANK = b" \t\r\n"


def read_rows(path: str | os.PathLike[str]) -> Iterator[dict[str, Any] | UnreadableRow]:
    """Every row of a ``.csv``, ``.ndjson`` or ``.jsonl`` file, in order, read as needed.

    Raises ``InvalidInputError`` naming ``path`` at once for another suffix, and when
    iterating for a CSV file without a header or with a column named twice, or a CSV file
    that is not UTF-8. An unreadable row is yielded as an ``UnreadableRow``.
    """
    if _is_csv(path):
        return _csv_rows(path)
    return _ndjson_rows(path)


def count_rows(path: str | os.PathLike[str]) -> int:
    """How many rows ``read_rows`` yields for ``path`` (unreadable ones included).

    Reads the whole file once, in constant memory; an import uses it for its progress total.
    """
    if _is_csv(path):
        return sum(1 for _ in _csv_records(path))
    return sum(1 for _ in _ndjson_lines(path))


def _is_csv(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a CSV file; refuses a suffix that is no row file's."""
    suffix = Path(path).suffix.lower()
    if suffix not in ROW_FILE_SUFFIXES:
        raise InvalidInputError(
            "path", f"must end in .csv, .ndjson or .jsonl, got {os.fspath(path)!r}"
        )
    return suffix == ".csv"


# --- NDJSON -------------------------------------------------------------------------------


def _ndjson_lines(path: str | os.PathLike[str]) -> Iterator[tuple[int, bytes]]:
    """The number and bytes of each line that is not blank."""
    with open(path, "rb") as file:
        for number, line in enumerate(file, start=1):
            if number == 1 and line.startswith(_BOM):
                line = line[len(_BOM) :]
            if line.strip(_BLANK):
                yield number, line


def _ndjson_rows(path: str | os.PathLike[str]) -> Iterator[dict[str, Any] | UnreadableRow]:
    for number, line in _ndjson_lines(path):
        try:
            row = _json.loads(line)
        except ValueError:  # UnicodeDecodeError too: a line that is not UTF-8
            yield _invalid(number, "not valid JSON")
            continue
        if isinstance(row, dict):
            yield row
        else:
            yield _invalid(number, f"not a JSON object (got {_json_type(row)})")


def _json_type(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"


def _invalid(line: int, reason: str) -> UnreadableRow:
    return UnreadableRow(f"line {line}: {reason}")


# --- CSV ----------------------------------------------------------------------------------


def _csv_records(path: str | os.PathLike[str]) -> Iterator[tuple[int, list[str], list[str]]]:
    """The header, then the first line number and cells of each record that is not empty."""
    with open(path, encoding="utf-8-sig", newline="") as file:
        reader = csv.reader(file)
        try:
            header = [name.strip() for name in next(reader, [])]
            if not any(header):
                raise InvalidInputError("path", "line 1: a CSV file needs a header row")
            _check_header(header)
            start = reader.line_num + 1
            for cells in reader:
                if any(cells):
                    yield start, header, cells
                start = reader.line_num + 1
        except UnicodeDecodeError:
            raise InvalidInputError(
                "path", f"line {reader.line_num + 1} or near: the file is not UTF-8 text"
            ) from None
        except csv.Error as exc:
            raise InvalidInputError("path", f"line {reader.line_num}: {exc}") from None


def _check_header(header: list[str]) -> None:
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise InvalidInputError("path", f"line 1: the column {name!r} appears twice")
        if name:
            seen.add(name)


def _csv_rows(path: str | os.PathLike[str]) -> Iterator[dict[str, Any] | UnreadableRow]:
    for line, header, cells in _csv_records(path):
        if len(cells) > len(header) and any(cells[len(header) :]):
            yield _invalid(line, f"{len(cells)} cells, but the header names {len(header)}")
            continue
        try:
            yield {
                name: _cell(name, cell)
                for name, cell in zip(header, cells, strict=False)
                if name and cell
            }
        except ValueError as exc:
            yield _invalid(line, str(exc))


def _cell(name: str, cell: str) -> Any:
    """A cell's value: ``tags`` a list, ``meta`` parsed JSON, any other column its text."""
    if name == "tags":
        if cell.lstrip().startswith("["):
            return _json_cell(name, cell, "a JSON array")
        return [tag.strip() for tag in cell.split(";") if tag.strip()]
    if name == "meta":
        return _json_cell(name, cell, "a JSON object")
    return cell


def _json_cell(name: str, cell: str, expected: str) -> Any:
    try:
        return json.loads(cell)
    except ValueError:
        raise ValueError(f"{name}: expected {expected}, not {cell[:40]!r}") from None
