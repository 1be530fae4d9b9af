"""The benchmark server: a lean ``aiohttp.web`` server in its own process.

Every answer is built once at start-up, so a request costs the server only aiohttp's own
work and the client is what the benchmarks measure. It serves:

- ``GET /api/v1/contacts/{id}``: the full contact of the specification;
- ``GET /api/v1/contacts/groups/{gid}/members?limit=L&cursor=N``: page ``N`` of a group, for
  ``GROUP_ID`` at 100 a page and for ``SMALL_GROUP_ID`` at every size of ``PAGE_SIZES``;
- ``POST /api/v1/contacts``: 201 with the contact.

Run ``python -m benchmarks._server --members N --small-members M``: it prints its URL on one
line, then serves until it gets SIGTERM or SIGINT. :class:`ServerProcess` does that from the runner.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import subprocess
from collections.abc import Sequence
from types import TracebackType

import orjson
from aiohttp import web

from ._payloads import CONTACT, GROUP_ID, PAGE_SIZE, PAGE_SIZES, SMALL_GROUP_ID, members_page
from ._proc import ROOT, module_command

__all__ = ["ServerProcess", "main"]

_PREFIX = "/api/v1/contacts"
_MEMBERS_PREFIX = _PREFIX + "/groups/"
_HEADERS = {"Content-Type": "application/json", "x-request-id": "bench-0000"}


class _Answers:
    """The pre-built bodies, and the handler that picks one per request."""

    def __init__(self, total_members: int, small_members: int) -> None:
        self.contact = orjson.dumps({"data": CONTACT})
        # Group id and page size to the pages of that group at that size.
        self.pages = {(GROUP_ID, PAGE_SIZE): _pages(total_members, PAGE_SIZE)}
        for size in PAGE_SIZES:
            self.pages[SMALL_GROUP_ID, size] = _pages(small_members, size)
        self.not_found = orjson.dumps({"error": {"code": "NOT_FOUND", "message": "no route"}})
        self.bad_cursor = orjson.dumps({"error": {"code": "VALIDATION_ERROR", "message": "cursor"}})

    def _reply(self, body: bytes, status: int = 200) -> web.Response:
        return web.Response(body=body, status=status, headers=_HEADERS)

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        """Answer one request from the pre-built bodies."""
        path = request.path
        if request.method == "GET" and path.startswith(_MEMBERS_PREFIX):
            return self._members(request)
        if request.method == "GET" and path.startswith(_PREFIX + "/"):
            return self._reply(self.contact)
        if request.method == "POST" and path == _PREFIX:
            await request.read()
            return self._reply(self.contact, 201)
        return self._reply(self.not_found, 404)

    def _members(self, request: web.BaseRequest) -> web.Response:
        group_id = request.path[len(_MEMBERS_PREFIX) :].partition("/")[0]
        query = request.query
        limit, cursor = query.get("limit", ""), query.get("cursor", "0")
        pages = self.pages.get((group_id, int(limit) if limit.isdigit() else 0))
        if pages is None:
            return self._reply(self.not_found, 404)
        if not cursor.isdigit() or int(cursor) >= len(pages):
            return self._reply(self.bad_cursor, 400)
        return self._reply(pages[int(cursor)])


def _pages(total: int, page_size: int) -> list[bytes]:
    return [members_page(page, total, page_size) for page in range(max(1, -(-total // page_size)))]


async def _serve(total_members: int, small_members: int) -> None:
    answers = _Answers(total_members, small_members)
    server = web.Server(answers.handle, access_log=None)
    loop = asyncio.get_running_loop()
    listener = await loop.create_server(server, "127.0.0.1", 0, backlog=1024)
    port = listener.sockets[0].getsockname()[1]
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(f"http://127.0.0.1:{port}", flush=True)
    try:
        await stop.wait()
    finally:
        listener.close()
        await server.shutdown(1.0)
        await listener.wait_closed()


def main(argv: Sequence[str] | None = None) -> None:
    """Serve until SIGTERM; the first line printed is the server's URL."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=200_000, help="members in the group")
    parser.add_argument(
        "--small-members", type=int, default=20_000, help="members in the page-size group"
    )
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.members, args.small_members))


class ServerProcess:
    """The benchmark server in a child process: ``with ServerProcess(n, m) as url: ...``."""

    def __init__(self, total_members: int, small_members: int = 1_000) -> None:
        self.total_members = total_members
        self.small_members = small_members
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> str:
        self._process = subprocess.Popen(
            module_command(
                "_server",
                "--members",
                str(self.total_members),
                "--small-members",
                str(self.small_members),
            ),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        url = self._process.stdout.readline().strip()
        if not url.startswith("http://"):
            self._stop()
            raise RuntimeError("the benchmark server did not start")
        return url

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop()

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
