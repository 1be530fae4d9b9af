"""Run a command line's coroutine so that a signal cancels it cleanly, on every CPython.

From Python 3.11 ``asyncio.run`` turns Ctrl-C into a cancellation of the main task. On 3.10
it raises KeyboardInterrupt wherever the event loop happens to be: raised after the loop took
a task's step off its queue and before it ran it, it strands that task, and the loop's close
then waits for it forever (a busy loop did so in 24 of 60 tries). A handler registered with
the loop runs as one of the loop's callbacks, never in the middle of another.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable, Collection
from typing import TypeVar

__all__ = ["run_until_signalled"]

T = TypeVar("T")


class _Signalled(Exception):
    """The main task ended because a signal cancelled it."""


def run_until_signalled(
    work: Callable[[], Awaitable[T]],
    signals: Collection[signal.Signals] = (signal.SIGINT,),
) -> T:
    """Run ``work()`` in a new event loop; the first of ``signals`` cancels it, and once its
    clean-up has run, ``KeyboardInterrupt`` is raised.

    The handlers go at the first signal: a second one during a slow clean-up has its default
    effect (Ctrl-C raises KeyboardInterrupt at once). Where the loop takes no handlers (Windows,
    a thread other than the main one), the signals keep their default effect throughout.
    """
    try:
        return asyncio.run(_cancelled_by(work, signals))
    except _Signalled:
        raise KeyboardInterrupt from None


async def _cancelled_by(work: Callable[[], Awaitable[T]], signals: Collection[signal.Signals]) -> T:
    """``work()``, cancelled by the first of ``signals``; ``_Signalled`` if it was."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    installed: list[signal.Signals] = []
    received = False

    def remove_handlers() -> None:
        while installed:
            loop.remove_signal_handler(installed.pop())

    def cancel() -> None:
        nonlocal received
        received = True
        remove_handlers()
        task.cancel()

    try:
        for number in signals:
            loop.add_signal_handler(number, cancel)
            installed.append(number)
    except (NotImplementedError, RuntimeError):  # Windows; a thread other than the main one
        remove_handlers()
    try:
        return await work()
    except asyncio.CancelledError:
        if received:
            raise _Signalled from None
        raise
    finally:
        remove_handlers()
