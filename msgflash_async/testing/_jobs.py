"""Drives bulk jobs through their batches: in real time, or step by step for tests."""

from __future__ import annotations

import asyncio

from ._models import Job
from ._workspace import Workspace


class JobRunner:
    """Runs each job's ids in batches of ``batch_size``.

    In real time (``manual=False``) a task per job handles one batch every ``interval`` seconds.
    In manual mode nothing runs by itself: ``advance`` and ``finish`` move the jobs. Both work in
    either mode.
    """

    def __init__(self, *, batch_size: int = 500, interval: float = 0.2, manual: bool = False):
        if batch_size < 1:
            raise ValueError("the job batch size must be at least 1")
        if interval < 0:
            raise ValueError("the job batch interval must not be negative")
        self.batch_size = batch_size
        self.interval = interval
        self.manual = manual
        self._jobs: list[tuple[Workspace, Job]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, workspace: Workspace, job: Job) -> None:
        """Start running a new job."""
        self._jobs.append((workspace, job))
        if not self.manual:
            task = asyncio.get_running_loop().create_task(self._drive(workspace, job))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def advance(self, batches: int = 1) -> None:
        """Run up to ``batches`` batches of every unfinished job, without waiting."""
        for _ in range(batches):
            for workspace, job in self._unfinished():
                workspace.run_job_batch(job, self.batch_size)

    def finish(self) -> None:
        """Run every unfinished job to its end."""
        while self._unfinished():
            self.advance()

    async def close(self) -> None:
        """Stop the real-time tasks; jobs keep their current state."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _unfinished(self) -> list[tuple[Workspace, Job]]:
        self._jobs = [(workspace, job) for workspace, job in self._jobs if not job.is_terminal]
        return list(self._jobs)

    async def _drive(self, workspace: Workspace, job: Job) -> None:
        while not job.is_terminal:
            await asyncio.sleep(self.interval)
            workspace.run_job_batch(job, self.batch_size)
