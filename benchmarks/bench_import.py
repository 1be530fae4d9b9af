"""``contacts.import_many`` measured: full pace, throughput, memory, and resuming.

- ``paced``: against the local server at the API's 10 requests/s, creates per second over the
  steady state (server timestamps) against what the client's pacer allows
  (``rate`` per ``1 + SAFETY_MARGIN`` seconds). Target ≥ 0.95.
- ``throughput``: against the lean benchmark server with pacing off, ``import_many`` at
  concurrency 32 against the best hand-written pool of 32 workers calling
  ``contacts.create`` (one shared iterator, nothing else), interleaved. Target ≥ 0.9.
- ``memory``: peak RSS growth of a fresh process importing N rows from a generator, for a
  small and a large N (10,000 and 1,000,000 by default). Target: within a few MiB.
- ``resume``: an import with a checkpoint, then the same rows again with it: the second run's
  rows per second and the requests it sent (none).

Run ``python -m benchmarks.bench_import [--quick]``; it prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from msgflash_async import MsgFlash
from msgflash_async._limiter import SAFETY_MARGIN
from msgflash_async.testing import LocalMsgFlash

from ._payloads import API_KEY
from ._proc import ROOT, memory_mib, module_command
from ._server import ServerProcess

DEFAULT_OUTPUT = ROOT / "benchmarks" / "results" / "import.json"
CONCURRENCY = 32


def rows(start: int, count: int) -> Iterator[dict[str, str]]:
    """``count`` valid rows with distinct phones, numbered from ``start``."""
    for index in range(start, start + count):
        yield {"name": f"Imported {index}", "phone": f"+2299{index:08d}"}


def _client(url: str) -> MsgFlash:
    return MsgFlash(API_KEY, base_url=url, rate_limit=None, max_in_flight=64)


async def _hand_pool(client: MsgFlash, start: int, count: int) -> None:
    """The best pool a user writes by hand: workers pulling from one shared iterator."""
    source = rows(start, count)

    async def worker() -> None:
        for row in source:
            await client.contacts.create(name=row["name"], phone=row["phone"])

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


async def _throughput(url: str, count: int, blocks: int) -> dict[str, float]:
    """Rows per second of each way, over ``blocks`` interleaved blocks of ``count`` rows."""
    seconds = {"import_many": 0.0, "hand_pool": 0.0}
    async with _client(url) as client:
        await _hand_pool(client, 0, 200)  # warm-up: connections, code paths
        await client.contacts.import_many(rows(200, 200), concurrency=CONCURRENCY)
        gc.collect()
        for block in range(blocks):
            order = list(seconds) if block % 2 == 0 else list(reversed(seconds))
            for way in order:
                start = (block * 2 + (way == "hand_pool") + 1) * 1_000_000
                began = time.perf_counter()
                if way == "hand_pool":
                    await _hand_pool(client, start, count)
                else:
                    report = await client.contacts.import_many(
                        rows(start, count), concurrency=CONCURRENCY
                    )
                    assert report.created == count, report
                seconds[way] += time.perf_counter() - began
    return {way: count * blocks / spent for way, spent in seconds.items()}


async def _paced(count: int) -> dict[str, float]:
    """Creates per second at the API's rate, against what the pacer allows."""
    async with LocalMsgFlash(rate_limit=10) as server:
        async with MsgFlash(server.api_key, base_url=server.base_url, rate_limit=10) as client:
            report = await client.contacts.import_many(rows(0, count), concurrency=8)
            stats = client.stats
        created = sorted(
            datetime.fromisoformat(contact.created_at.replace("Z", "+00:00")).timestamp()
            for contact in server.workspace().contacts.values()
        )
    assert report.created == count, report
    allowed = 10 / (1 + SAFETY_MARGIN)
    # The first window's burst of 10 starts at once: the steady state follows it.
    achieved = (len(created) - 10) / (created[-1] - created[0])
    return {
        "creates_per_s": achieved,
        "pacer_allows_per_s": allowed,
        "ratio": achieved / allowed,
        "rate_limited": float(stats.rate_limited),
    }


