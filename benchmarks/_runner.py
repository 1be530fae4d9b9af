"""Runs every case the chosen number of times, with the server in a child process.

Within a repeat the request, decode and walk measurements interleave their clients block by
block (see ``_cases`` and ``_stream``); the walks measuring memory run one after the other in
fresh processes. The order
rotates from one repeat to the next, so that drifting load on the machine hits all alike.
"""

from __future__ import annotations

import sys
from functools import partial

import attrs

from ._cases import Metrics, clients_of, measure_decode, measure_requests, rotated
from ._loops import LOOPS
from ._options import (
    measure_paced_at_api_rate,
    measure_pacing,
    measure_page_sizes,
    measure_speedups,
)
from ._server import ServerProcess
from ._stream import measure_memory, measure_walks, stream_walks

__all__ = ["CASES", "FULL", "QUICK", "Runs", "Settings", "run_cases"]

Runs = dict[str, dict[str, dict[str, list[float]]]]
"""Case name to client name to metric name to the value of each repeat."""

CASES = ("get", "stream", "decode", "import", "uvloop", "options")
"""The groups of cases ``--cases`` can pick from (``uvloop`` only where uvloop is installed)."""


@attrs.frozen
class Settings:
    """Sizes and repeats of a run; the defaults are the full run."""

    requests: int = 3_000
    """Requests per client and measurement of the get case, at each concurrency."""
    members: int = 200_000
    """Members in the streamed group: each walker walks them all, in ``blocks`` stretches."""
    checkpoint: int = 20_000
    """Members streamed before the first memory reading."""
    small_members: int = 20_000
    """Members in the group walked at each page size; each variant walks them all."""
    contacts: int = 10_000
    """Contacts each client creates in the import case."""
    decode_iterations: int = 50_000
    """Contacts decoded per decoder and measurement in the decode case."""
    paced_requests: int = 20
    """Requests timed at the API's rate of 10/s."""
    repeats: int = 3
    blocks: int = 10
    """Interleaved blocks per measurement in the request and decode cases."""
    walk_blocks: int = 4
    """Interleaved blocks of the page-size measurements, each walking a quarter of the group."""
    concurrencies: tuple[int, ...] = (1, 16, 64)
    import_concurrency: int = 32
    cases: tuple[str, ...] = CASES


FULL = Settings()
QUICK = Settings(
    requests=120,
    members=2_000,
    checkpoint=200,
    small_members=500,
    contacts=200,
    decode_iterations=2_000,
    paced_requests=2,
    repeats=1,
    blocks=2,
    walk_blocks=2,
)
"""A smoke run: every case and the whole pipeline at tiny sizes, in a few seconds."""

REQUEST_CLIENTS = ("sdk", "aiohttp", "aiohttp_dicts", "httpx")
STREAM_CLIENTS = ("sdk", "aiohttp", "aiohttp_dicts")


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
    cases = settings.cases
    requests = partial(measure_requests, base_url=url, blocks=settings.blocks, shift=repeat)
    uvloop = "uvloop" in cases and "uvloop" in LOOPS
    if "get" in cases:
        for concurrency in settings.concurrencies:
            results = requests(
                clients_of(*REQUEST_CLIENTS),
                operation="get",
                requests=settings.requests,
                concurrency=concurrency,
            )
            recorder.record(f"get_c{concurrency}", results)
        # A URL per request: what yarl caches in the runs above, it parses here.
        results = requests(
            clients_of("sdk", "aiohttp", "aiohttp_dicts"),
            operation="get_each",
            requests=settings.requests,
            concurrency=64,
        )
        recorder.record("ids_c64", results)
    if uvloop:
        results = requests(
            clients_of("sdk", "aiohttp"),
            operation="get",
            requests=settings.requests,
            concurrency=64,
            loop="uvloop",
        )
        recorder.record("get_c64_uvloop", results)
    if "stream" in cases:
        walks = partial(
            measure_walks,
            url,
            members=settings.members,
            group_size=settings.members,
            blocks=settings.blocks,
            shift=repeat,
        )
        recorder.record("stream", walks(stream_walks(*STREAM_CLIENTS)))
        if uvloop:
            recorder.record("stream_uvloop", walks(stream_walks("sdk", "aiohttp"), loop="uvloop"))
        # One fresh process per walk, one after the other: their peak RSS must not mix.
        for kind in rotated(("sdk", "aiohttp"), repeat):
            recorder.record("stream_memory", {kind: measure_memory(kind, url, settings.checkpoint)})
    if "decode" in cases:
        decoded = measure_decode(settings.decode_iterations, blocks=settings.blocks, shift=repeat)
        recorder.record("decode", decoded)
    if "import" in cases:
        results = requests(
            clients_of("sdk", "aiohttp", "aiohttp_dicts"),
            operation="create",
            requests=settings.contacts,
            concurrency=settings.import_concurrency,
        )
        recorder.record(f"import_c{settings.import_concurrency}", results)
    if "options" in cases:
        gets = {"requests": settings.requests, "blocks": settings.blocks, "shift": repeat}
        recorder.record("speedups", measure_speedups(url, **gets))
        recorder.record("pacing", measure_pacing(url, **gets))
        recorder.record("pacing", measure_paced_at_api_rate(url, requests=settings.paced_requests))
        page_sizes = measure_page_sizes(
            url,
            members=settings.small_members,
            group_size=settings.small_members,
            blocks=settings.walk_blocks,
            shift=repeat,
        )
        recorder.record("page_size", page_sizes)


def run_cases(settings: Settings) -> Runs:
    """Run the cases of ``settings`` ``settings.repeats`` times; return every measurement."""
    recorder = _Recorder()
    with ServerProcess(settings.members, settings.small_members) as url:
        for repeat in range(settings.repeats):
            print(f"repeat {repeat + 1} of {settings.repeats}", file=sys.stderr, flush=True)
            _run_repeat(settings, url, repeat, recorder)
    return recorder.runs
