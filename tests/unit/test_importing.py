"""``validate_contact``, ``ContactInput`` and ``contacts.import_many`` against a mocked API:
what is checked before sending, the exact requests, concurrency, progress and aborts."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from aioresponses import CallbackResult

from msgflash_async import (
    AuthenticationError,
    ConfigurationError,
    InvalidInputError,
    MonthlyQuotaExceededError,
    MsgFlash,
    RetryPolicy,
)
from msgflash_async._errors import ImportAbortedError
from msgflash_async._importing import (
    ContactInput,
    ExistingContact,
    ImportProgress,
    ImportReport,
    RowDuplicate,
    RowProblem,
    UnreadableRow,
    validate_contact,
)

from ._helpers import (
    CONTACT,
    CONTACTS,
    EXISTING_ID,
    api_url,
    data,
    error,
    loose,
    sent,
    sent_json,
)
from .conftest import ClientFactory

CREATE_URL = api_url(CONTACTS)
VALID = {"name": "Awa Doe", "phone": "+33612345000"}


def phone(number: int) -> str:
    return f"+3361234{number:04d}"


def rows(count: int) -> list[dict[str, Any]]:
    return [{"name": f"Contact {number}", "phone": phone(number)} for number in range(count)]


# --- validate_contact and ContactInput --------------------------------------------------------


def test_validate_contact_keeps_the_four_fields_and_ignores_other_keys() -> None:
    row = {**VALID, "tags": ["vip", "b2b"], "meta": {"city": "Cotonou"}, "id": "x", "notes": 1}

    contact = validate_contact(row)

    assert contact == ContactInput(
        name="Awa Doe", phone="+33612345000", tags=("vip", "b2b"), meta={"city": "Cotonou"}
    )
    assert contact.tags == ("vip", "b2b")


def test_validate_contact_takes_none_tags_and_meta_as_left_out() -> None:
    contact = validate_contact({**VALID, "tags": None, "meta": None})

    assert (contact.tags, contact.meta) == ((), {})


def test_a_contact_input_passes_through_as_it_is() -> None:
    contact = ContactInput(name="Awa Doe", phone="+33612345000", tags=["vip"])

    assert validate_contact(contact) is contact
    assert contact.tags == ("vip",)


@pytest.mark.parametrize("missing", ["name", "phone"])
def test_a_missing_name_or_phone_is_required(missing: str) -> None:
    row = {key: value for key, value in VALID.items() if key != missing}

    with pytest.raises(InvalidInputError) as caught:
        validate_contact(row)

    assert (caught.value.field, caught.value.message) == (missing, "is required")


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("name", "", "name"),
        ("name", "x" * 101, "name"),
        ("name", 42, "name"),
        ("name", "\ud800", "name"),
        ("phone", "0612345678", "phone"),
        ("phone", 33612345000, "phone"),
        ("phone", "+33 6 12 34 50 00", "phone"),
        ("tags", "vip", "tags"),
        ("tags", [""], "tags[0]"),
        ("tags", ["ok", 7], "tags[1]"),
        ("tags", ["t"] * 51, "tags"),
        ("meta", ["not", "a", "mapping"], "meta"),
        ("meta", {"when": object()}, "meta"),
        ("meta", {1: "key is not a string"}, "meta"),
        ("meta", {"big": "x" * 17_000}, "meta"),
    ],
)
def test_each_bad_field_is_named(field: str, value: object, named: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        validate_contact({**VALID, field: value})

    assert caught.value.field == named
    with pytest.raises(InvalidInputError) as direct:
        ContactInput(**loose({**VALID, field: value}))
    assert direct.value.field == named


@pytest.mark.parametrize("row", [["Awa", "+33612345000"], "name,phone", 5, None])
def test_a_row_that_is_no_mapping_is_refused_as_a_whole(row: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        validate_contact(loose(row))

    assert caught.value.field == "row"


def test_report_ok_means_nothing_invalid_and_nothing_failed() -> None:
    clean = ImportReport(
        created=1,
        existing=(ExistingContact(2, phone(2), EXISTING_ID, updated=False),),
        updated=0,
        invalid=(),
        duplicates=(RowDuplicate(3, phone(1), 1),),
        failed=(),
        resumed=0,
        added_to_group=0,
        already_in_group=0,
        elapsed=0.1,
        rows=3,
    )

    assert clean.ok
    assert not attrs.evolve(clean, invalid=(RowProblem(4, "phone", "bad"),)).ok
    assert not attrs.evolve(clean, failed=(RowProblem(4, None, "bad"),)).ok


# --- what is refused before any request -------------------------------------------------------


async def test_invalid_rows_are_reported_by_row_and_never_sent(
    client: MsgFlash, mock_api: Any
) -> None:
    bad: list[Any] = [
        {"name": "No phone"},
        {**VALID, "phone": "06 12"},
        {**VALID, "tags": "vip"},
        7,
        UnreadableRow("line 5 is not a JSON object"),
    ]

    report = await client.contacts.import_many(bad)

    assert sent(mock_api) == []
    assert report.invalid == (
        RowProblem(1, "phone", "is required"),
        RowProblem(2, "phone", "must be an E.164 number like +33612345000, got '06 12'"),
        RowProblem(3, "tags", "must be a list of tags, not str"),
        RowProblem(4, None, "must be a mapping or a ContactInput, not int"),
        RowProblem(5, None, "line 5 is not a JSON object"),
    )
    assert (report.rows, report.created, report.ok) == (5, 0, False)


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"concurrency": 0}, "concurrency"),
        ({"concurrency": True}, "concurrency"),
        ({"concurrency": 8.0}, "concurrency"),
        ({"concurrency": 1001}, "concurrency"),
        ({"on_existing": "merge"}, "on_existing"),
        ({"group_id": ""}, "group_id"),
        ({"group_id": ".."}, "group_id"),
        ({"checkpoint": 5}, "checkpoint"),
        ({"total": -1}, "total"),
        ({"on_progress": "print"}, "on_progress"),
        ({"rows": "name,phone"}, "rows"),
        ({"rows": VALID}, "rows"),
        ({"rows": 5}, "rows"),
    ],
)
async def test_bad_arguments_are_refused_before_any_request(
    client: MsgFlash, mock_api: Any, arguments: dict[str, Any], field: str
) -> None:
    given = {"rows": rows(3), **arguments}

    with pytest.raises(InvalidInputError) as caught:
        await client.contacts.import_many(**given)

    assert caught.value.field == field
    assert sent(mock_api) == []


async def test_a_file_that_is_no_checkpoint_is_refused_naming_it(
    client: MsgFlash, mock_api: Any, tmp_path: Path
) -> None:
    not_sqlite = tmp_path / "rows.csv"
    not_sqlite.write_text("name,phone\n" * 200)
    other_database = tmp_path / "other.sqlite3"
    with sqlite3.connect(other_database) as connection:
        connection.execute("CREATE TABLE t (x)")
    connection.close()

    for path in (not_sqlite, other_database, tmp_path):
        with pytest.raises(ConfigurationError, match=r"^checkpoint"):
            await client.contacts.import_many(rows(3), checkpoint=path)

    assert sent(mock_api) == []


# --- the exact requests -----------------------------------------------------------------------


class FakeContacts:
    """A mocked C2 (create) that knows which phones exist, and a C4 (update)."""

    def __init__(self, existing: dict[str, str] | None = None) -> None:
        self.existing = dict(existing or {})
        self.created: list[str] = []

    def create(self, url: Any, **kwargs: Any) -> CallbackResult:
        body = json.loads(kwargs["data"])
        holder = self.existing.get(body["phone"])
        if holder is not None:
            details = [{"field": "phone", "existingId": holder}]
            return CallbackResult(
                status=409, payload=error("CONFLICT", "A contact with this phone exists", details)
            )
        self.created.append(body["phone"])
        new_id = f"id-{body['phone']}"
        self.existing[body["phone"]] = new_id
        return CallbackResult(status=201, payload=data({**CONTACT, **body, "id": new_id}))


def mock_contacts(mock_api: Any, fake: FakeContacts) -> None:
    mock_api.post(CREATE_URL, callback=fake.create, repeat=True)
    mock_api.put(
        api_url(f"{CONTACTS}/{EXISTING_ID}"),
        callback=lambda url, **kwargs: CallbackResult(
            payload=data({**CONTACT, **json.loads(kwargs["data"]), "id": EXISTING_ID})
        ),
        repeat=True,
    )


def bodies(mock_api: Any, method: str, path: str = CONTACTS) -> list[Any]:
    return [sent_json(call) for call in mock_api.requests.get((method, api_url(path)), [])]


async def test_each_row_is_one_create_with_its_fields(client: MsgFlash, mock_api: Any) -> None:
    mock_contacts(mock_api, FakeContacts())
    given: list[Any] = [
        {**VALID, "tags": ["vip"], "meta": {"city": "Cotonou"}},
        ContactInput(name="Kofi", phone=phone(1)),
    ]

    report = await client.contacts.import_many(given)

    assert sorted(bodies(mock_api, "POST"), key=str) == sorted(
        [
            {
                "name": "Awa Doe",
                "phone": "+33612345000",
                "tags": ["vip"],
                "meta": {"city": "Cotonou"},
            },
            {"name": "Kofi", "phone": phone(1)},
        ],
        key=str,
    )
    assert (report.created, report.rows, report.ok) == (2, 2, True)


async def test_a_phone_repeated_in_the_input_is_sent_once(client: MsgFlash, mock_api: Any) -> None:
    fake = FakeContacts()
    mock_contacts(mock_api, fake)
    given = [*rows(3), {"name": "Again", "phone": phone(1)}, {"name": "Twice", "phone": phone(1)}]

    report = await client.contacts.import_many(given)

    assert sorted(fake.created) == [phone(0), phone(1), phone(2)]
    assert report.duplicates == (RowDuplicate(4, phone(1), 2), RowDuplicate(5, phone(1), 2))
    assert report.created == 3


@pytest.mark.parametrize("on_existing", ["skip", "update"])
async def test_an_existing_phone_is_reported_with_its_id(
    client: MsgFlash, mock_api: Any, on_existing: Any
) -> None:
    mock_contacts(mock_api, FakeContacts({phone(1): EXISTING_ID}))
    given = [*rows(3)]
    given[1] = {**given[1], "tags": ["vip"], "meta": {"tier": 2}}

    report = await client.contacts.import_many(given, on_existing=on_existing)

    updated = on_existing == "update"
    assert report.existing == (ExistingContact(2, phone(1), EXISTING_ID, updated=updated),)
    assert (report.created, report.updated, report.failed) == (2, int(updated), ())
    puts = bodies(mock_api, "PUT", f"{CONTACTS}/{EXISTING_ID}")
    expected_put = {"name": "Contact 1", "tags": ["vip"], "meta": {"tier": 2}}
    assert puts == ([expected_put] if updated else [])


async def test_under_fail_an_existing_phone_fails_its_row_and_the_import_goes_on(
    client: MsgFlash, mock_api: Any
) -> None:
    fake = FakeContacts({phone(0): EXISTING_ID})
    mock_contacts(mock_api, fake)

    report = await client.contacts.import_many(rows(4), on_existing="fail")

    [problem] = report.failed
    assert (problem.row, problem.field) == (1, "phone")
    assert problem.reason.startswith("ConflictError: A contact with this phone exists")
    assert EXISTING_ID in problem.reason
    assert (report.created, report.existing, report.ok) == (3, (), False)


async def test_rows_the_server_refuses_fail_alone(client: MsgFlash, mock_api: Any) -> None:
    refusals = iter(
        [
            CallbackResult(
                status=400,
                payload=error(
                    "VALIDATION_ERROR", "Invalid request data", [{"field": "name", "message": "x"}]
                ),
            ),
            CallbackResult(status=422, payload=error("UNPROCESSABLE", "Cannot store it")),
        ]
    )
    fake = FakeContacts()

    def answer(url: Any, **kwargs: Any) -> CallbackResult:
        return next(refusals, None) or fake.create(url, **kwargs)

    mock_api.post(CREATE_URL, callback=answer, repeat=True)

    report = await client.contacts.import_many(rows(4), concurrency=1)

    assert report.failed == (
        RowProblem(1, "name", "ValidationError: Invalid request data"),
        RowProblem(2, None, "UnprocessableEntityError: Cannot store it"),
    )
    assert report.created == 2


# --- sync and async rows, concurrency ---------------------------------------------------------


async def test_rows_come_from_an_async_generator_too(client: MsgFlash, mock_api: Any) -> None:
    fake = FakeContacts()
    mock_contacts(mock_api, fake)
    closed = False

    async def generate() -> Any:
        nonlocal closed
        try:
            for row in rows(5):
                await asyncio.sleep(0)
                yield row
            yield ContactInput(name="Typed", phone=phone(9))
            yield {"name": "Bad", "phone": "0"}
        finally:
            closed = True

    report = await client.contacts.import_many(generate())

    assert (report.created, report.rows, [problem.row for problem in report.invalid]) == (6, 7, [7])
    assert len(fake.created) == 6
    assert closed


async def test_rows_of_a_slow_source_are_sent_before_it_ends(
    client: MsgFlash, mock_api: Any
) -> None:
    fake = FakeContacts()
    events: list[str] = []

    def create(url: Any, **kwargs: Any) -> CallbackResult:
        events.append("create")
        return fake.create(url, **kwargs)

    mock_api.post(CREATE_URL, callback=create, repeat=True)

    async def slow() -> Any:
        for row in rows(10):
            await asyncio.sleep(0.02)  # a batch waits at most 0.05 s for more rows
            events.append("yield")
            yield row

    report = await client.contacts.import_many(slow())

    assert report.created == 10
    assert events.index("create") < len(events) - 1 - events[::-1].index("yield")


async def test_at_most_concurrency_creates_are_in_flight_with_no_task_per_row(
    client: MsgFlash, mock_api: Any
) -> None:
    fake = FakeContacts()
    active = highest = most_tasks = 0

    async def slow_create(url: Any, **kwargs: Any) -> CallbackResult:
        nonlocal active, highest, most_tasks
        active += 1
        highest = max(highest, active)
        most_tasks = max(most_tasks, len(asyncio.all_tasks()))
        for _ in range(5):
            await asyncio.sleep(0)  # let the other workers run; no time passes
        active -= 1
        return fake.create(url, **kwargs)

    mock_api.post(CREATE_URL, callback=slow_create, repeat=True)

    report = await client.contacts.import_many(rows(60), concurrency=3)

    assert report.created == 60
    assert highest == 3
    assert most_tasks <= 3 + 1  # the workers and the test's own task


# --- progress ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["function", "coroutine function"])
async def test_progress_ends_with_the_final_counts(
    client: MsgFlash, mock_api: Any, kind: str
) -> None:
    mock_contacts(mock_api, FakeContacts({phone(2): EXISTING_ID}))
    seen: list[ImportProgress] = []

    async def remember(progress: ImportProgress) -> None:
        seen.append(progress)

    callback = seen.append if kind == "function" else remember
    given = [*rows(5), {"name": "bad"}, {"name": "Again", "phone": phone(0)}]

    report = await client.contacts.import_many(given, total=len(given), on_progress=callback)

    last = seen[-1]
    assert (last.rows, last.total, last.created, last.existing) == (7, 7, 4, 1)
    assert (last.invalid, last.duplicates, last.failed, last.resumed) == (1, 1, 0, 0)
    assert last.eta == 0
    assert 0 <= last.elapsed <= report.elapsed


async def test_the_eta_is_the_rows_left_at_the_clients_rate(
    make_client: ClientFactory, mock_api: Any
) -> None:
    mock_contacts(mock_api, FakeContacts())
    paced = make_client(rate_limit=4)
    assert paced.rate_limit == 4
    seen: list[ImportProgress] = []

    await paced.contacts.import_many(rows(9), total=9, on_progress=seen.append, concurrency=1)

    first = seen[0]  # as the first row is read, whatever the clock says
    assert (first.rows, first.eta) == (0, 9 / 4)
    assert (seen[-1].rows, seen[-1].eta) == (9, 0)


async def test_without_a_total_there_is_no_eta(client: MsgFlash, mock_api: Any) -> None:
    mock_contacts(mock_api, FakeContacts())
    seen: list[ImportProgress] = []

    await client.contacts.import_many(rows(3), on_progress=seen.append)

    assert {progress.eta for progress in seen} == {None}
    assert {progress.total for progress in seen} == {None}


# --- aborts -----------------------------------------------------------------------------------


def fail_after(fake: FakeContacts, creates: int, failure: CallbackResult) -> Any:
    """A create callback that answers ``failure`` once ``creates`` contacts exist."""

    def answer(url: Any, **kwargs: Any) -> CallbackResult:
        if len(fake.created) >= creates:
            return failure
        return fake.create(url, **kwargs)

    return answer


@pytest.mark.parametrize(
    ("failure", "cause"),
    [
        (
            CallbackResult(status=401, payload=error("UNAUTHORIZED", "Invalid API key")),
            AuthenticationError,
        ),
        (
            CallbackResult(
                status=429,
                payload=error("MONTHLY_API_REQUEST_QUOTA_EXCEEDED", "Monthly quota exceeded"),
            ),
            MonthlyQuotaExceededError,
        ),
    ],
)
async def test_a_non_row_error_aborts_with_the_partial_report_and_the_cause(
    client: MsgFlash,
    mock_api: Any,
    tmp_path: Path,
    failure: CallbackResult,
    cause: type[Exception],
) -> None:
    fake = FakeContacts()
    mock_api.post(CREATE_URL, callback=fail_after(fake, 4, failure), repeat=True)
    checkpoint = tmp_path / "import.sqlite3"

    with pytest.raises(ImportAbortedError) as caught:
        await client.contacts.import_many(rows(40), concurrency=2, checkpoint=checkpoint)

    aborted = caught.value
    assert isinstance(aborted.__cause__, cause)
    assert aborted.report.created == 4
    assert cause.__name__ in str(aborted)
    assert len(fake.created) == 4
    assert len(sent(mock_api)) < 40  # the rows read but not sent were not sent

    # The checkpoint holds the four: a re-run sends only the other rows.
    mock_api.clear()
    mock_api.requests.clear()
    mock_contacts(mock_api, fake)
    report = await client.contacts.import_many(rows(40), checkpoint=checkpoint)
    assert (report.resumed, report.created, report.existing) == (4, 36, ())
    assert len(bodies(mock_api, "POST")) == 36


async def test_connection_refused_after_the_retries_aborts(make_client: ClientFactory) -> None:
    unreachable = make_client(base_url="http://127.0.0.1:9", allow_insecure_http=True)

    with pytest.raises(ImportAbortedError) as caught:
        await unreachable.contacts.import_many(rows(5))

    assert type(caught.value.__cause__).__name__ == "ConnectError"
    assert caught.value.report.created == 0


async def test_an_error_in_the_rows_themselves_stops_the_import_and_propagates(
    client: MsgFlash, mock_api: Any
) -> None:
    mock_contacts(mock_api, FakeContacts())

    def broken() -> Iterator[dict[str, Any]]:
        yield from rows(3)
        raise OSError("the file went away")

    with pytest.raises(OSError, match="went away"):
        await client.contacts.import_many(broken())


async def test_without_retries_a_server_error_aborts_too(
    make_client: ClientFactory, mock_api: Any
) -> None:
    mock_api.post(CREATE_URL, status=503, payload=error("INTERNAL_ERROR", "down"), repeat=True)
    no_retries = make_client(retry=RetryPolicy.none())

    with pytest.raises(ImportAbortedError) as caught:
        await no_retries.contacts.import_many(rows(3))

    assert type(caught.value.__cause__).__name__ == "InternalServerError"
