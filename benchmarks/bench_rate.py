"""How close to the API's 10 requests/s per key the SDK gets, and how many 429s it draws.

The local server enforces 10 requests/s per key, answers 429 without ``Retry-After`` (the
vendor documents none) and adds 0 to 50 ms of latency to every GET before its limiter sees it
(network jitter). Worker processes on one key call ``contacts.get`` as fast as their pacing
allows, four calls at a time each. Scenarios:

- ``single``: one process, the default in-process pacer;
- ``shared-N``: N processes sharing one budget through ``RedisRateLimiter``;
- ``apart-N``: N processes each with its own in-process pacer (what the shared limiter avoids).

Also the cost of one pacing turn, in-process and through Redis. Run:

    python -m benchmarks.bench_rate [--seconds 60] [--processes 4 8] [--quick]

It starts its own ``redis-server`` (Debian's package) on a free loopback port.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from msgflash_async._clock import SYSTEM_CLOCK
from msgflash_async._limiter import Pacer
from msgflash_async.testing import FaultConfig, FaultProfile, LocalMsgFlash

from ._proc import ROOT, module_command

LATENCY = (0.0, 0.05)
"""The server's random latency per GET, in seconds, before its rate limiter."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway ``redis-server`` on a free loopback port; its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("bench_rate needs redis-server (apt-get install redis-server)")
    port = _free_port()
    with tempfile.TemporaryDirectory() as folder:
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", folder],
            stdout=subprocess.DEVNULL,
        )
        try:
            for _ in range(100):
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait()


async def scenario(
    server: LocalMsgFlash, contact_id: str, processes: int, seconds: float, limiter: str
) -> dict[str, Any]:
    """Run ``processes`` workers for ``seconds``; their counts and the server's 429s."""
    start = time.time() + 2.0 + 0.3 * processes  # every worker imported and waiting
    workers = [
        await asyncio.create_subprocess_exec(
            *module_command(
                "_rate_worker",
                server.base_url,
                server.api_key,
                contact_id,
                str(start),
                str(seconds),
                limiter,
            ),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(processes)
    ]
    logged_before = len(server.requests)
    outputs = [json.loads((await worker.communicate())[0]) for worker in workers]
    statuses = [entry.status for entry in server.requests[logged_before:]]
    turns = [int(output["ok"]) for output in outputs]
    lost = sum(sum(output["errors"].values()) for output in outputs)
    return {
        "processes": processes,
        "seconds": seconds,
        "rate": round(sum(turns) / seconds, 2),
        "429s": statuses.count(429),
        "lost": lost,
        "turns": turns,
        "fairness": round(max(turns) / max(1, min(turns)), 2),
    }


async def turn_cost(redis_url: str, turns: int = 2_000) -> dict[str, float]:
    """Microseconds per pacing turn that does not have to wait, at the API's rate of 10:
    in-process, and through Redis (a fresh key's budget each time, so every turn is free)."""
    from msgflash_async.redis import RedisRateLimiter

    pacers = [Pacer(10, SYSTEM_CLOCK) for _ in range(turns)]
    started = time.perf_counter()
    for pacer in pacers:
        await pacer.wait_turn()
    memory = (time.perf_counter() - started) / turns * 1e6
    limiter = RedisRateLimiter(redis_url)
    budgets = [limiter.budget(f"{number:064x}", 10, SYSTEM_CLOCK) for number in range(turns + 1)]
    await budgets[-1].wait_turn()  # the script registered, the connection open
    started = time.perf_counter()
    for budget in budgets[:-1]:
        await budget.wait_turn()
    shared = (time.perf_counter() - started) / turns * 1e6
    await limiter.aclose()
    return {"in_process_us": round(memory, 2), "redis_us": round(shared, 1)}


async def run(seconds: float, counts: Sequence[int]) -> list[tuple[str, dict[str, Any]]]:
    """Every scenario, in order, against one local server."""
    latency = FaultProfile(latency=1.0, latency_range=LATENCY)
    results: list[tuple[str, dict[str, Any]]] = []
    with redis_server() as redis_url:
        async with LocalMsgFlash(
            rate_limit=10,
            rate_limit_retry_after=False,
            faults=FaultConfig(routes={"contacts.get": latency}),
            request_log_size=None,
        ) as server:
            contact_id = server.workspace().add_contact("Paced", "+15550000001").id
            results.append(("single", await scenario(server, contact_id, 1, seconds, "memory")))
            for count in counts:
                shared = await scenario(server, contact_id, count, seconds, redis_url)
                results.append((f"shared-{count}", shared))
                apart = await scenario(server, contact_id, count, seconds, "memory")
                results.append((f"apart-{count}", apart))
        results.append(("turn-cost", await turn_cost(redis_url)))
    return results


def main(argv: Sequence[str] | None = None) -> None:
    """Run the scenarios and print one line each."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_rate")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--processes", type=int, nargs="+", default=[4, 8])
    parser.add_argument("--quick", action="store_true", help="5 s scenarios, 4 processes")
    args = parser.parse_args(argv)
    seconds, counts = (5.0, [4]) if args.quick else (args.seconds, args.processes)
    for name, outcome in asyncio.run(run(seconds, counts)):
        print(f"{name:10} {json.dumps(outcome)}")


if __name__ == "__main__":
    main()
