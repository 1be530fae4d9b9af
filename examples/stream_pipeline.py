"""Copy every member of a group into a SQLite table, resuming after a crash without copying
anyone twice::

    export MSGFLASH_API_KEY=msgf_live_...
    python -m examples.stream_pipeline GROUP_ID members.sqlite3

The walk holds one page of members at a time, so memory stays flat however large the group.
Each page's rows and the cursor of the page after it are committed in one SQLite transaction:
a crash (``kill -9``, Ctrl-C, a connection lost for good) loses at most the page in flight,
and the same command run again goes on from the saved cursor. The table's primary key holds
each member once: a member copied twice would fail the run rather than pass unnoticed.

``process`` is the step to change: here a member becomes its id, phone and JSON form. To
write an NDJSON or CSV file instead, ``client.groups.export_members(group_id, path,
state_file=...)`` does the same, resuming by cutting the file back to the last page written.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sqlite3
import sys
from collections.abc import Callable, Sequence
from contextlib import closing

import attrs

from msgflash_async import GroupMember, MsgFlash

SCHEMA = """
CREATE TABLE IF NOT EXISTS members (id TEXT PRIMARY KEY, phone TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS walk (
    group_id TEXT NOT NULL, cursor TEXT, copied INTEGER NOT NULL, done INTEGER NOT NULL
);
"""
"""``members``: the copies. ``walk``: one row, where the copy stands (``cursor`` is the next
page's, ``None`` before the first page and after the last one)."""

Row = tuple[str, str, str]


@attrs.frozen
class Copied:
    """What a run of ``copy_members`` did."""

    before: int
    """Members already in the table when the run started (copied by a run before it)."""
    copied: int
    """Members the run added."""


def process(member: GroupMember) -> Row:
    """The row a member becomes in the ``members`` table."""
    return member.id, member.phone, json.dumps(member.to_dict())


async def copy_members(
    client: MsgFlash,
    group_id: str,
    database: str | os.PathLike[str],
    *,
    page_size: int = 100,
    on_page: Callable[[int], object] | None = None,
) -> Copied:
    """Copy the members of ``group_id`` that ``database`` lacks into it, a page at a time.

    ``on_page`` is called with the number of members in the table after each page is
    committed. Raises ``ValueError`` if ``database`` holds another group's members.
    """
    # SQLite blocks the event loop for the milliseconds a page takes to commit: fine in a
    # script doing one thing; a server would commit in a thread (asyncio.to_thread).
    with closing(sqlite3.connect(database)) as db:
        db.executescript(SCHEMA)
        cursor, before, done = _walk(db, group_id)
        copied = before
        if not done:
            members = client.groups.members(group_id, limit=page_size, cursor=cursor)
            async for page in members.pages():
                copied += len(page.items)
                with db:  # one transaction: the page's rows and the cursor after them
                    db.executemany("INSERT INTO members VALUES (?, ?, ?)", map(process, page.items))
                    db.execute(
                        "UPDATE walk SET cursor = ?, copied = ?, done = ?",
                        (page.next_cursor, copied, page.is_last),
                    )
                if on_page is not None:
                    on_page(copied)
    return Copied(before=before, copied=copied - before)


def _walk(db: sqlite3.Connection, group_id: str) -> tuple[str | None, int, bool]:
    """Where the copy of ``group_id`` stands: the cursor, the members copied, whether done."""
    row = db.execute("SELECT group_id, cursor, copied, done FROM walk").fetchone()
    if row is None:
        with db:
            db.execute("INSERT INTO walk VALUES (?, NULL, 0, 0)", (group_id,))
        return None, 0, False
    copied_group, cursor, copied, done = row
    if copied_group != group_id:
        raise ValueError(f"the database holds the members of group {copied_group}, not {group_id}")
    return cursor, copied, bool(done)


async def run(group_id: str, database: str, page_size: int) -> Copied:
    """Copy with a client from the environment, printing the count after each page."""
    if sys.version_info < (3, 11):  # Ctrl-C cancels run: asyncio.run does so only from 3.11
        run_task = asyncio.current_task()
        assert run_task is not None
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, run_task.cancel)
    async with MsgFlash() as client:
        return await copy_members(
            client,
            group_id,
            database,
            page_size=page_size,
            on_page=lambda copied: print(f"copied {copied} members", flush=True),
        )


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: 0 when every member is copied, 130 on Ctrl-C."""
    parser = argparse.ArgumentParser(description="Copy a group's members into SQLite.")
    parser.add_argument("group_id")
    parser.add_argument("database", help="the SQLite file; the same one resumes a copy")
    parser.add_argument("--page-size", type=int, default=100)
    arguments = parser.parse_args(argv)
    try:
        copied = asyncio.run(run(arguments.group_id, arguments.database, arguments.page_size))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted: run the same command again to resume", file=sys.stderr)
        return 130
    print(f"done: {copied.before + copied.copied} members, {copied.before} copied before")
    return 0


if __name__ == "__main__":
    sys.exit(main())
