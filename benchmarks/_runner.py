"""Runs every case the chosen number of times, with the server in a child process.

Within a repeat the request and decode cases interleave their clients block by block (see
``_cases``); the streaming walks run one after the other in fresh processes. The order
rotates from one repeat to the next, so that drifting load on the machine hits all alike.
"""

from __future__ import annotations

import sys
from functools import partial

import attrs

from ._cases import Metrics, measure_decode, measure_requests, rotated
from ._server import ServerProcess
from ._stream import measure_stream

__all__ = ["CASES", "FULL", "QUICK", "Runs", "Settings", "run_cases"]

Runs = dict[str, dict[str, dict[str, list[float]]]]
"""Case name to client name to metric name to the value of each repeat."""

CASES = ("get", "stream", "decode", "import")
"""The groups of cases ``--cases`` can pick from."""


@attrs.frozen
class Settings:
    """Sizes and repeats of a run; the defaults are the full run."""

    requests: int = 3_000
    """Requests per client and measurement of the get case, at each concurrency."""
    members: int = 200_000
    """Members in the streamed group."""
    checkpoint: int = 20_000
    """Members streamed before the first memory reading."""
    contacts: int = 10_000
    """Contacts each client creates in the import case."""
    decode_iterations: int = 50_000
    """Contacts decoded per decoder and measurement in the decode case."""
    repeats: int = 3
    blocks: int = 10
    """Interleaved blocks per measurement in the request and decode cases."""
    concurrencies: tuple[int, ...] = (1, 16, 64)
    import_concurrency: int = 32
    cases: tuple[str, ...] = CASES


FULL = Settings()
QUICK = Settings(
    requests=120,
    members=2_000,
    checkpoint=200,
    contacts=200,
    decode_iterations=2_000,
    repeats=1,
    blocks=2,
)
"""A smoke run: every case and the whole pipeline at tiny sizes, in a few seconds."""


class _Recorder:
    """Collects the metrics of every measurement and reports progress on stderr."""

    def __init__(self) -> None:
        self.runs: Runs = {}

    def record(self, case: str, results: dict[str, Metrics]) -> None:
        """Keep one run of each client of ``case``."""
        for client, metrics in results.items():
            by_metric = self.runs.setdefault(case, {}).setdefault(client, {})
            for name, value in metrics.items():
                by_metric.setdefault(name, []).append(value)
            shown = ", ".join(f"{name}={value:.4g}" for name, value in metrics.items())
            print(f"  {case} {client}: {shown}", file=sys.stderr, flush=True)


def _run_repeat(settings: Settings, url: str, repeat: int, recorder: _Recorder) -> None:
    requests = partial(measure_requests, base_url=url, blocks=settings.blocks, shift=repeat)
    if "get" in settings.cases:
        for concurrency in settings.concurrencies:
            results = requests(
                ("sdk", "aiohttp", "httpx"),
                operation="get",
                requests=settings.requests,
                concurrency=concurrency,
            )
            recorder.record(f"get_c{concurrency}", results)
    if "stream" in settings.cases:
        # One fresh process per walk, one after the other: their peak RSS must not mix.
        walks = rotated(("sdk", "aiohttp"), repeat)
        recorder.record(
            "stream", {kind: measure_stream(kind, url, settings.checkpoint) for kind in walks}
        )
    if "decode" in settings.cases:
        decoded = measure_decode(settings.decode_iterations, blocks=settings.blocks, shift=repeat)
        recorder.record("decode", decoded)
    if "import" in settings.cases:
        results = requests(
            ("sdk", "aiohttp"),
            operation="create",
            requests=settings.contacts,
            concurrency=settings.import_concurrency,
        )
        recorder.record(f"import_c{settings.import_concurrency}", results)


def run_cases(settings: Settings) -> Runs:
    """Run the cases of ``settings`` ``settings.repeats`` times; return every measurement."""
    recorder = _Recorder()
    with ServerProcess(settings.members) as url:
        for repeat in range(settings.repeats):
            print(f"repeat {repeat + 1} of {settings.repeats}", file=sys.stderr, flush=True)
            _run_repeat(settings, url, repeat, recorder)
    return recorder.runs
