"""Walking a group's members: the SDK's paginator against hand-written cursor loops.

Speed is measured in one process, the walkers taking turns over stretches of the group in
interleaved blocks, as the request cases do (``measure_walks``). Memory is measured by full
walks, each in a fresh process (``python -m benchmarks._stream``, via ``measure_memory``) so
that the peak RSS of one client cannot mask the other's; the child prints one JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, Protocol

import aiohttp
import orjson

from msgflash_async import GroupMember, MsgFlash

from ._cases import Metrics, rotated
from ._clients import HEADERS, parse_time
from ._loops import run
from ._payloads import API_KEY, GROUP_ID, PAGE_SIZE
from ._proc import ROOT, memory_mib, module_command

__all__ = ["WALKERS", "Walk", "Walker", "measure_memory", "measure_walks", "stream_walks"]

See = Callable[[object], None]
"""Called with each member of a walk."""


class Walker(Protocol):
    """A client that walks a group's members, page after page, from a cursor."""

    async def walk(
        self, see: See, *, group_id: str, limit: int, cursor: str | None, max_items: int | None
    ) -> None:
        """Walk ``group_id`` from ``cursor`` (the first page if ``None``) to its end, or until
        at least ``max_items`` members are seen; pass each member to ``see``."""
        ...

    async def aclose(self) -> None:
        """Release the connections."""
        ...


class _SdkWalker:
    def __init__(self, url: str) -> None:
        self._client = MsgFlash(API_KEY, base_url=url, rate_limit=None)

    async def walk(
        self, see: See, *, group_id: str, limit: int, cursor: str | None, max_items: int | None
    ) -> None:
        members = self._client.groups.members(
            group_id, limit=limit, cursor=cursor, max_items=max_items
        )
        async for member in members:
            see(member)

    async def aclose(self) -> None:
        await self._client.aclose()


class _AiohttpWalker:
    """The hand-written walk: one ``GroupMember`` constructor call per member, inline."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._session = aiohttp.ClientSession(headers=HEADERS)

    async def _page(self, group_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
        params = {"limit": str(limit)}
        if cursor is not None:
            params["cursor"] = cursor
        url = f"{self._url}/api/v1/contacts/groups/{group_id}/members"
        async with self._session.get(url, params=params) as response:
            if response.status != 200:
                raise RuntimeError(f"unexpected HTTP {response.status}")
            body = await response.read()
        page: dict[str, Any] = orjson.loads(body)["data"]
        return page

    async def _member_lists(
        self, group_id: str, limit: int, cursor: str | None, max_items: int | None
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Each page's members as orjson decoded them, until the last page or ``max_items``."""
        seen = 0
        while True:
            page = await self._page(group_id, limit, cursor)
            items: list[dict[str, Any]] = page["members"]
            yield items
            seen += len(items)
            if not page["hasMore"] or (max_items is not None and seen >= max_items):
                return
            cursor = page["nextCursor"]

    async def walk(
        self, see: See, *, group_id: str, limit: int, cursor: str | None, max_items: int | None
    ) -> None:
        async for items in self._member_lists(group_id, limit, cursor, max_items):
            for item in items:
                see(
                    GroupMember(
                        item["id"],
                        item["name"],
                        item["phone"],
                        tuple(item["tags"]),
                        item["meta"],
                        item["temperature"],
                        parse_time(item["createdAt"]),
                        parse_time(item["updatedAt"]),
                        parse_time(item["addedAt"]),
                    )
                )

    async def aclose(self) -> None:
        await self._session.close()


class _AiohttpDictWalker(_AiohttpWalker):
    """The hand-written walk stopping at orjson's dicts."""

    async def walk(
        self, see: See, *, group_id: str, limit: int, cursor: str | None, max_items: int | None
    ) -> None:
        async for items in self._member_lists(group_id, limit, cursor, max_items):
            for item in items:
                see(item)


WALKERS: dict[str, Callable[[str], Walker]] = {
    "sdk": _SdkWalker,
    "aiohttp": _AiohttpWalker,
    "aiohttp_dicts": _AiohttpDictWalker,
}
"""The walkers by the name the results use; make them in a running loop."""

Walk = tuple[str, str, int, Callable[[], contextlib.AbstractContextManager[object]]]
"""A way to walk: the walker's name, the group, the page size and a context to walk in."""


class _Counter:
    def __init__(self) -> None:
        self.count = 0

    def see(self, member: object) -> None:
        self.count += 1


