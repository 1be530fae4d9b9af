"""Exports against the local server: files and streams, one page at a time, resumed exactly."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from msgflash_async import (
    AuthenticationError,
    Contact,
    GroupMember,
    InvalidInputError,
    MsgFlash,
)
from msgflash_async._exporting import ExportFormat, ExportProgress
from msgflash_async._importing import validate_contact
from msgflash_async._rowfiles import read_rows
from msgflash_async.testing import LocalMsgFlash

PAGE = 4
CONTACTS = 10
"""Three pages of ``PAGE``: two full, one not."""
FORMATS: list[ExportFormat] = ["ndjson", "csv"]


@pytest.fixture
def contacts(server: LocalMsgFlash) -> list[str]:
    """The workspace's contacts, with tags, meta and text a CSV must quote; their ids."""
    workspace = server.workspace()
    return [
        workspace.add_contact(
            f'Zoë "{n}", Ørsted' if n % 2 else f"Contact {n}",
            f"+3361234{n:04d}",
            tags=["vip", "été"] if n % 3 else [],
            meta={"n": n, "city": "Århus, DK", "list": [1, None]} if n % 2 else {},
        ).id
        for n in range(CONTACTS)
    ]


def list_requests(server: LocalMsgFlash) -> int:
    return sum(1 for request in server.requests if request.route.endswith("list"))


async def clean_export(sdk: MsgFlash, tmp_path: Path, format: ExportFormat) -> bytes:
    """The bytes of an export that ran start to finish without a state file."""
    path = tmp_path / f"clean.{format}"
    await sdk.contacts.export(path, format=format, limit=PAGE)
    return path.read_bytes()


def fail_after_pages(server: LocalMsgFlash, pages: int) -> Callable[[ExportProgress], None]:
    """A progress callback making the server refuse the list request after ``pages`` pages."""

    def on_progress(progress: ExportProgress) -> None:
        if progress.written == pages * PAGE:
            server.inject_response(status=401, code="UNAUTHORIZED", route="contacts.list")

    return on_progress


# --- what an export writes -------------------------------------------------------------------


