"""Reading rows from CSV and NDJSON files: ``read_rows`` and ``count_rows``."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from msgflash_async import InvalidInputError, MsgFlash
from msgflash_async._importing import UnreadableRow
from msgflash_async._rowfiles import count_rows, read_rows

from ._helpers import CONTACTS, api_url, page


def write(directory: Path, name: str, content: str | bytes) -> Path:
    path = directory / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def rows_of(path: Path) -> list[dict[str, Any] | UnreadableRow]:
    rows = list(read_rows(path))
    assert count_rows(path) == len(rows)
    return rows


def invalid(reason: str) -> UnreadableRow:
    return UnreadableRow(reason)


# --- CSV -----------------------------------------------------------------------------------


def test_csv_cells_become_a_row_per_record(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "contacts.csv",
        "name,phone,tags,meta,created_at\n"
        'Awa Doe,+33612345000,"[""vip"",""new""]","{""city"": ""Paris""}",2026-04-01T10:00:00Z\n'
        "Bo,+33612345001,vip; new ;,,\n"
        "Cy,+33612345002,,,\n",
    )

    assert rows_of(path) == [
        {
            "name": "Awa Doe",
            "phone": "+33612345000",
            "tags": ["vip", "new"],
            "meta": {"city": "Paris"},
            "created_at": "2026-04-01T10:00:00Z",
        },
        {"name": "Bo", "phone": "+33612345001", "tags": ["vip", "new"]},
        {"name": "Cy", "phone": "+33612345002"},
    ]


def test_csv_with_bom_crlf_quoted_commas_newlines_and_unicode(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "excel.CSV",
        "\ufeffname , phone,\r\n"
        '"Doe, Awa",+33612345000,in a column without a name\r\n'
        '"Zoë ""Zo""\r\nØrsted",+4512345678\r\n'
        "\r\n"
        ",\r\n"
        "李小龍,+85212345678,,\r\n",
    )

    assert rows_of(path) == [
        {"name": "Doe, Awa", "phone": "+33612345000"},
        {"name": 'Zoë "Zo"\r\nØrsted', "phone": "+4512345678"},
        {"name": "李小龍", "phone": "+85212345678"},
    ]


def test_unreadable_csv_rows_are_reported_by_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "contacts.csv",
        "name,phone,tags,meta\n"
        'Awa,+33612345000,"[""vip""",\n'  # line 2
        'Bo,+33612345001,,"{city: Paris}"\n'  # line 3
        '"Multi\nline",+33612345002,,,extra\n'  # lines 4 and 5
        'Cy,+33612345003,,"[1]"\n',  # line 6: JSON, left to the validator
    )

    assert rows_of(path) == [
        invalid("line 2: tags: expected a JSON array, not '[\"vip\"'"),
        invalid("line 3: meta: expected a JSON object, not '{city: Paris}'"),
        invalid("line 4: 5 cells, but the header names 4"),
        {"name": "Cy", "phone": "+33612345003", "meta": [1]},
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "line 1: a CSV file needs a header row"),
        (b"\n\nname\n", "line 1: a CSV file needs a header row"),
        (b"name,phone,name\nA,+33612345000,B\n", "line 1: the column 'name' appears twice"),
        (b"name,phone\nA\xff,+33612345000\n", "not UTF-8 text"),
        (b"name\n" + b"x" * 200_000 + b"\n", "line 2: field larger than field limit"),
    ],
    ids=["empty", "blank first line", "column twice", "not UTF-8", "huge cell"],
)
def test_a_csv_file_that_cannot_be_read_raises_naming_the_path(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = write(tmp_path, "bad.csv", content)

    with pytest.raises(InvalidInputError, match=message) as caught:
        list(read_rows(path))

    assert caught.value.field == "path"
    with pytest.raises(InvalidInputError, match=message):
        count_rows(path)


async def test_an_exported_csv_reads_back_without_its_empty_cells(
    client: MsgFlash, mock_api: Any, tmp_path: Path
) -> None:
    sparse = {"id": "c1", "name": 'Awa, "A"', "phone": "+33612345000"}
    mock_api.get(api_url(CONTACTS, limit=100), payload=page("contacts", [sparse]))
    path = tmp_path / "contacts.csv"

    await client.contacts.export(path, format="csv")

    assert rows_of(path) == [{**sparse, "tags": [], "meta": {}}]


# --- NDJSON --------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".ndjson", ".jsonl", ".NDJSON"])
def test_ndjson_rows_are_the_objects_of_each_line(tmp_path: Path, suffix: str) -> None:
    lines = [
        '{"name": "Awa", "phone": "+33612345000", "tags": ["vip"], "meta": {"k": 1}}',
        "",
        "   ",
        '{"name": "Zoë, \\"Zo\\"", "phone": "+4512345678"}',
    ]
    path = write(tmp_path, "rows" + suffix, "\ufeff" + "\r\n".join(lines) + "\r\n\n")

    assert rows_of(path) == [
        {"name": "Awa", "phone": "+33612345000", "tags": ["vip"], "meta": {"k": 1}},
        {"name": 'Zoë, "Zo"', "phone": "+4512345678"},
    ]


def test_unreadable_ndjson_lines_are_reported_by_line(tmp_path: Path) -> None:
    content = (
        b'{"name": "Awa", "phone": "+33612345000"}\n'
        b"\n"
        b"not json\n"  # line 3
        b"[1, 2]\n"  # line 4
        b'"text"\n'  # line 5
        b"null\n"  # line 6
        b'{"name": "\xff"}\n'  # line 7: not UTF-8
        b"true\n"  # line 8
        b"5\n"  # line 9
        b'{"name": "Bo", "phone": "+33612345001"'  # line 10: cut short, no newline
    )
    path = write(tmp_path, "rows.ndjson", content)

    assert rows_of(path) == [
        {"name": "Awa", "phone": "+33612345000"},
        invalid("line 3: not valid JSON"),
        invalid("line 4: not a JSON object (got an array)"),
        invalid("line 5: not a JSON object (got a string)"),
        invalid("line 6: not a JSON object (got null)"),
        invalid("line 7: not valid JSON"),
        invalid("line 8: not a JSON object (got a boolean)"),
        invalid("line 9: not a JSON object (got a number)"),
        invalid("line 10: not valid JSON"),
    ]


# --- both ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["rows.json", "rows.txt", "rows"])
def test_other_suffixes_are_refused_at_once(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, name, "{}\n")

    with pytest.raises(InvalidInputError, match=r"must end in \.csv, \.ndjson or \.jsonl"):
        read_rows(path)
    with pytest.raises(InvalidInputError, match="path"):
        count_rows(path)


def test_a_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    rows = read_rows(tmp_path / "missing.csv")

    with pytest.raises(FileNotFoundError):
        next(rows)


def write_many(path: Path, count: int) -> None:
    with open(path, "w", encoding="utf-8") as file:
        if path.suffix == ".csv":
            file.write("name,phone,tags\n")
            file.writelines(f'C {n},+1{2_000_000_000 + n},"[""t{n}""]"\n' for n in range(count))
        else:
            file.writelines(
                json.dumps({"name": f"C {n}", "phone": f"+1{2_000_000_000 + n}"}) + "\n"
                for n in range(count)
            )


def peak_memory_reading(path: Path) -> int:
    """The most memory Python held at once while reading every row of ``path``."""
    tracemalloc.start()
    try:
        assert sum(1 for _ in read_rows(path)) == count_rows(path)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("suffix", [".csv", ".ndjson"])
def test_rows_stream_in_constant_memory(tmp_path: Path, suffix: str) -> None:
    small, large = tmp_path / f"small{suffix}", tmp_path / f"large{suffix}"
    write_many(small, 1_000)
    write_many(large, 10_000)

    small_peak, large_peak = peak_memory_reading(small), peak_memory_reading(large)

    assert count_rows(large) == 10_000
    assert large_peak < small_peak * 1.5
    assert large_peak < large.stat().st_size / 3
