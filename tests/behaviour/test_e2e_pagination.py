"""Walking cursor lists against the local server: resume, caps, early exits, stability."""

from __future__ import annotations

import asyncio
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msgflash_async import InternalServerError, MsgFlash, PaginationError, RetryPolicy
from msgflash_async.testing import FaultConfig, FaultProfile, LocalMsgFlash


def acquired_connections(client: MsgFlash) -> int:
    """Connections the client's aiohttp session holds right now."""
    session = client._core.transport._session
    assert session is not None
    return len(session.connector._acquired)  # type: ignore[union-attr]


async def seeded_group(server: LocalMsgFlash, members: int) -> str:
    workspace = server.workspace()
    group = workspace.add_group("Walk")
    workspace.add_members(group.id, [c.id for c in workspace.seed_contacts(members)])
    return group.id


async def test_walk_resumes_from_a_saved_cursor(sdk: MsgFlash, server: LocalMsgFlash) -> None:
    group_id = await seeded_group(server, 250)
    expected = server.workspace().members(group_id)

    pages = sdk.groups.members(group_id, limit=100).pages()
    first = await pages.__anext__()
    saved = pages.cursor
    assert saved == first.next_cursor
    assert first.total == 250
    assert first.has_more

    resumed = [m.id async for m in sdk.groups.members(group_id, limit=100, cursor=saved)]
    assert [m.id for m in first.items] + resumed == expected


async def test_max_items_and_collect_fetch_only_what_is_needed(
    sdk: MsgFlash, server: LocalMsgFlash
) -> None:
    group_id = await seeded_group(server, 120)
    server.clear_requests()
    capped = [m async for m in sdk.groups.members(group_id, limit=50, max_items=60)]
    assert len(capped) == 60
    assert len(server.requests) == 2
    assert len(await sdk.groups.members(group_id).collect(limit=7)) == 7


async def test_break_leaves_no_connection_or_slot_behind(
    sdk: MsgFlash, server: LocalMsgFlash
) -> None:
    group_id = await seeded_group(server, 300)
    async for _ in sdk.groups.members(group_id, limit=10):
        break
    assert acquired_connections(sdk) == 0
    assert sdk._core.transport.limiter.in_flight == 0


async def test_cancelling_a_walk_mid_request_leaks_nothing(server: LocalMsgFlash) -> None:
    group_id = await seeded_group(server, 300)
    server.faults = FaultConfig({"groups.members.list": FaultProfile(latency=1.0)})
    async with MsgFlash(server.api_key, base_url=server.base_url, rate_limit=None) as client:
        walks = [
            asyncio.create_task(client.groups.members(group_id).collect(limit=300))
            for _ in range(5)
        ]
        await asyncio.sleep(0.03)
        for walk in walks:
            walk.cancel()
        results = await asyncio.gather(*walks, return_exceptions=True)
        assert all(isinstance(result, asyncio.CancelledError) for result in results)
        assert acquired_connections(client) == 0
        assert client._core.transport.limiter.in_flight == 0


async def test_an_error_mid_walk_carries_the_cursor_to_resume_from(
    server: LocalMsgFlash,
) -> None:
    group_id = await seeded_group(server, 30)
    async with MsgFlash(
        server.api_key, base_url=server.base_url, rate_limit=None, retry=RetryPolicy.none()
    ) as client:
        pages = client.groups.members(group_id, limit=10).pages()
        first = await pages.__anext__()
        server.inject_response(status=500, route="groups.members.list")
        with pytest.raises(InternalServerError) as caught:
            await pages.__anext__()
        assert caught.value.cursor == first.next_cursor
        rest = [
            m async for m in client.groups.members(group_id, limit=10, cursor=caught.value.cursor)
        ]
        assert len(first.items) + len(rest) == 30


async def test_a_server_repeating_its_cursor_raises_instead_of_looping(
    sdk: MsgFlash, server: LocalMsgFlash
) -> None:
    group_id = await seeded_group(server, 20)
    pages = sdk.groups.members(group_id, limit=10).pages()
    first = await pages.__anext__()
    server.inject_response(
        status=200,
        route="groups.members.list",
        body={"data": {"members": [], "hasMore": True, "nextCursor": first.next_cursor}},
    )
    with pytest.raises(PaginationError) as caught:
        await pages.__anext__()
    assert caught.value.cursor == first.next_cursor


