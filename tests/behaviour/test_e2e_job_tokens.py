"""A bulk job started by one process and awaited by another through its token (issue #10)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio

from msgflash_async import AddMembersResult, MsgFlash
from msgflash_async.testing import FakeClock, LocalMsgFlash

STARTER = """
import asyncio
import sys

from msgflash_async import MsgFlash


async def main() -> None:
    group_id, ids_file = sys.argv[1:]
    with open(ids_file) as ids:
        contact_ids = ids.read().split()
    async with MsgFlash() as client:  # key and server from the environment
        handle = await client.groups.add_members(group_id, contact_ids)
        print(handle.token)


asyncio.run(main())
"""
"""Starts a bulk add in a process of its own, prints the handle's token and exits."""


async def start_in_another_process(
    server: LocalMsgFlash, group_id: str, contact_ids: list[str], tmp_path: Path
) -> str:
    """The token that a separate Python process prints after starting the bulk add."""
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("\n".join(contact_ids))
    environment = {name: value for name, value in os.environ.items() if "MSGFLASH" not in name}
    environment.update(MSGFLASH_API_KEY=server.api_key, MSGFLASH_BASE_URL=server.base_url)
    with anyio.fail_after(60):  # a guard against a hang, not a measure
        finished = await anyio.run_process(
            [sys.executable, "-c", STARTER, group_id, str(ids_file)],
            env=environment,
            check=False,
        )
    assert finished.returncode == 0, finished.stderr.decode()
    return finished.stdout.decode().strip()


async def test_a_job_started_by_one_process_is_awaited_by_another_through_its_token(
    sdk: MsgFlash, server: LocalMsgFlash, clock: FakeClock, tmp_path: Path
) -> None:
    workspace = server.workspace()
    group = workspace.add_group("Imported")
    contact_ids = [contact.id for contact in workspace.seed_contacts(10_050)]

    token = await start_in_another_process(server, group.id, contact_ids, tmp_path)

    # 10,000 ids went to a job that has not run yet; the other 50 were answered inline.
    assert len(workspace.members(group.id)) == 50
    assert len(token) < 300  # one job and one inline result: 244 characters
    assert server.api_key not in token
    handle = sdk.jobs.resume(token, AddMembersResult)
    assert handle.progress().requested == 10_050

    result: AddMembersResult = await handle

    assert result == AddMembersResult(added=10_050, already_in_group=0, not_found=0, total=10_050)
    assert len(workspace.members(group.id)) == 10_050
    assert clock.sleeps == [2.0] * 10  # one poll per batch of 1,000, the first at once
