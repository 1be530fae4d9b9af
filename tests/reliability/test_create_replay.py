"""Issue #9, item 1: a create never returns someone else's record.

A create is sent again after an unknown outcome, and a 409 to that re-send names the record
holding the unique value. That record is the call's own result only when it provably is: it
holds every field the call sent and was created after the call started (give or take
``CREATED_AT_SKEW``). A first attempt that was never processed (a 503, a 500, a proxy's HTML
502, a connection reset before processing) leaves someone else's record as the holder: the
conflict is raised, whatever the 409 names.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest
from yarl import URL

from msgflash_async import ConflictError, Contact, ContactGroup, MsgFlash
from msgflash_async.resources._base import CREATED_AT_SKEW
from msgflash_async.testing import FaultConfig, LocalMsgFlash, Workspace

from ._support import MOCK_BASE_URL, FakeClock, heal_on_first_sleep, only_faults, statuses
from .conftest import ClientFactory, ServerFactory

PHONE = "+33612345000"


@dataclass(frozen=True)
class Case:
    """A create whose unique value someone else's record may already hold."""

    route: str
    lookup: str
    """The route that fetches the holder by id."""
    search: str
    """The route that finds the holder when the 409 names no id."""
    create: Callable[[MsgFlash], Awaitable[Contact | ContactGroup]]
    take: Callable[[Workspace], str]
    """Makes someone else's record hold the unique value; returns its id."""
    same: Callable[[Workspace], str]
    """Makes a record with every field the create sends; returns its id."""
    holders: Callable[[Workspace], list[str]]
    """The ids holding the unique value."""

    def __str__(self) -> str:
        return self.route


async def _create_contact(client: MsgFlash) -> Contact:
    return await client.contacts.create(name="Awa Doe", phone=PHONE, tags=["vip"])


async def _create_group(client: MsgFlash) -> ContactGroup:
    return await client.groups.create(name="vip")


CONTACT = Case(
    route="contacts.create",
    lookup="contacts.get",
    search="contacts.list",
    create=_create_contact,
    take=lambda ws: ws.add_contact("Someone Else", PHONE, tags=["other-team"]).id,
    same=lambda ws: ws.add_contact("Awa Doe", PHONE, tags=["vip"]).id,
    holders=lambda ws: [c.id for c in ws.contacts.values() if c.phone == PHONE],
)
GROUP = Case(
    route="groups.create",
    lookup="groups.get",
    search="groups.list",
    create=_create_group,
    take=lambda ws: ws.add_group("VIP").id,  # the name is unique ignoring case
    same=lambda ws: ws.add_group("vip").id,
    holders=lambda ws: [g.id for g in ws.groups.values() if g.name.casefold() == "vip"],
)
CASES = [CONTACT, GROUP]

NEVER_PROCESSED = ["service_unavailable", "internal_error", "html_bad_gateway", "drop_before"]
"""First-attempt faults the server answers without processing the request."""


@pytest.mark.parametrize("fault", NEVER_PROCESSED)
@pytest.mark.parametrize("case", CASES, ids=str)
async def test_a_resend_that_meets_someone_elses_record_raises_the_conflict(
    case: Case, fault: str, server: LocalMsgFlash, make_client: ClientFactory, clock: FakeClock
) -> None:
    other = case.take(server.workspace())
    server.faults = only_faults(case.route, **{fault: 1.0})
    heal_on_first_sleep(server, clock)

    with pytest.raises(ConflictError) as caught:
        await case.create(make_client(server))

    assert caught.value.is_replay is True
    assert caught.value.existing_id == other
    assert case.holders(server.workspace()) == [other]
    assert statuses(server, case.route)[1:] == [409]
    assert statuses(server, case.lookup) == [200]  # fetched, and found not to be ours


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_a_resend_conflict_naming_no_id_finds_the_holder_and_applies_the_same_proof(
    case: Case, server: LocalMsgFlash, make_client: ClientFactory, clock: FakeClock
) -> None:
    other = case.take(server.workspace())
    server.faults = only_faults(case.route, drop_before=1.0)

    def heal(_: float) -> None:
        server.faults = FaultConfig()
        server.inject_response(status=409, code="CONFLICT", route=case.route)

    clock.on_sleep = heal

    with pytest.raises(ConflictError) as caught:
        await case.create(make_client(server))

    assert caught.value.is_replay is True
    assert caught.value.existing_id is None
    assert case.holders(server.workspace()) == [other]
    assert statuses(server, case.search) == [200]
    assert statuses(server, case.lookup) == [200]


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_an_identical_record_made_before_the_call_is_not_taken_for_its_result(
    case: Case, serve: ServerFactory, make_client: ClientFactory, clock: FakeClock
) -> None:
    lag = [timedelta(hours=1)]
    server = await serve(clock=lambda: datetime.now(timezone.utc) - lag[0])
    older = case.same(server.workspace())  # every field the create sends, an hour ago
    lag[0] = timedelta(0)
    server.faults = only_faults(case.route, service_unavailable=1.0)
    heal_on_first_sleep(server, clock)

    with pytest.raises(ConflictError) as caught:
        await case.create(make_client(server))

    assert caught.value.is_replay is True
    assert caught.value.existing_id == older
    assert case.holders(server.workspace()) == [older]


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_the_servers_clock_may_lag_ours_by_less_than_the_allowed_skew(
    case: Case, serve: ServerFactory, make_client: ClientFactory, clock: FakeClock
) -> None:
    behind = timedelta(seconds=CREATED_AT_SKEW - 60)
    server = await serve(clock=lambda: datetime.now(timezone.utc) - behind)
    server.faults = only_faults(case.route, drop_after=1.0)  # processed, answer lost
    heal_on_first_sleep(server, clock)

    created = await case.create(make_client(server))

    assert case.holders(server.workspace()) == [created.id]
    assert statuses(server, case.route) == [None, 409]


