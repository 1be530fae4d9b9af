"""Issue #5, part 4: connect timeouts against read timeouts, and per-call timeouts.

No loopback address can make a connection attempt hang, and no other address may be used,
so connect timeouts come from aioresponses; read timeouts come from the server's latency.
"""

from __future__ import annotations

import aiohttp
import pytest
from aioresponses_compat import mocked_api

from msgflash_async import (
    APIConnectionError,
    ConnectError,
    ConnectTimeoutError,
    ReadTimeoutError,
    RetryPolicy,
    Timeout,
)
from msgflash_async.testing import LocalMsgFlash

from ._support import (
    BULK_DELETE,
    GET_CONTACT,
    MOCK_BASE_URL,
    NOWHERE,
    FakeClock,
    Seeded,
    closed_port,
    only_faults,
)
from .conftest import ClientFactory

BULK_DELETE_URL = f"{MOCK_BASE_URL}/api/v1/contacts/bulk-delete"
INLINE_DELETED = {"data": {"requested": 1, "deleted": 1, "notFound": []}}


async def test_a_connect_timeout_is_a_connect_error_retried_for_every_method(
    make_client: ClientFactory, clock: FakeClock
) -> None:
    client = make_client(base_url=MOCK_BASE_URL)
    with mocked_api() as mock:
        for _ in range(2):
            mock.post(BULK_DELETE_URL, exception=aiohttp.ConnectionTimeoutError())
        mock.post(BULK_DELETE_URL, payload=INLINE_DELETED)

        result = await BULK_DELETE.invoke(client, NOWHERE, False)  # a POST, never resent blindly

    assert result.deleted == 1
    assert len(clock.sleeps) == 2


async def test_connect_timeouts_raise_connect_timeout_error(
    make_client: ClientFactory, clock: FakeClock
) -> None:
    client = make_client(base_url=MOCK_BASE_URL, retry=RetryPolicy(max_retries=2))
    with mocked_api() as mock:
        mock.post(BULK_DELETE_URL, exception=aiohttp.ConnectionTimeoutError(), repeat=True)

        with pytest.raises(ConnectTimeoutError) as caught:
            await BULK_DELETE.invoke(client, NOWHERE, False)

    assert isinstance(caught.value, ConnectError)
    assert isinstance(caught.value, TimeoutError)
    assert len(clock.sleeps) == 2


async def test_a_refused_connection_is_not_a_timeout(make_client: ClientFactory) -> None:
    client = make_client(base_url=f"http://127.0.0.1:{closed_port()}", retry=RetryPolicy.none())

    with pytest.raises(ConnectError) as caught:
        await GET_CONTACT.invoke(client, NOWHERE, False)

    assert not isinstance(caught.value, TimeoutError)


async def test_a_read_timeout_is_not_a_connect_error(
    server: LocalMsgFlash, seeded: Seeded, make_client: ClientFactory
) -> None:
    server.faults = only_faults("contacts.get", latency=1.0, latency_range=(0.3, 0.3))
    client = make_client(server, retry=RetryPolicy.none(), timeout=Timeout(read=0.1))

    with pytest.raises(ReadTimeoutError) as caught:
        await GET_CONTACT.invoke(client, seeded, False)

    assert isinstance(caught.value, (APIConnectionError, TimeoutError))
    assert not isinstance(caught.value, ConnectError)


@pytest.mark.parametrize(
    ("client_timeout", "call_timeout", "times_out"),
    [
        (Timeout(read=0.05), Timeout(read=2.0), False),
        (Timeout(read=2.0), Timeout(read=0.05), True),
        (Timeout(read=2.0), 0.05, True),  # a number is the total for the call
        (1.0, None, False),
    ],
)
async def test_with_options_overrides_the_timeout_per_call(
    client_timeout: Timeout | float,
    call_timeout: Timeout | float | None,
    times_out: bool,
    server: LocalMsgFlash,
    seeded: Seeded,
    make_client: ClientFactory,
) -> None:
    server.faults = only_faults("contacts.get", latency=1.0, latency_range=(0.2, 0.2))
    client = make_client(server, retry=RetryPolicy.none(), timeout=client_timeout)
    call = client.with_options(timeout=call_timeout)

    if times_out:
        with pytest.raises(ReadTimeoutError):
            await GET_CONTACT.invoke(call, seeded, False)
    else:
        assert (await GET_CONTACT.invoke(call, seeded, False)).id == seeded.contact_id
    assert client.timeout == Timeout.of(client_timeout)  # the client itself is unchanged
