"""The ``msgflash`` commands of the ``[cli]`` extra, on click and rich.

Only ``msgflash_async._cli`` imports this package, and only for these commands; without click
or rich it raises ``MissingDependencyError`` naming the extra.
"""

from __future__ import annotations

from collections.abc import Sequence

from .._errors import MissingDependencyError

try:
    import click
    import rich  # noqa: F401  # the submodules use it; missing, the extra is incomplete
except ImportError as exc:
    raise MissingDependencyError(exc.name or "click and rich", "cli") from None

from .._client import DEFAULT_POLL_INTERVAL
from .._signals import run_until_signalled
from .._version import __version__
from ._contacts import contacts
from ._export import export
from ._groups import groups
from ._import import import_file
from ._jobs import jobs
from ._shell import App, Settings

__all__ = ["app", "run"]


@click.group(
    cls=App,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Set MSGFLASH_DEBUG=1 to see the traceback of an error.",
)
@click.version_option(
    __version__, "-V", "--version", prog_name="msgflash-async", message="%(prog)s %(version)s"
)
@click.option(
    "--base-url",
    metavar="URL",
    help="The API server; default: $MSGFLASH_BASE_URL, else the public API.",
)
@click.option(
    "--rate-limit",
    type=click.IntRange(min=0),
    metavar="N",
    default=10,
    show_default=True,
    envvar="MSGFLASH_RATE_LIMIT",
    show_envvar=True,
    help="Requests per second for the key, as the API allows; 0 turns pacing off.",
)
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_POLL_INTERVAL,
    show_default=True,
    envvar="MSGFLASH_POLL_INTERVAL",
    show_envvar=True,
    metavar="SECONDS",
    help="Seconds between two polls of a bulk job.",
)
@click.pass_context
def app(ctx: click.Context, base_url: str | None, rate_limit: int, poll_interval: float) -> None:
    """Import, export and manage MsgFlash contacts from the command line.

    The API key comes from MSGFLASH_API_KEY (never from the command line, which other users
    of the machine can see), a team key's team id from MSGFLASH_TEAM_ID. Exit status: 0 all
    done, 1 an API or file error or rows not imported, 2 a usage or configuration error,
    130 interrupted.
    """
    ctx.obj = Settings(
        base_url=base_url, rate_limit=rate_limit or None, poll_interval=poll_interval
    )


# ``_cli.main`` runs these two before click is even imported; here they are listed in --help,
# and run when the global options come first (``msgflash --rate-limit 0 server``).
@app.command(context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
def server(arguments: tuple[str, ...]) -> None:
    """Run the local fake API server (see msgflash server --help)."""
    from ..testing import run_server_cli

    raise click.exceptions.Exit(run_server_cli(arguments))


@app.command()
def demo() -> None:
    """Tour the SDK against a local server, in seconds."""
    from .._demo import run_demo

    run_until_signalled(run_demo)


for command in (import_file, export, jobs, contacts, groups):
    app.add_command(command)


def run(arguments: Sequence[str]) -> int:
    """Run the command line ``arguments``; return the exit status."""
    try:
        app.main(list(arguments), prog_name="msgflash")
    except SystemExit as exc:  # standalone mode always ends so
        return 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
