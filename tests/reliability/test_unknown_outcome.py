"""Issue #5, part 2: a create whose outcome is unknown never makes a duplicate.

The first attempt meets a fault on the fake server (processed or not, the client cannot tell);
the fault heals during the retry's backoff. The call must return the one resource that exists.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from msgflash_async import (
    ConflictError,
    Contact,
    ContactGroup,
    MsgFlash,
    RetryPolicy,
    ServerDisconnectedError,
    Timeout,
)
from msgflash_async.testing import FaultConfig, LocalMsgFlash, Workspace

from ._support import FakeClock, heal_on_first_sleep, logged, only_faults, wait_for_requests
from .conftest import ClientFactory

READ_TIMEOUT = 1.0
"""The read timeout of the ``read_timeout`` case, in real seconds. It bounds every attempt
from its start, connecting included, so it is far above what a loaded machine or a garbage
collection pause may take: if the first attempt timed out before reaching the server, or the
re-send timed out, the test would see one request, or three. Other cases keep the default."""
FIRST_ATTEMPT_FAULTS: dict[str, dict[str, Any]] = {
    "drop_after": {"drop_after": 1.0},  # processed, connection cut: no answer
    "truncated": {"truncated": 1.0},  # processed, half a body
    # processed after we gave up, and after the re-send is answered
    "read_timeout": {"latency": 1.0, "latency_range": (2 * READ_TIMEOUT, 2 * READ_TIMEOUT)},
    "drop_before": {"drop_before": 1.0},  # not processed, connection cut
    "internal_error": {"internal_error": 1.0},  # not processed, 500
    "html_ok": {"html_ok": 1.0},  # not processed, a proxy's HTML page with 200
}
PROCESSED_BY_FIRST_ATTEMPT = {"drop_after", "truncated"}


@dataclass(frozen=True)
class Creation:
    """A create call whose unique field (a phone, a group name) forbids a second copy."""

    route: str
    create: Callable[[MsgFlash], Awaitable[Contact | ContactGroup]]
    lookup: str
    taken: Callable[[Workspace], object]
    """Makes the unique value already taken, as if created earlier."""
    matches: Callable[[Workspace], list[str]]
    """The ids holding the unique value on the server."""

    def __str__(self) -> str:
        return self.route


PHONE = "+33612345000"
GROUP_NAME = "VIP clients"


async def _create_contact(client: MsgFlash) -> Contact:
    return await client.contacts.create(name="Awa Doe", phone=PHONE, tags=["vip"])


async def _create_group(client: MsgFlash) -> ContactGroup:
    return await client.groups.create(name=GROUP_NAME, color="#F59E0B")


CONTACT = Creation(
    route="contacts.create",
    create=_create_contact,
    lookup="contacts.get",
    taken=lambda ws: ws.add_contact("Someone else", PHONE),
    matches=lambda ws: [c.id for c in ws.contacts.values() if c.phone == PHONE],
)
GROUP = Creation(
    route="groups.create",
    create=_create_group,
    lookup="groups.get",
    taken=lambda ws: ws.add_group(GROUP_NAME.lower()),
    matches=lambda ws: [g.id for g in ws.groups.values() if g.name.casefold() == "vip clients"],
)


@pytest.mark.parametrize("fault", FIRST_ATTEMPT_FAULTS)
@pytest.mark.parametrize("creation", [CONTACT, GROUP], ids=str)
async def test_a_create_with_an_unknown_outcome_returns_the_one_resource(
    creation: Creation,
    fault: str,
    server: LocalMsgFlash,
    make_client: ClientFactory,
    clock: FakeClock,
) -> None:
    server.faults = only_faults(creation.route, **FIRST_ATTEMPT_FAULTS[fault])
    heal_on_first_sleep(server, clock)
    timeout = Timeout(read=READ_TIMEOUT) if fault == "read_timeout" else Timeout()
    client = make_client(server, timeout=timeout)

    created = await creation.create(client)

    await wait_for_requests(server, creation.route, 2)  # the delayed first attempt too
    assert creation.matches(server.workspace()) == [created.id]
    assert len(clock.sleeps) == 1
    _, second = logged(server, creation.route)
    if fault in PROCESSED_BY_FIRST_ATTEMPT:
        # The re-send meets the first attempt's resource: 409, then a lookup of it.
        assert second.status == 409
        assert [entry.status for entry in logged(server, creation.lookup)] == [200]
    else:
        assert logged(server, creation.lookup) == []


@pytest.mark.parametrize("creation", [CONTACT, GROUP], ids=str)
async def test_a_first_attempt_conflict_is_raised(
    creation: Creation, server: LocalMsgFlash, make_client: ClientFactory
) -> None:
    creation.taken(server.workspace())
    [existing] = creation.matches(server.workspace())

    with pytest.raises(ConflictError) as caught:
        await creation.create(make_client(server))

    assert caught.value.is_replay is False
    assert caught.value.existing_id == existing
    assert [entry.status for entry in logged(server)] == [409]


@pytest.mark.parametrize("creation", [CONTACT, GROUP], ids=str)
async def test_a_conflict_after_a_rate_limit_is_raised(
    creation: Creation, server: LocalMsgFlash, make_client: ClientFactory
) -> None:
    """A 429 was not processed, so the 409 that follows is the caller's own conflict."""
    creation.taken(server.workspace())
    server.inject_response(status=429, code="API_RATE_LIMIT_EXCEEDED", route=creation.route)

    with pytest.raises(ConflictError) as caught:
        await creation.create(make_client(server))

    assert caught.value.is_replay is False
    assert [entry.status for entry in logged(server)] == [429, 409]


@pytest.mark.parametrize("creation", [CONTACT, GROUP], ids=str)
async def test_a_replayed_conflict_that_names_no_existing_id_still_returns_the_resource(
    creation: Creation, server: LocalMsgFlash, make_client: ClientFactory, clock: FakeClock
) -> None:
    """The 409 layout is undocumented (spec §5.4): a real server may send no ``existingId``,
    and a body may be cut short. The re-send's conflict is still the first attempt's doing."""
    server.faults = only_faults(creation.route, drop_after=1.0)

    def heal(_: float) -> None:
        server.faults = FaultConfig()
        server.inject_response(status=409, code="CONFLICT", route=creation.route)

    clock.on_sleep = heal

    created = await creation.create(make_client(server))

    assert creation.matches(server.workspace()) == [created.id]


async def test_without_retries_an_unknown_outcome_is_raised_not_hidden(
    server: LocalMsgFlash, make_client: ClientFactory
) -> None:
    server.faults = only_faults("contacts.create", drop_after=1.0)

    with pytest.raises(ServerDisconnectedError):
        await CONTACT.create(make_client(server, retry=RetryPolicy.none()))

    assert len(CONTACT.matches(server.workspace())) == 1  # it was created: the caller must check