async def test_ndjson_holds_each_contact_as_its_dict(
    sdk: MsgFlash, server: LocalMsgFlash, contacts: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "contacts.ndjson"

    report = await sdk.contacts.export(path, limit=PAGE)

    expected = [contact.to_dict() async for contact in sdk.contacts.list()]
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == expected
    assert [Contact.from_dict(json.loads(line)).id for line in lines] == contacts[::-1]
    assert (report.written, report.cursor, report.done) == (CONTACTS, None, True)


async def test_by_alias_writes_camel_case(
    sdk: MsgFlash, server: LocalMsgFlash, contacts: list[str]
) -> None:
    ndjson, table = io.StringIO(), io.StringIO()

    await sdk.contacts.export(ndjson, by_alias=True, limit=PAGE)
    await sdk.contacts.export(table, format="csv", by_alias=True, limit=PAGE)

    first = json.loads(ndjson.getvalue().splitlines()[0])
    assert first == (await sdk.contacts.get(contacts[-1])).to_dict(by_alias=True)
    assert "createdAt" in first
    assert table.getvalue().splitlines()[0] == "id,name,phone,tags,meta,createdAt,updatedAt"


async def test_csv_has_a_header_and_json_tags_and_meta(
    sdk: MsgFlash, server: LocalMsgFlash, contacts: list[str]
) -> None:
    output = io.StringIO()

    await sdk.contacts.export(output, format="csv", limit=PAGE)

    records = list(csv.DictReader(io.StringIO(output.getvalue())))
    expected = [contact async for contact in sdk.contacts.list()]
    assert list(records[0]) == [
        "id",
        "name",
        "phone",
        "tags",
        "meta",
        "created_at",
        "updated_at",
    ]
    assert [record["name"] for record in records] == [contact.name for contact in expected]
    assert [json.loads(record["tags"]) for record in records] == [
        list(contact.tags) for contact in expected
    ]
    assert [json.loads(record["meta"]) for record in records] == [
        contact.meta for contact in expected
    ]
    assert records[0]["created_at"] == expected[0].to_dict()["created_at"]


async def test_a_stream_gets_the_same_lines_as_a_file(
    sdk: MsgFlash,
    server: LocalMsgFlash,
    contacts: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for format in FORMATS:
        expected = await clean_export(sdk, tmp_path, format)
        binary = io.BytesIO()

        await sdk.contacts.export(sys.stdout, format=format, limit=PAGE)
        await sdk.contacts.export(binary, format=format, limit=PAGE)

        assert capsys.readouterr().out.encode() == expected
        assert binary.getvalue() == expected


async def test_search_is_passed_to_the_list(
    sdk: MsgFlash, server: LocalMsgFlash, contacts: list[str]
) -> None:
    output = io.StringIO()

    report = await sdk.contacts.export(output, search="Ørsted", limit=PAGE)

    names = [json.loads(line)["name"] for line in output.getvalue().splitlines()]
    assert report.written == len(names) == CONTACTS // 2
    assert all("Ørsted" in name for name in names)
    assert {request.query.get("search") for request in server.requests} == {"Ørsted"}


async def test_group_members_export_with_added_at(
    sdk: MsgFlash, server: LocalMsgFlash, contacts: list[str], tmp_path: Path
) -> None:
    workspace = server.workspace()
    group = workspace.add_group("Export")
    workspace.add_members(group.id, contacts[:7])
    ndjson, table = tmp_path / "members.ndjson", tmp_path / "members.csv"

    await sdk.groups.export_members(group.id, ndjson, limit=PAGE)
    await sdk.groups.export_members(group.id, table, format="csv", limit=PAGE)

    members = [member async for member in sdk.groups.members(group.id)]
    lines = ndjson.read_text(encoding="utf-8").splitlines()
    assert [GroupMember.from_dict(json.loads(line)) for line in lines] == members
    assert [member.id for member in members] == contacts[:7]
    header, *rows = table.read_text(encoding="utf-8").splitlines()
    assert header == "id,name,phone,tags,meta,created_at,updated_at,added_at"
    assert len(list(csv.reader(rows))) == 7


async def test_one_page_is_fetched_for_each_page_written(
    sdk: MsgFlash, server: LocalMsgFlash, contacts: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "contacts.csv"
    seen: list[tuple[int, int, int]] = []

    def on_progress(progress: ExportProgress) -> None:
        lines = path.read_text(encoding="utf-8").count("\n")
        seen.append((list_requests(server), progress.written, lines))
        assert progress.total == CONTACTS

    server.clear_requests()
    await sdk.contacts.export(path, format="csv", limit=PAGE, on_progress=on_progress)

    # The list is fetched lazily: when a page is flushed, no later page has been asked for.
    assert seen == [(1, 4, 5), (2, 8, 9), (3, 10, 11)]


async def test_an_async_progress_callback_is_awaited(
    sdk: MsgFlash, server: LocalMsgFlash, contacts: list[str]
) -> None:
    seen: list[ExportProgress] = []

    async def on_progress(progress: ExportProgress) -> None:
        await asyncio.sleep(0)
        seen.append(progress)

    await sdk.contacts.export(io.StringIO(), limit=PAGE, on_progress=on_progress)

    assert [progress.written for progress in seen] == [4, 8, 10]
    assert seen[-1].cursor is None
    assert all(progress.cursor for progress in seen[:-1])


# --- resuming ------------------------------------------------------------------------------


@pytest.mark.parametrize("format", FORMATS)
async def test_a_crash_mid_page_then_a_rerun_writes_each_contact_once(
    sdk: MsgFlash, server: LocalMsgFlash, contacts: list[str], tmp_path: Path, format: ExportFormat
) -> None:
    expected = await clean_export(sdk, tmp_path, format)
    path, state = tmp_path / f"out.{format}", tmp_path / "state.json"

    with pytest.raises(AuthenticationError) as caught:
        await sdk.contacts.export(
            path,
            format=format,
            state_file=state,
            limit=PAGE,
            on_progress=fail_after_pages(server, 2),
        )
    saved = json.loads(state.read_text())
    assert (saved["written"], saved["offset"], saved["done"]) == (8, path.stat().st_size, False)
    assert saved["cursor"] == caught.value.cursor
    cut_short = expected[saved["offset"] : saved["offset"] + 30]  # as if killed mid-page
    path.write_bytes(path.read_bytes() + cut_short)

    report = await sdk.contacts.export(path, format=format, state_file=state, limit=PAGE)

    assert path.read_bytes() == expected
    assert (report.written, report.done) == (CONTACTS, True)
    assert json.loads(state.read_text())["done"] is True


async def test_a_cancelled_export_resumes_where_it_stopped(
    sdk: MsgFlash, server: LocalMsgFlash, contacts: list[str], tmp_path: Path
) -> None:
    expected = await clean_export(sdk, tmp_path, "csv")
    path, state = tmp_path / "out.csv", tmp_path / "state.json"

    def cancel_after_first_page(progress: ExportProgress) -> None:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()

    export = asyncio.ensure_future(
        sdk.contacts.export(
            path, format="csv", state_file=state, limit=PAGE, on_progress=cancel_after_first_page
        )
    )
    with pytest.raises(asyncio.CancelledError):
        await export
    assert json.loads(state.read_text())["written"] == PAGE

    server.clear_requests()
    await sdk.contacts.export(path, format="csv", state_file=state, limit=PAGE)

    assert path.read_bytes() == expected
    assert list_requests(server) == 2


async def test_a_finished_export_is_not_fetched_again(
    sdk: MsgFlash, server: LocalMsgFlash, contacts: list[str], tmp_path: Path
) -> None:
    path, state = tmp_path / "out.ndjson", tmp_path / "state.json"
    await sdk.contacts.export(path, state_file=state, limit=PAGE)
    written = path.read_bytes()
    server.clear_requests()

    report = await sdk.contacts.export(path, state_file=state, limit=PAGE)

    assert server.requests == []
    assert (report.written, report.cursor, report.done) == (CONTACTS, None, True)
    assert path.read_bytes() == written


async def test_a_stream_resumes_from_the_cursor_alone(
    sdk: MsgFlash, server: LocalMsgFlash, contacts: list[str], tmp_path: Path
) -> None:
    expected = (await clean_export(sdk, tmp_path, "csv")).decode()
    first, second, state = io.StringIO(), io.StringIO(), tmp_path / "state.json"

    with pytest.raises(AuthenticationError):
        await sdk.contacts.export(
            first,
            format="csv",
            state_file=state,
            limit=PAGE,
            on_progress=fail_after_pages(server, 1),
        )
    await sdk.contacts.export(second, format="csv", state_file=state, limit=PAGE)

    assert first.getvalue() + second.getvalue() == expected
    assert not second.getvalue().startswith("id,")


# --- round trip ----------------------------------------------------------------------------


@pytest.mark.parametrize("format", FORMATS)
async def test_an_export_reads_back_as_valid_import_rows(
    sdk: MsgFlash, server: LocalMsgFlash, contacts: list[str], tmp_path: Path, format: ExportFormat
) -> None:
    path = tmp_path / f"contacts.{format}"
    await sdk.contacts.export(path, format=format, limit=PAGE)

    inputs = [validate_contact(row) for row in read_rows(path) if isinstance(row, dict)]

    expected = [contact async for contact in sdk.contacts.list()]
    assert [(i.name, i.phone, i.tags, i.meta) for i in inputs] == [
        (c.name, c.phone, c.tags, c.meta) for c in expected
    ]


# --- mistakes, refused before any request ----------------------------------------------------


async def refused(server: LocalMsgFlash, export: Any, field: str, match: str) -> None:
    server.clear_requests()
    with pytest.raises(InvalidInputError, match=match) as caught:
        await export
    assert caught.value.field == field
    assert server.requests == []


async def test_an_unknown_format_is_refused(
    sdk: MsgFlash, server: LocalMsgFlash, tmp_path: Path
) -> None:
    output = tmp_path / "out.xml"

    export = sdk.contacts.export(output, format="xml")  # type: ignore[arg-type]

    await refused(server, export, "format", "ndjson, csv")

    assert not output.exists()


async def test_an_output_that_cannot_be_written_is_refused(
    sdk: MsgFlash, server: LocalMsgFlash, tmp_path: Path
) -> None:
    missing = tmp_path / "no such directory" / "out.ndjson"

    await refused(server, sdk.contacts.export(missing), "output", "cannot be written")
    not_a_file = sdk.contacts.export(42)  # type: ignore[arg-type]
    await refused(server, not_a_file, "output", "must be a path or an open file")


async def test_a_state_file_that_cannot_be_written_is_refused(
    sdk: MsgFlash, server: LocalMsgFlash, tmp_path: Path
) -> None:
    state = tmp_path / "no such directory" / "state.json"

    await refused(
        server,
        sdk.contacts.export(io.StringIO(), state_file=state),
        "state_file",
        "cannot be written",
    )


async def test_a_state_file_of_another_export_is_refused(
    sdk: MsgFlash, server: LocalMsgFlash, contacts: list[str], tmp_path: Path
) -> None:
    group = server.workspace().add_group("Export")
    other = server.workspace().add_group("Other")
    state = tmp_path / "state.json"
    await sdk.groups.export_members(group.id, tmp_path / "out.csv", format="csv", state_file=state)

    await refused(
        server,
        sdk.groups.export_members(group.id, tmp_path / "out.ndjson", state_file=state),
        "state_file",
        "format='csv'.*format='ndjson'",
    )
    await refused(
        server,
        sdk.groups.export_members(other.id, tmp_path / "out.csv", format="csv", state_file=state),
        "state_file",
        f"another export \\(source='groups/{group.id}/members'",
    )
    await refused(
        server,
        sdk.contacts.export(tmp_path / "out.csv", format="csv", state_file=state),
        "state_file",
        "source='contacts'",
    )


@pytest.mark.parametrize(
    ("state", "match"),
    [
        ("not json", "holds no export state"),
        ('{"cursor": 5, "offset": 0, "written": 0, "done": false}', "holds no export state"),
        ('["cursor"]', "holds no export state"),
    ],
    ids=["not JSON", "bad cursor", "not an object"],
)
async def test_a_damaged_state_file_is_refused(
    sdk: MsgFlash, server: LocalMsgFlash, tmp_path: Path, state: str, match: str
) -> None:
    path = tmp_path / "state.json"
    path.write_text(state)

    await refused(server, sdk.contacts.export(io.StringIO(), state_file=path), "state_file", match)


async def test_a_state_file_that_cannot_be_read_is_refused(
    sdk: MsgFlash, server: LocalMsgFlash, tmp_path: Path
) -> None:
    export = sdk.contacts.export(io.StringIO(), state_file=tmp_path)  # a directory

    await refused(server, export, "state_file", "cannot be read")


async def test_a_state_ahead_of_its_output_is_refused(
    sdk: MsgFlash, server: LocalMsgFlash, contacts: list[str], tmp_path: Path
) -> None:
    path, state = tmp_path / "out.ndjson", tmp_path / "state.json"
    with pytest.raises(AuthenticationError):
        await sdk.contacts.export(
            path, state_file=state, limit=PAGE, on_progress=fail_after_pages(server, 1)
        )
    path.write_bytes(path.read_bytes()[:10])

    await refused(
        server, sdk.contacts.export(path, state_file=state), "state_file", "holds only 10"
    )
    path.unlink()
    await refused(server, sdk.contacts.export(path, state_file=state), "state_file", "is gone")
