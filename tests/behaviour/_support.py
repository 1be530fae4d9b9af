"""Helpers for the end-to-end tests."""

from __future__ import annotations

from msgflash_async.testing import FakeClock, LocalMsgFlash


def jobs_clock(server: LocalMsgFlash) -> FakeClock:
    """Fake time whose every sleep runs one batch of the server's jobs.

    With it, awaiting a job handle costs no real waiting, and every poll sees one more batch.
    """
    return FakeClock(0.0, on_sleep=lambda _: server.advance_jobs(1))
