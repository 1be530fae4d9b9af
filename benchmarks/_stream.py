"""Streaming a group's members: the SDK's paginator against a hand-written cursor loop.

Each walk runs in a fresh process (``python -m benchmarks._stream``) so that the peak RSS
of one client cannot mask the other's; the child prints its metrics as one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import time
from collections.abc import Sequence
from typing import Any

import aiohttp
import orjson

from msgflash_async import GroupMember, MsgFlash

from ._cases import Metrics
from ._clients import HEADERS
from ._payloads import API_KEY, GROUP_ID, PAGE_SIZE, member_from_json
from ._proc import ROOT, memory_mib, module_command

__all__ = ["STREAMERS", "measure_stream"]


class _Tally:
    """Counts the members seen and notes the memory after the first ``checkpoint``."""

    def __init__(self, checkpoint: int) -> None:
        self.count = 0
        self.checkpoint = checkpoint
        self.at_checkpoint = (0.0, 0.0)

    def see(self, member: GroupMember) -> None:
        """Count one member."""
        self.count += 1
        if self.count == self.checkpoint:
            self.at_checkpoint = memory_mib()


async def _walk_sdk(base_url: str, tally: _Tally) -> None:
    async with MsgFlash(API_KEY, base_url=base_url, rate_limit=None) as client:
        async for member in client.groups.members(GROUP_ID, limit=PAGE_SIZE):
            tally.see(member)


async def _walk_aiohttp(base_url: str, tally: _Tally) -> None:
    url = f"{base_url}/api/v1/contacts/groups/{GROUP_ID}/members"
    params = {"limit": str(PAGE_SIZE)}
    async with aiohttp.ClientSession() as session:
        while True:
            async with session.get(url, params=params, headers=HEADERS) as response:
                body = await response.read()
            if response.status != 200:
                raise RuntimeError(f"unexpected HTTP {response.status}")
            page: dict[str, Any] = orjson.loads(body)["data"]
            for item in page["members"]:
                tally.see(member_from_json(item))
            cursor = page["nextCursor"]
            if not page["hasMore"] or cursor is None:
                return
            params = {"limit": str(PAGE_SIZE), "cursor": cursor}


STREAMERS = {"sdk": _walk_sdk, "aiohttp": _walk_aiohttp}
"""The walks by the name the results use."""


def _run(kind: str, base_url: str, checkpoint: int) -> Metrics:
    tally = _Tally(checkpoint)
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    asyncio.run(STREAMERS[kind](base_url, tally))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    peak, current = memory_mib()
    peak_at_checkpoint, current_at_checkpoint = tally.at_checkpoint
    # Linux updates VmHWM lazily, so a later reading can come out a little lower.
    peak = max(peak, peak_at_checkpoint)
    return {
        "members": tally.count,
        "members_per_s": tally.count / wall,
        "cpu_us_per_member": cpu / tally.count * 1e6,
        "peak_rss_mib_at_checkpoint": peak_at_checkpoint,
        "rss_mib_at_checkpoint": current_at_checkpoint,
        "peak_rss_mib_at_end": peak,
        "rss_mib_at_end": current,
        "peak_rss_growth_mib": peak - peak_at_checkpoint,
    }


def measure_stream(kind: str, base_url: str, checkpoint: int) -> Metrics:
    """Walk the whole group with ``kind``'s client in a fresh process; return its metrics."""
    output = subprocess.run(
        module_command("_stream", kind, base_url, "--checkpoint", str(checkpoint)),
        cwd=ROOT,
        check=True,
        stdout=subprocess.PIPE,  # stderr passes through: warnings and errors stay visible
        text=True,
        timeout=600,
    ).stdout
    metrics: Metrics = json.loads(output.strip().splitlines()[-1])
    return metrics


def main(argv: Sequence[str] | None = None) -> None:
    """Walk the group once and print the metrics as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=sorted(STREAMERS))
    parser.add_argument("base_url")
    parser.add_argument("--checkpoint", type=int, required=True, help="members before the RSS note")
    args = parser.parse_args(argv)
    print(json.dumps(_run(args.kind, args.base_url, args.checkpoint)), flush=True)


if __name__ == "__main__":
    main()
