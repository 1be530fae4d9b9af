"""One worker process of ``bench_rate``: GETs on one key until its time is up.

Run as ``python -m benchmarks._rate_worker URL KEY CONTACT_ID START SECONDS LIMITER``; prints
one JSON line: the calls that succeeded and the errors by class. ``LIMITER`` is ``memory`` (the
in-process pacer) or a Redis URL (the shared limiter).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter

from msgflash_async import MsgFlash, MsgFlashError, RateLimiter

CONCURRENCY = 4
"""Calls each worker keeps going: enough to use every turn its pacer gives."""


async def work(
    url: str, key: str, contact_id: str, start: float, seconds: float, limiter_name: str
) -> dict[str, object]:
    """Call until ``start + seconds`` (wall clock), starting at ``start``."""
    limiter: RateLimiter | None = None
    if limiter_name != "memory":
        from msgflash_async.redis import RedisRateLimiter

        limiter = RedisRateLimiter(limiter_name)
    errors: Counter[str] = Counter()
    succeeded = 0
    await asyncio.sleep(max(0.0, start - time.time()))
    end = start + seconds
    async with MsgFlash(key, base_url=url, rate_limiter=limiter) as client:

        async def loop() -> None:
            nonlocal succeeded
            while time.time() < end:
                try:
                    await client.contacts.get(contact_id)
                except MsgFlashError as exc:
                    errors[type(exc).__name__] += 1
                else:
                    succeeded += time.time() <= end  # calls ending late are not counted

        await asyncio.gather(*(loop() for _ in range(CONCURRENCY)))
    if limiter is not None:
        await limiter.aclose()
    return {"ok": succeeded, "errors": dict(errors)}


def main() -> None:
    """Parse the arguments, work, print the JSON line."""
    url, key, contact_id, start, seconds, limiter = sys.argv[1:7]
    outcome = asyncio.run(work(url, key, contact_id, float(start), float(seconds), limiter))
    print(json.dumps(outcome))


if __name__ == "__main__":
    main()
