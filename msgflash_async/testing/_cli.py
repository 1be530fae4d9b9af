"""``msgflash server``: run the fake server from a terminal until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shlex
import signal
from collections.abc import Callable, Sequence
from typing import Any

from .._signals import run_until_signalled
from ._server import LocalMsgFlash


async def serve(
    *,
    seed_contacts: int = 0,
    on_ready: Callable[[LocalMsgFlash], None] | None = None,
    **options: Any,
) -> None:
    """Run ``LocalMsgFlash(**options)`` until cancelled.

    Seeds ``seed_contacts`` contacts, prints the base URL and the API key (also as
    ready-to-paste ``export MSGFLASH_...`` shell lines), then calls ``on_ready`` with the
    running server. The request log is off unless ``request_log_size`` is given.
    """
    server = LocalMsgFlash(**{"request_log_size": 0, **options})
    server.workspace().seed_contacts(seed_contacts)
    async with server:
        print(f"MsgFlash fake server listening on {server.base_url}", flush=True)
        print(f"API key: {server.api_key}", flush=True)
        print("To point the SDK and the msgflash command at it, paste:", flush=True)
        print(f"export MSGFLASH_BASE_URL={shlex.quote(server.base_url)}", flush=True)
        print(f"export MSGFLASH_API_KEY={shlex.quote(server.api_key)}", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        if on_ready is not None:
            on_ready(server)
        await asyncio.Event().wait()


def _optional_limit(value: str) -> int | None:
    number = int(value)
    return None if number <= 0 else number


def build_parser() -> argparse.ArgumentParser:
    """The ``msgflash server`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="msgflash server", description="Run the local fake MsgFlash API server."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--api-key", help="default: a generated msgf_live_ key")
    parser.add_argument("--seed-contacts", type=int, default=0, metavar="N")
    parser.add_argument(
        "--rate-limit", type=_optional_limit, default=10, help="requests/s per key; 0 for none"
    )
    parser.add_argument(
        "--no-retry-after",
        dest="rate_limit_retry_after",
        action="store_false",
        help="answer the rate limit's 429 without Retry-After, as the vendor documents it",
    )
    parser.add_argument(
        "--monthly-quota", type=_optional_limit, default=None, help="requests per month; 0 for none"
    )
    parser.add_argument("--max-contact-groups", type=int, default=10, help="-1 for no limit")
    parser.add_argument("--job-batch-size", type=int, default=500)
    parser.add_argument("--job-batch-interval", type=float, default=0.2, metavar="SECONDS")
    return parser


def run_server_cli(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (the arguments after ``msgflash server``) and serve until Ctrl-C."""
    options = build_parser().parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):  # SIGINT or SIGTERM: the server closes cleanly
        run_until_signalled(lambda: serve(**vars(options)), (signal.SIGINT, signal.SIGTERM))
    print("Stopped.")
    return 0
