"""A smoke run of the benchmarks: the whole pipeline at tiny sizes, with no timing checks."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
UVLOOP = importlib.util.find_spec("uvloop") is not None
"""uvloop is in the bench group wherever it builds (not on Windows): its cases run if present."""

REQUESTS = {"sdk", "aiohttp", "aiohttp_dicts", "httpx"}
EXPECTED = {
    "get_c1": REQUESTS,
    "get_c16": REQUESTS,
    "get_c64": REQUESTS,
    "ids_c64": {"sdk", "aiohttp", "aiohttp_dicts"},
    "stream": {"sdk", "aiohttp", "aiohttp_dicts"},
    "stream_memory": {"sdk", "aiohttp"},
    "decode": {"sdk_model", "orjson_dict", "hand_written"},
    "import_c32": {"sdk", "aiohttp", "aiohttp_dicts"},
    "speedups": {"speedups", "no_speedups"},
    "pacing": {"off", "unreached_rate", "rate_10"},
    "page_size": {"limit_10", "limit_25", "limit_50", "limit_100", "limit_100_no_speedups"},
    **(
        {
            "get_c64_uvloop": {"sdk", "aiohttp"},
            "stream_uvloop": {"sdk", "aiohttp"},
            "loop_get_c64": {"asyncio", "uvloop"},
            "loop_stream": {"asyncio", "uvloop"},
        }
        if UVLOOP
        else {}
    ),
}
MAY_BE_ZERO = {"peak_rss_growth_mib"}
"""Memory growth between two readings can be nil; every other number must be positive."""


def _run_quick(output: Path) -> subprocess.CompletedProcess[str]:
    # PYTHONWARNINGS reaches the server and stream processes too.
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--output", str(output)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_quick_run_reports_every_case(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    run = _run_quick(output)
    assert run.returncode == 0, run.stderr
    for leak in ("Unclosed", "Exception ignored", "Traceback"):
        assert leak not in run.stderr, run.stderr
    assert "| case | metric |" in run.stdout

    document: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
    assert document["machine"]["nproc"] >= 1
    cases = document["cases"]
    assert set(cases) == set(EXPECTED)
    for case, clients in EXPECTED.items():
        assert set(cases[case]["clients"]) == clients, case
        for client, metrics in cases[case]["clients"].items():
            assert metrics, (case, client)
            for metric, summary in metrics.items():
                median = summary["median"]
                assert math.isfinite(median), (case, client, metric)
                assert median >= 0 if metric in MAY_BE_ZERO else median > 0, (
                    case,
                    client,
                    metric,
                )
        for metric, ratios in cases[case]["ratios"].items():
            for ratio in ratios.values():
                assert ratio["median"] > 0, (case, metric)
                assert len(ratio["runs"]) == 1, (case, metric)  # one repeat
    # Issue #13's targets: throughput and CPU on four paths, httpx, memory.
    targets = document["targets"]
    assert len(targets) == 10
    assert all(isinstance(target["passed"], bool) for target in targets)
    assert all(len(target["runs"]) == 1 for target in targets)
    assert (
        document["load_average"]["before"] is None or len(document["load_average"]["before"]) == 3
    )
    assert document["machine"]["versions"]["aiohttp"]
