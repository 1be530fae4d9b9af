"""A fleet of taskiq workers importing contacts into MsgFlash, sharing one rate budget.

One Redis carries the queue, the task results and the rate budget. Run workers, as many
processes on as many machines as you like::

    export MSGFLASH_API_KEY=msgf_live_... REDIS_URL=redis://localhost:6379/0
    taskiq worker examples.import_worker:broker --workers 4

and send them work from any process::

    await import_contact.kiq("Awa Doe", "+33612345000")
    task = await start_adding_members.kiq(group_id, contact_ids)
    started = (await task.wait_result(timeout=60)).return_value
    await finish_adding_members.kiq(started["token"])  # picked up by any worker

Each worker process builds one ``MsgFlash`` with a ``RedisRateLimiter`` at startup and closes
both at shutdown. A bulk job started by one worker is awaited by whichever worker takes
``finish_adding_members``, even after the first one restarted: the job handle's token holds
all it needs. Task results name the worker process that ran them (``worker``).
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from taskiq import SimpleRetryMiddleware, TaskiqDepends, TaskiqEvents, TaskiqState
from taskiq_redis import ListQueueBroker, RedisAsyncResultBackend

from msgflash_async import AddMembersResult, ConflictError, MsgFlash
from msgflash_async.redis import RedisRateLimiter

REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379/0")


def create_broker(redis_url: str) -> ListQueueBroker:
    """The queue (a Redis list) and the task results, on ``redis_url``; a task labelled
    ``retry_on_error`` runs again, up to 3 times, when it raises."""
    return (
        # No socket timeout: workers wait on the queue in an endless BRPOP, which redis-py 8's
        # default of 5 s would break every 5 idle seconds (taskiq-redis issue 127).
        ListQueueBroker(redis_url, queue_name="msgflash-imports", socket_timeout=None)
        .with_result_backend(RedisAsyncResultBackend(redis_url, result_ex_time=3600))
        .with_middlewares(SimpleRetryMiddleware(default_retry_count=3))
    )


broker = create_broker(REDIS_URL)


@broker.on_event(TaskiqEvents.WORKER_STARTUP)
async def open_client(state: TaskiqState) -> None:
    """One client per worker process, paced by the budget all the workers share."""
    state.rate_limiter = RedisRateLimiter(REDIS_URL)
    state.msgflash = MsgFlash(rate_limiter=state.rate_limiter)


@broker.on_event(TaskiqEvents.WORKER_SHUTDOWN)
async def close_client(state: TaskiqState) -> None:
    """Close the client, then the limiter, which the client did not create."""
    await state.msgflash.aclose()
    await state.rate_limiter.aclose()


def msgflash(state: Annotated[TaskiqState, TaskiqDepends()]) -> MsgFlash:
    """The worker's client, for tasks to depend on."""
    client: MsgFlash = state.msgflash
    return client


CLIENT: MsgFlash = TaskiqDepends(msgflash)
"""The default of a task's ``client`` parameter: taskiq passes the worker's client; senders
of the task leave it out."""


@broker.task(task_name="msgflash.import_contact", retry_on_error=True)
async def import_contact(
    name: str,
    phone: str,
    tags: list[str] | None = None,
    client: MsgFlash = CLIENT,
) -> dict[str, Any]:
    """Create a contact; ``created`` is False when a contact already held the phone.

    Safe to run again: phones are unique, so a second run (a retry, or the queue delivering
    twice) answers with the contact the first one made instead of copying it.
    """
    try:
        contact = await client.contacts.create(name=name, phone=phone, tags=tags)
    except ConflictError as error:
        if error.existing_id is None:
            raise
        return {"id": error.existing_id, "created": False, "worker": os.getpid()}
    return {"id": contact.id, "created": True, "worker": os.getpid()}


# Not retried: sending a bulk request again may start a second job.
@broker.task(task_name="msgflash.start_adding_members")
async def start_adding_members(
    group_id: str, contact_ids: list[str], client: MsgFlash = CLIENT
) -> dict[str, Any]:
    """Start adding members to a group; ``token`` is the job's handle, for any worker."""
    handle = await client.groups.add_members(group_id, contact_ids)
    return {"token": handle.token, "worker": os.getpid()}


@broker.task(task_name="msgflash.finish_adding_members", retry_on_error=True)
async def finish_adding_members(token: str, client: MsgFlash = CLIENT) -> dict[str, Any]:
    """Await the job that ``token`` names, started by this worker or another one."""
    result = await client.jobs.resume(token, AddMembersResult)
    return {**result.to_dict(), "worker": os.getpid()}