# Stability: while contacts join, leave and are deleted during a walk, every member present for
# the whole walk is seen exactly once, and no member is ever seen twice.

_change = st.tuples(
    st.sampled_from(["add_new", "remove", "delete_contact", "add_existing"]), st.integers(0, 10**6)
)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    initial=st.integers(0, 120),
    limit=st.integers(1, 25),
    changes=st.lists(st.lists(_change, max_size=6), max_size=40),
    search=st.sampled_from([None, "1"]),
)
def test_members_seen_exactly_once_under_concurrent_changes(
    initial: int, limit: int, changes: list[list[tuple[str, int]]], search: str | None
) -> None:
    asyncio.run(_walk_under_changes(initial, limit, changes, search))


async def _walk_under_changes(
    initial: int, limit: int, changes: list[list[tuple[str, int]]], search: str | None
) -> None:
    async with LocalMsgFlash(rate_limit=None, request_log_size=0) as server:
        workspace = server.workspace()
        group = workspace.add_group("Walk")
        outsiders = [c.id for c in workspace.seed_contacts(20, name_prefix="Outsider")]
        workspace.add_members(group.id, [c.id for c in workspace.seed_contacts(initial)])
        stayed = set(workspace.members(group.id))
        left: set[str] = set()
        seen: list[str] = []
        async with MsgFlash(server.api_key, base_url=server.base_url, rate_limit=None) as client:
            async for page in client.groups.members(group.id, limit=limit, search=search).pages():
                seen.extend(member.id for member in page.items)
                for kind, pick in changes.pop(0) if changes else []:
                    _apply_change(server, group.id, kind, pick, outsiders, stayed, left)
        matching = {
            member
            for member in stayed
            if search is None or search in workspace.contact(member).name
        }
        twice = {member for member in seen if seen.count(member) > 1}
        # Only a member that left and joined again may come back (its addedAt moved on).
        assert twice <= left, "a member came back twice"
        assert matching <= set(seen), "a member present for the whole walk was missed"


def _apply_change(
    server: LocalMsgFlash,
    group_id: str,
    kind: str,
    pick: int,
    outsiders: list[str],
    stayed: set[str],
    left: set[str],
) -> None:
    workspace = server.workspace()
    members = workspace.members(group_id)
    if kind == "add_new":
        workspace.add_members(group_id, [workspace.seed_contacts(1)[0].id])
    elif kind == "add_existing":
        workspace.add_members(group_id, [outsiders[pick % len(outsiders)]])
    elif members:
        victim = members[pick % len(members)]
        stayed.discard(victim)
        left.add(victim)
        if kind == "remove":
            workspace.remove_members(group_id, [victim])
        else:
            workspace.delete_contact(victim)


async def _peak_memory_of_walk(client: MsgFlash, group_id: str, members: int) -> int:
    tracemalloc.reset_peak()
    before, _ = tracemalloc.get_traced_memory()
    seen = 0
    async for _ in client.groups.members(group_id, max_items=members):
        seen += 1
    _, peak = tracemalloc.get_traced_memory()
    assert seen == members
    return peak - before


async def test_a_walk_holds_one_page_however_long_the_list() -> None:
    # In process, the server's allocations count too: its request log is turned off.
    async with LocalMsgFlash(rate_limit=None, request_log_size=0) as server:
        group_id = await seeded_group(server, 30_000)
        async with MsgFlash(server.api_key, base_url=server.base_url, rate_limit=None) as client:
            await client.groups.members(group_id).first_page()  # sessions and caches warmed up
            tracemalloc.start()
            try:
                short = await _peak_memory_of_walk(client, group_id, 3_000)
                long = await _peak_memory_of_walk(client, group_id, 30_000)
            finally:
                tracemalloc.stop()
    # Ten times the members, the same peak: only the page in hand is ever held (a walk that
    # kept its members would hold megabytes more).
    assert long < short + 256 * 1024
