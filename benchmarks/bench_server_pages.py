"""Page times of the fake server's member list, shallow and deep, at several group sizes.

Keyset pagination keeps every page equally cheap, so the mean time of the first pages and of
the last pages of a full walk should match at every size. Run:

    python benchmarks/bench_server_pages.py [--sizes 10000 1000000] [--sample 50]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import aiohttp

from msgflash_async.testing import LocalMsgFlash

PAGE_SIZE = 100


async def walk(server: LocalMsgFlash, group_id: str) -> list[float]:
    """Walk the whole member list; return each page's time in seconds."""
    times: list[float] = []
    cursor: str | None = None
    async with aiohttp.ClientSession(
        base_url=server.base_url, headers={"x-api-key": server.api_key}
    ) as session:
        while True:
            params = {"limit": str(PAGE_SIZE)}
            if cursor is not None:
                params["cursor"] = cursor
            started = time.perf_counter()
            async with session.get(
                f"/api/v1/contacts/groups/{group_id}/members", params=params
            ) as response:
                response.raise_for_status()
                data = (await response.json())["data"]
            times.append(time.perf_counter() - started)
            if not data["hasMore"]:
                return times
            cursor = data["nextCursor"]


async def measure(size: int, sample: int) -> tuple[float, int, float, float]:
    """Seed a group of ``size`` members and walk it: seed seconds, pages, first and last ms."""
    async with LocalMsgFlash(rate_limit=None, request_log_size=0) as server:
        workspace = server.workspace()
        started = time.perf_counter()
        contacts = workspace.seed_contacts(size)
        group = workspace.add_group("Benchmark")
        workspace.add_members(group.id, [contact.id for contact in contacts])
        seeded = time.perf_counter() - started
        times = await walk(server, group.id)
    first = statistics.fmean(times[:sample]) * 1000
    last = statistics.fmean(times[-sample:]) * 1000
    return seeded, len(times), first, last


async def main(sizes: list[int], sample: int) -> None:
    """Print one table row per size."""
    print(f"page size {PAGE_SIZE}; mean over the first and the last {sample} pages of a walk")
    print(f"{'members':>10} {'seed s':>8} {'pages':>7} {'first ms':>9} {'last ms':>8}")
    for size in sizes:
        seeded, pages, first, last = await measure(size, sample)
        print(f"{size:>10} {seeded:>8.1f} {pages:>7} {first:>9.3f} {last:>8.3f}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--sample", type=int, default=50, help="pages averaged at each end")
    args = parser.parse_args()
    asyncio.run(main(args.sizes, args.sample))
