"""The ``msgflash`` command.

``msgflash demo`` and ``msgflash server`` need nothing beyond the SDK and are parsed here; every
other command (``import``, ``export``, ``jobs``, ``contacts``, ``groups``) lives in
``_commands``, which needs the ``[cli]`` extra (click and rich) and is imported only for them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._errors import MissingDependencyError
from ._signals import run_until_signalled
from ._version import __version__

__all__ = ["error_line", "main"]

EXTRA_COMMANDS = ("import", "export", "jobs", "contacts", "groups")
"""The commands of the ``[cli]`` extra."""


def error_line(error: BaseException) -> str:
    """How the command reports an error: ``Error: <Class>: <message> (request_id=...)``, on one
    line; the request id is the error's or its cause's, when the server gave one."""
    message = " ".join(str(error).splitlines())
    request_id = getattr(error, "request_id", None) or getattr(error.__cause__, "request_id", None)
    suffix = f" (request_id={request_id})" if request_id else ""
    return f"Error: {type(error).__name__}: {message}{suffix}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``msgflash <command> [options]``; return the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = arguments[0] if arguments else None
    if command == "server":
        from .testing import run_server_cli

        return run_server_cli(arguments[1:])
    if command == "demo":
        _parser().parse_args(arguments)  # the demo takes no options
        from ._demo import run_demo

        run_until_signalled(run_demo)
        return 0
    try:
        from ._commands import run
    except MissingDependencyError as exc:
        return _without_the_extra(arguments, exc)
    return run(arguments)


def _parser() -> argparse.ArgumentParser:
    """The commands as argparse knows them: for ``demo``, and for when click is missing."""
    parser = argparse.ArgumentParser(
        prog="msgflash",
        description="Tools of the msgflash-async SDK.",
        formatter_class=argparse.RawDescriptionHelpFormatter,  # the pip line stays whole
        epilog=f'{", ".join(EXTRA_COMMANDS)}: these need pip install "msgflash-async[cli]"',
    )
    parser.add_argument("--version", action="version", version=f"msgflash-async {__version__}")
    parser.add_argument(
        "command",
        choices=["demo", "server", *EXTRA_COMMANDS],
        help="demo: tour the SDK against a local server; server: run the local server "
        "(msgflash server --help for its options)",
    )
    return parser


def _without_the_extra(arguments: list[str], missing: MissingDependencyError) -> int:
    """``--help`` and ``--version`` as usual (argparse exits); anything else names the
    ``pip install`` that brings the commands, on one line, and fails."""
    if not arguments or arguments[0] in ("-h", "--help", "--version"):
        _parser().parse_args(arguments[:1])
    print(error_line(missing), file=sys.stderr)
    return 1