async def _resume(url: str, count: int) -> dict[str, float]:
    """A first run with a checkpoint, then the same rows again: the re-run's speed and cost."""
    with tempfile.TemporaryDirectory() as folder:
        checkpoint = Path(folder) / "import.db"
        async with _client(url) as client:
            began = time.perf_counter()
            first = await client.contacts.import_many(
                rows(0, count), checkpoint=checkpoint, concurrency=CONCURRENCY
            )
            first_seconds = time.perf_counter() - began
        async with _client(url) as client:
            began = time.perf_counter()
            again = await client.contacts.import_many(
                rows(0, count), checkpoint=checkpoint, concurrency=CONCURRENCY
            )
            again_seconds = time.perf_counter() - began
            requests = client.stats.attempts
    assert first.created == count, first
    assert again.resumed == count, again
    return {
        "first_rows_per_s": count / first_seconds,
        "rerun_rows_per_s": count / again_seconds,
        "rerun_requests": float(requests),
    }


def _memory(url: str, count: int) -> dict[str, float]:
    """Peak RSS growth of a fresh process importing ``count`` rows."""
    run = subprocess.run(
        module_command("bench_import", "--child", url, str(count)),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


async def _child(url: str, count: int) -> dict[str, float]:
    async with _client(url) as client:
        await client.contacts.import_many(rows(0, 100), concurrency=CONCURRENCY)  # warm-up
        gc.collect()
        before, _ = memory_mib()
        began = time.perf_counter()
        report = await client.contacts.import_many(rows(1_000, count), concurrency=CONCURRENCY)
        seconds = time.perf_counter() - began
    assert report.created == count, report
    peak, _ = memory_mib()
    return {
        "rows": count,
        "peak_rss_mib": peak,
        "peak_rss_growth_mib": peak - before,
        "rows_per_s": count / seconds,
    }


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_import")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repeat")
    parser.add_argument("--repeats", type=int, help="runs of the throughput case (default 3)")
    parser.add_argument("--small", type=int, help="rows of the small memory run (10,000)")
    parser.add_argument("--large", type=int, help="rows of the large memory run (1,000,000)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--child", nargs=2, metavar=("URL", "ROWS"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f} to {max(values):.3f})"


def main(argv: Sequence[str] | None = None) -> None:
    """Run every case; print a Markdown table; write the JSON results."""
    args = _parse(argv)
    if args.child:
        print(json.dumps(asyncio.run(_child(args.child[0], int(args.child[1])))))
        return
    quick = args.quick
    repeats = args.repeats or (1 if quick else 3)
    small = args.small or (500 if quick else 10_000)
    large = args.large or (5_000 if quick else 1_000_000)
    results: dict[str, Any] = {"paced": asyncio.run(_paced(20 if quick else 150))}
    print(f"paced: {results['paced']}", file=sys.stderr, flush=True)
    with ServerProcess(100) as url:
        runs = [asyncio.run(_throughput(url, 200 if quick else 2_000, 2)) for _ in range(repeats)]
        results["throughput"] = runs
        print(f"throughput: {runs}", file=sys.stderr, flush=True)
        results["resume"] = asyncio.run(_resume(url, 200 if quick else 10_000))
        print(f"resume: {results['resume']}", file=sys.stderr, flush=True)
        results["memory"] = [_memory(url, small), _memory(url, large)]
        print(f"memory: {results['memory']}", file=sys.stderr, flush=True)
    ratios = [run["import_many"] / run["hand_pool"] for run in runs]
    small_run, large_run = results["memory"]
    lines = [
        "| case | measure | value | target |",
        "|---|---|---|---|",
        f"| paced, 10 req/s | creates/s ÷ pacer's allowance | {results['paced']['ratio']:.3f}"
        " | ≥ 0.95 |",
        f"| pacing off, c=32 | import_many ÷ hand-written pool | {_spread(ratios)} | ≥ 0.90 |",
        f"| pacing off, c=32 | import_many rows/s | "
        f"{_spread([run['import_many'] for run in runs])} | |",
        f"| resume | re-run rows/s, requests sent | {results['resume']['rerun_rows_per_s']:,.0f}"
        f", {results['resume']['rerun_requests']:.0f} | 0 requests |",
        f"| memory | peak RSS (growth during the import), {small:,} rows | "
        f"{small_run['peak_rss_mib']:.1f} MiB ({small_run['peak_rss_growth_mib']:+.1f}) | |",
        f"| memory | peak RSS (growth during the import), {large:,} rows | "
        f"{large_run['peak_rss_mib']:.1f} MiB ({large_run['peak_rss_growth_mib']:+.1f}) "
        "| within a few MiB of the line above |",
    ]
    print("\n".join(lines))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
