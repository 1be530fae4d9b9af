"""``msgflash demo``: a tour of the SDK against the bundled local server, in seconds."""

from __future__ import annotations

import time
from collections.abc import Callable

from ._client import DEFAULT_POLL_INTERVAL, MsgFlash
from ._jobs import JobProgress

__all__ = ["run_demo"]

DEMO_MEMBERS = 5_000


async def run_demo(
    *,
    members: int = DEMO_MEMBERS,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    echo: Callable[[str], None] = print,
) -> None:
    """Start a local server, then create, group, stream and bulk delete contacts through it."""
    from .testing import LocalMsgFlash  # the server is only needed here, not by the SDK

    started = time.monotonic()

    def say(message: str) -> None:
        echo(f"[{time.monotonic() - started:5.1f}s] {message}")

    def show(progress: JobProgress) -> None:
        done = f"{progress.processed}/{progress.requested}"
        say(f"  job {progress.status}: {done} ({progress.percent}%)")

    async with LocalMsgFlash() as server:
        say(f"local MsgFlash server on {server.base_url} (10 requests/s per key, like the API)")
        async with MsgFlash(
            server.api_key, base_url=server.base_url, job_poll_interval=poll_interval
        ) as client:
            created = [
                await client.contacts.create(
                    name=name, phone=f"+2299700000{index}", tags=["demo"], meta={"source": "demo"}
                )
                for index, name in enumerate(["Awa Doe", "Kofi Mensah", "Ama Owusu"], start=1)
            ]
            for contact in created:
                say(f"created contact {contact.name} {contact.phone} -> {contact.id}")
            seeded = server.workspace().seed_contacts(members - len(created))
            say(f"seeded {len(seeded):,} more contacts straight into the server's memory")
            ids = [contact.id for contact in created] + [contact.id for contact in seeded]

            group = await client.groups.create(name="Demo group", color="#25D366")
            say(f"created group {group.name!r} -> {group.id}")

            adding = await client.groups.add_members(group.id, ids)
            say(f"adding {len(ids):,} members: the server queued job {adding.id}")
            added = await adding.wait(on_progress=show)
            say(
                f"added {added.added:,}, already in group {added.already_in_group}, "
                f"not found {added.not_found}"
            )

            count = 0
            async for member in client.groups.members(group.id, search="Kofi"):
                say(f"search 'Kofi' found {member.name} (joined {member.added_at:%H:%M:%S})")
            async for page in client.groups.members(group.id).pages():
                count += len(page.items)
            say(f"streamed {count:,} members page by page ({count // 100} pages of 100)")

            deleting = await client.contacts.bulk_delete(ids)
            say(f"bulk deleting {len(ids):,} contacts: job {deleting.id}")
            deleted = await deleting.wait(on_progress=show)
            say(f"deleted {deleted.deleted:,}, not found {deleted.not_found}")

            group = await client.groups.get(group.id)
            say(f"group {group.name!r} now has {group.contact_count} members; done")
