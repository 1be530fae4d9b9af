"""Issue #5, part 7: a soak run through injected faults, checked for an exact end state.

5,000 contacts are imported concurrently, added to a group by bulk jobs, streamed back, and
half of them bulk-deleted, while the server injects every kind of fault on every route used.
Nothing may be lost or duplicated. The server's rate limit and the client's pacing are raised
together (800 requests/s) so the run takes seconds; the client still never exceeds the limit.
The server answers its 429s without ``Retry-After``, as the vendor documents none, and injects
429s both with and without it.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from msgflash_async import Contact, MsgFlash, RetryPolicy, Timeout
from msgflash_async.testing import FaultConfig, FaultProfile, LocalMsgFlash

from ._support import phone, run_workers
from .conftest import ServerFactory

CONTACTS = 5_000
RATE = 800
SEED = 20_260_501
SLOW = (0.6, 0.8)
"""Latency faults: longer than the client's 0.5 s read timeout, so each is a read timeout."""

FAULTS = FaultConfig(
    routes={
        "contacts.create": FaultProfile(
            internal_error=0.015,
            bad_gateway=0.01,
            service_unavailable=0.01,
            # Few 429s: each one halves the client's pace for seconds, as a real one should.
            rate_limited=0.001,
            rate_limited_no_retry_after=0.002,
            drop_before=0.015,
            drop_after=0.02,
            html_bad_gateway=0.01,
            html_ok=0.01,
            truncated=0.02,
            latency=0.01,
            latency_range=SLOW,
        ),
        "contacts.get": FaultProfile(service_unavailable=0.1, drop_after=0.1, truncated=0.05),
        "groups.create": FaultProfile(drop_after=0.3),
        "groups.get": FaultProfile(internal_error=0.2),
        "groups.members.add": FaultProfile(
            service_unavailable=0.1, drop_after=0.1, truncated=0.1, rate_limited=0.05
        ),
        "groups.members.list": FaultProfile(
            bad_gateway=0.1, html_bad_gateway=0.05, truncated=0.1, drop_after=0.05, html_ok=0.05
        ),
        "contacts.bulk_delete": FaultProfile(service_unavailable=0.15, drop_after=0.2),
        "contacts.list": FaultProfile(internal_error=0.1, truncated=0.05, drop_before=0.05),
        "jobs.*": FaultProfile(
            internal_error=0.1,
            drop_before=0.05,
            html_ok=0.05,
            truncated=0.05,
            latency=0.05,
            latency_range=SLOW,
        ),
    }
)
CONFIGURED_KINDS = {
    kind
    for profile in FAULTS.routes.values()
    for kind, probability in [*profile.weights().items(), ("latency", profile.latency)]
    if probability > 0
}


async def settle_jobs(client: MsgFlash) -> None:
    """Wait for every job of the workspace, including any started by a first attempt whose
    answer was lost before the SDK sent the request again."""
    async for job in client.jobs.list():
        if not job.is_terminal:
            await client.jobs.handle(job.id)


async def contact_ids(client: MsgFlash) -> list[str]:
    return [contact.id async for contact in client.contacts.list()]


async def member_ids(client: MsgFlash, group_id: str) -> list[str]:
    return [member.id async for member in client.groups.members(group_id)]


async def import_group_stream_delete(server: LocalMsgFlash) -> None:
    """The run, checking the state after each step, through the SDK and on the server."""
    phones = [phone(number) for number in range(CONTACTS)]
    created: dict[str, Contact] = {}
    workspace = server.workspace()

    async with MsgFlash(
        server.api_key,
        base_url=server.base_url,
        rate_limit=RATE,
        max_in_flight=48,
        retry=RetryPolicy(max_retries=10, initial_backoff=0.05, max_backoff=0.5),
        timeout=Timeout(connect=5, read=0.5, total=60),
        job_poll_interval=0.1,
    ) as client:

        async def create(number: int) -> None:
            contact = await client.contacts.create(name=f"Soak {number:04d}", phone=phones[number])
            created[contact.phone] = contact

        await run_workers(64, range(CONTACTS), create)

        assert Counter(c.phone for c in workspace.contacts.values()) == Counter(phones)
        assert {p: c.id for p, c in created.items()} == {
            c.phone: c.id for c in workspace.contacts.values()
        }
        ids = [created[p].id for p in phones]

        group = await client.groups.create(name="Soak group")
        handles = [
            await client.groups.add_members(
                group.id, ids[start : start + 1000], resend_if_unknown=True
            )
            for start in range(0, CONTACTS, 1000)
        ]
        for handle in handles:  # the jobs run side by side on the server
            assert (await handle).total == 1000
        await settle_jobs(client)

        members = await member_ids(client, group.id)
        assert len(members) == CONTACTS
        assert set(members) == set(ids)
        assert (await client.groups.get(group.id)).contact_count == CONTACTS

        deleted, kept = ids[: CONTACTS // 2], ids[CONTACTS // 2 :]
        deletion = await client.contacts.bulk_delete(deleted, resend_if_unknown=True)
        assert (await deletion).requested == len(deleted)
        await settle_jobs(client)

        remaining = await contact_ids(client)
        assert len(remaining) == len(kept)
        assert set(remaining) == set(kept)
        members = await member_ids(client, group.id)
        assert len(members) == len(kept)
        assert set(members) == set(kept)
        assert (await client.groups.get(group.id)).contact_count == len(kept)

    assert sorted(c.phone for c in workspace.contacts.values()) == phones[CONTACTS // 2 :]
    assert workspace.members(group.id) == members


@pytest.mark.soak
async def test_soak_through_faults_ends_in_the_exact_state(serve: ServerFactory) -> None:
    started = time.monotonic()
    server = await serve(
        rate_limit=RATE,
        rate_limit_retry_after=False,
        manual_jobs=False,
        job_batch_size=250,
        job_batch_interval=0.02,
        faults=FAULTS,
        seed=SEED,
    )

    try:
        await import_group_stream_delete(server)
    finally:
        counts = server.fault_counts
        requests = server.requests
        faulted = sum(count for kind, count in counts.items() if kind != "injected")
        print(
            f"\nsoak: {len(requests)} requests in {time.monotonic() - started:.1f} s, "
            f"{faulted} faults ({faulted / len(requests):.1%}), "
            f"{sum(r.status == 429 and r.fault is None for r in requests)} 429s from the limiter"
        )
        print("soak faults:", {kind: count for kind, count in counts.items() if count})

    assert {kind for kind in CONFIGURED_KINDS if counts[kind] == 0} == set()
    assert faulted >= 0.1 * len(requests)
