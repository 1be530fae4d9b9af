"""A smoke run of the import benchmark: every case at tiny sizes, with no timing checks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_import_benchmark_reports_every_case(tmp_path: Path) -> None:
    output = tmp_path / "import.json"
    sizes = ["--small", "50", "--large", "200"]
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.bench_import",
            "--quick",
            *sizes,
            "--output",
            str(output),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert "| paced, 10 req/s |" in run.stdout
    results = json.loads(output.read_text(encoding="utf-8"))
    assert results["paced"]["ratio"] > 0
    assert results["resume"]["rerun_requests"] == 0  # a resumed import sends nothing
    [throughput] = results["throughput"]
    assert throughput["import_many"] > 0
    assert throughput["hand_pool"] > 0
    assert [run["rows"] for run in results["memory"]] == [50, 200]
