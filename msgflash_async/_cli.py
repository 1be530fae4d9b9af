"""The ``msgflash`` command: ``msgflash demo`` and ``msgflash server``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``msgflash demo`` or ``msgflash server [options]``; return the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="msgflash", description="Tools of the msgflash-async SDK."
    )
    parser.add_argument(
        "command",
        choices=["demo", "server"],
        help="demo: tour the SDK against a local server; server: run the local server "
        "(msgflash server --help for its options)",
    )
    command = parser.parse_args(arguments[:1]).command
    if command == "server":
        from .testing import run_server_cli

        return run_server_cli(arguments[1:])
    parser.parse_args(arguments)  # the demo takes no options
    from ._demo import run_demo

    asyncio.run(run_demo())
    return 0