async def _walk_blocks(
    url: str, walks: Mapping[str, Walk], segment: int, pages: int, blocks: int, shift: int
) -> dict[str, Metrics]:
    counters = {name: _Counter() for name in walks}
    wall = dict.fromkeys(walks, 0.0)
    cpu = dict.fromkeys(walks, 0.0)
    async with contextlib.AsyncExitStack() as stack:
        walkers: dict[str, Walker] = {}
        for name, (kind, group_id, limit, within) in walks.items():
            walkers[name] = walker = WALKERS[kind](url)
            stack.push_async_callback(walker.aclose)
            with within():  # warm-up: one page
                await walker.walk(
                    counters[name].see, group_id=group_id, limit=limit, cursor=None, max_items=1
                )
            counters[name].count = 0
        gc.collect()
        for block in range(blocks):
            for name in rotated(list(walks), shift + block):
                kind, group_id, limit, within = walks[name]
                # Each block walks its own stretch, from the page after the one it starts at.
                first_page = block * segment // limit % pages
                cursor = str(first_page) if first_page else None
                with within():
                    started_cpu, started = time.process_time(), time.perf_counter()
                    await walkers[name].walk(
                        counters[name].see,
                        group_id=group_id,
                        limit=limit,
                        cursor=cursor,
                        max_items=segment,
                    )
                    cpu[name] += time.process_time() - started_cpu
                    wall[name] += time.perf_counter() - started
    return {
        name: {
            "members_per_s": counters[name].count / wall[name],
            "cpu_us_per_member": cpu[name] / counters[name].count * 1e6,
        }
        for name in walks
    }


def measure_walks(
    url: str,
    walks: Mapping[str, Walk],
    *,
    members: int,
    group_size: int,
    blocks: int,
    shift: int,
    loop: str = "asyncio",
) -> dict[str, Metrics]:
    """Walk about ``members`` members with each of ``walks`` in one process: ``blocks``
    stretches each, taking turns in an order rotated by ``shift``, on the ``loop`` named.

    ``group_size`` is the number of members in the groups walked (they are all the same size).
    """
    segment = max(1, members // blocks)
    pages = max(1, min(-(-group_size // limit) for _, _, limit, _ in walks.values()))
    return run(_walk_blocks(url, walks, segment, pages, blocks, shift), loop)


def stream_walks(*kinds: str) -> dict[str, Walk]:
    """The walks of the streaming case, 100 members a page, by the walkers named ``kinds``."""
    return {kind: (kind, GROUP_ID, PAGE_SIZE, contextlib.nullcontext) for kind in kinds}


# --- memory: a full walk in a fresh process ----------------------------------------------------


class _Tally:
    """Counts the members seen and notes the memory after the first ``checkpoint``."""

    def __init__(self, checkpoint: int) -> None:
        self.count = 0
        self.checkpoint = checkpoint
        self.at_checkpoint = (0.0, 0.0)

    def see(self, member: object) -> None:
        """Count one member."""
        self.count += 1
        if self.count == self.checkpoint:
            self.at_checkpoint = memory_mib()


async def _full_walk(kind: str, url: str, see: See) -> None:
    walker = WALKERS[kind](url)
    try:
        await walker.walk(see, group_id=GROUP_ID, limit=PAGE_SIZE, cursor=None, max_items=None)
    finally:
        await walker.aclose()


def _memory(kind: str, url: str, checkpoint: int) -> Metrics:
    tally = _Tally(checkpoint)
    gc.collect()
    run(_full_walk(kind, url, tally.see))
    peak, current = memory_mib()
    peak_at_checkpoint, current_at_checkpoint = tally.at_checkpoint
    # Linux updates VmHWM lazily, so a later reading can come out a little lower.
    peak = max(peak, peak_at_checkpoint)
    return {
        "members": tally.count,
        "peak_rss_mib_at_checkpoint": peak_at_checkpoint,
        "rss_mib_at_checkpoint": current_at_checkpoint,
        "peak_rss_mib_at_end": peak,
        "rss_mib_at_end": current,
        "peak_rss_growth_mib": peak - peak_at_checkpoint,
    }


def measure_memory(kind: str, url: str, checkpoint: int) -> Metrics:
    """Walk the whole group with ``kind``'s walker in a fresh process; its memory readings."""
    output = subprocess.run(
        module_command("_stream", kind, url, "--checkpoint", str(checkpoint)),
        cwd=ROOT,
        check=True,
        stdout=subprocess.PIPE,  # stderr passes through: warnings and errors stay visible
        text=True,
        timeout=600,
    ).stdout
    metrics: Metrics = json.loads(output.strip().splitlines()[-1])
    return metrics


def main(argv: Sequence[str] | None = None) -> None:
    """Walk the group once and print the memory readings as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=sorted(WALKERS))
    parser.add_argument("url")
    parser.add_argument("--checkpoint", type=int, required=True, help="members before the RSS note")
    args = parser.parse_args(argv)
    print(json.dumps(_memory(args.kind, args.url, args.checkpoint)), flush=True)


if __name__ == "__main__":
    main()