# --- exact exchanges (aioresponses) --------------------------------------------------------

EXISTING_ID = "b7e4d2c1-0f3a-4b5c-8d6e-7f8091a2b3c4"


def _stamp(moment: datetime) -> str:
    """A time as the API writes it: ``2026-04-01T10:00:00.000Z``."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")[:-6] + "Z"


@dataclass(frozen=True)
class Exchange:
    """A create with every field, and the record a 409 to its re-send names."""

    id: str
    path: str
    create: Callable[[MsgFlash], Awaitable[Contact | ContactGroup]]
    field: str
    holder: dict[str, Any]
    """The record the first attempt would have made."""

    def __str__(self) -> str:
        return self.id


CONTACT_EXCHANGE = Exchange(
    "contact",
    "/api/v1/contacts",
    lambda client: client.contacts.create(
        name="Awa Doe", phone=PHONE, tags=["vip", "newsletter"], meta={"city": "Cotonou"}
    ),
    "phone",
    {
        "id": EXISTING_ID,
        "name": "Awa Doe",
        "phone": PHONE,
        "tags": ["vip", "newsletter"],
        "meta": {"city": "Cotonou"},
        "temperature": None,
    },
)
GROUP_EXCHANGE = Exchange(
    "group",
    "/api/v1/contacts/groups",
    lambda client: client.groups.create(
        name="VIP clients", description="High-value customers", color="#F59E0B"
    ),
    "name",
    {
        "id": EXISTING_ID,
        "name": "VIP clients",
        "description": "High-value customers",
        "color": "#F59E0B",
        "contactCount": 0,
    },
)


def _answer_resend_with_conflict(mock_api: Any, exchange: Exchange, holder: dict[str, Any]) -> None:
    """The first attempt's connection drops; the re-send meets 409 naming ``holder``."""
    url = URL(MOCK_BASE_URL + exchange.path)
    mock_api.post(url, exception=aiohttp.ServerDisconnectedError())
    conflict = {
        "code": "CONFLICT",
        "details": [{"field": exchange.field, "existingId": EXISTING_ID}],
    }
    mock_api.post(url, status=409, payload={"error": conflict})
    mock_api.get(URL(f"{MOCK_BASE_URL}{exchange.path}/{EXISTING_ID}"), payload={"data": holder})


@pytest.mark.parametrize("exchange", [CONTACT_EXCHANGE, GROUP_EXCHANGE], ids=str)
async def test_a_lost_answer_resolves_to_the_record_the_first_attempt_made(
    exchange: Exchange, mock_api: Any, make_client: ClientFactory
) -> None:
    _answer_resend_with_conflict(
        mock_api, exchange, {**exchange.holder, "createdAt": _stamp(datetime.now(timezone.utc))}
    )

    created = await exchange.create(make_client(base_url=MOCK_BASE_URL))

    assert created.id == EXISTING_ID
    assert sum(len(calls) for calls in mock_api.requests.values()) == 3


NOT_OURS: dict[str, tuple[Exchange, dict[str, Any]]] = {
    "contact-name": (CONTACT_EXCHANGE, {"name": "Someone Else"}),
    "contact-tags": (CONTACT_EXCHANGE, {"tags": ["other-team"]}),
    "contact-meta": (CONTACT_EXCHANGE, {"meta": {}}),
    "group-name-case": (GROUP_EXCHANGE, {"name": "vip clients"}),
    "group-description": (GROUP_EXCHANGE, {"description": None}),
    "group-color": (GROUP_EXCHANGE, {"color": "#25D366"}),
}


@pytest.mark.parametrize("case", NOT_OURS)
async def test_a_holder_that_differs_in_a_field_sent_is_not_ours(
    case: str, mock_api: Any, make_client: ClientFactory
) -> None:
    exchange, difference = NOT_OURS[case]
    now = _stamp(datetime.now(timezone.utc))
    _answer_resend_with_conflict(
        mock_api, exchange, {**exchange.holder, **difference, "createdAt": now}
    )

    with pytest.raises(ConflictError) as caught:
        await exchange.create(make_client(base_url=MOCK_BASE_URL))

    assert caught.value.is_replay is True
    assert caught.value.existing_id == EXISTING_ID
    assert sum(len(calls) for calls in mock_api.requests.values()) == 3


CREATED: dict[str, dict[str, Any]] = {
    "created-before-the-skew": {
        "createdAt": _stamp(datetime.now(timezone.utc) - timedelta(seconds=CREATED_AT_SKEW + 60))
    },
    "no-created-at": {},
}


@pytest.mark.parametrize("created", CREATED)
@pytest.mark.parametrize("exchange", [CONTACT_EXCHANGE, GROUP_EXCHANGE], ids=str)
async def test_a_holder_not_provably_created_by_the_call_is_not_ours(
    exchange: Exchange, created: str, mock_api: Any, make_client: ClientFactory
) -> None:
    _answer_resend_with_conflict(mock_api, exchange, {**exchange.holder, **CREATED[created]})

    with pytest.raises(ConflictError) as caught:
        await exchange.create(make_client(base_url=MOCK_BASE_URL))

    assert caught.value.existing_id == EXISTING_ID
