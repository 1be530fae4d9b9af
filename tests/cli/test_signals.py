"""``run_until_signalled``: a signal cancels the command's coroutine, its clean-up runs, and the
process ends, on every CPython (3.10's ``asyncio.run`` could hang on Ctrl-C)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time

import anyio
import pytest

from msgflash_async._signals import run_until_signalled

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

WAIT = 20.0
"""Seconds a child may take to start or to end: a loaded machine is slow, never this slow."""

BUSY = """
import asyncio, signal, sys
from msgflash_async._signals import run_until_signalled

async def spin():
    while True:
        await asyncio.sleep(0)

async def main():
    tasks = [asyncio.ensure_future(spin()) for _ in range(20)]
    print("ready", flush=True)
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.sleep(0.01)
        print("cleaned up", flush=True)
        if sys.argv[1] == "slow":
            print("cleaning slowly", flush=True)
            await asyncio.sleep(3600)

try:
    run_until_signalled(main, [signal.Signals[sys.argv[2]]])
except KeyboardInterrupt:
    print("interrupted", flush=True)
    raise SystemExit(130)
"""
"""A busy loop (20 tasks yielding to one another), the shape that hung 3.10's asyncio.run."""


def start(*arguments: str) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", BUSY, *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "ready\n"
    return child


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_cancels_a_busy_loop_which_cleans_up_and_ends(stop: signal.Signals) -> None:
    # Each try lands the signal at another point of the loop: with asyncio.run on 3.10, about
    # four in ten hung here.
    for delay in (0.0, 0.017, 0.037, 0.061):
        child = start("quick", stop.name)
        time.sleep(delay)
        child.send_signal(stop)
        output, errors = child.communicate(timeout=WAIT)

        assert (child.returncode, errors) == (130, "")
        assert output == "cleaned up\ninterrupted\n"


def test_a_second_ctrl_c_during_a_slow_clean_up_ends_it_at_once() -> None:
    child = start("slow", "SIGINT")
    assert child.stdout is not None
    child.send_signal(signal.SIGINT)
    assert child.stdout.readline() == "cleaned up\n"
    assert child.stdout.readline() == "cleaning slowly\n"
    child.send_signal(signal.SIGINT)
    output, errors = child.communicate(timeout=WAIT)

    assert child.returncode == 130
    assert output == "interrupted\n"
    assert "KeyboardInterrupt" not in errors


def test_a_signal_not_listed_keeps_its_default_effect() -> None:
    child = start("quick", "SIGINT")
    child.send_signal(signal.SIGTERM)
    output, _ = child.communicate(timeout=WAIT)

    assert child.returncode == -signal.SIGTERM
    assert output == ""  # killed: no clean-up


def test_the_result_comes_back_and_the_handlers_go() -> None:
    async def work() -> str:
        await asyncio.sleep(0)
        return "done"

    assert run_until_signalled(work, (signal.SIGINT, signal.SIGTERM)) == "done"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_an_error_and_a_cancellation_not_from_a_signal_come_back_as_they_are() -> None:
    async def fails() -> None:
        raise LookupError("no such thing")

    async def cancels_itself() -> None:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        await asyncio.sleep(0)

    with pytest.raises(LookupError, match="no such thing"):
        run_until_signalled(fails)
    with pytest.raises(asyncio.CancelledError):
        run_until_signalled(cancels_itself)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


async def test_off_the_main_thread_it_runs_with_the_signals_left_alone() -> None:
    async def work() -> str:
        assert threading.current_thread() is not threading.main_thread()
        return "done in a thread"

    before = signal.getsignal(signal.SIGINT)  # the test's own runner has one
    assert await anyio.to_thread.run_sync(run_until_signalled, work) == "done in a thread"
    assert signal.getsignal(signal.SIGINT) is before
