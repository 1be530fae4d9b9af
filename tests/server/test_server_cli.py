"""The ``msgflash server`` command: ``serve`` and ``run_server_cli``."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import aiohttp
import pytest
from server_support import call

from msgflash_async.testing import LocalMsgFlash, serve
from msgflash_async.testing._cli import build_parser


async def test_serve_seeds_prints_and_stops_when_cancelled(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ready: asyncio.Future[LocalMsgFlash] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve(port=0, seed_contacts=25, on_ready=ready.set_result))
    server = await asyncio.wait_for(ready, 5)

    async with aiohttp.ClientSession(
        base_url=server.base_url, headers={"x-api-key": server.api_key}
    ) as http:
        reply = await call(http, "GET", "/contacts")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with pytest.raises(aiohttp.ClientConnectionError):
            await call(http, "GET", "/contacts")

    assert reply.data["total"] == 25
    out = capsys.readouterr().out
    assert f"listening on {server.base_url}" in out
    assert f"API key: {server.api_key}" in out


def test_the_parser_maps_every_option() -> None:
    options = build_parser().parse_args(
        ["--port", "0", "--seed-contacts", "5", "--rate-limit", "0", "--monthly-quota", "100",
         "--max-contact-groups", "-1", "--job-batch-size", "10", "--job-batch-interval", "0.5",
         "--api-key", "msgf_live_x", "--host", "::1", "--no-retry-after"]
    )  # fmt: skip

    assert build_parser().parse_args([]).rate_limit_retry_after is True
    assert vars(options) == {
        "host": "::1",
        "port": 0,
        "api_key": "msgf_live_x",
        "seed_contacts": 5,
        "rate_limit": None,
        "rate_limit_retry_after": False,
        "monthly_quota": 100,
        "max_contact_groups": -1,
        "job_batch_size": 10,
        "job_batch_interval": 0.5,
    }


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT is POSIX")
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
async def test_the_command_serves_until_ctrl_c_or_sigterm(stop: signal.Signals) -> None:
    script = "from msgflash_async.testing import run_server_cli; raise SystemExit(run_server_cli())"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, "--port", "0", "--seed-contacts", "3",
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )  # fmt: skip
    assert process.stdout is not None
    first_line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
    key_line = (await process.stdout.readline()).decode()
    base_url = first_line.rsplit(" ", 1)[1].strip()
    api_key = key_line.split(": ", 1)[1].strip()

    async with aiohttp.ClientSession(base_url=base_url, headers={"x-api-key": api_key}) as http:
        reply = await call(http, "GET", "/contacts")
    process.send_signal(stop)
    rest = await asyncio.wait_for(process.stdout.read(), 10)

    assert reply.data["total"] == 3
    assert await process.wait() == 0
    assert rest.decode().strip().endswith("Stopped.")
