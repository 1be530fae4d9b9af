"""``python -m benchmarks``: run the benchmarks, print the table, write the JSON results."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import attrs

from ._proc import ROOT
from ._report import check_targets, render, summarize
from ._runner import CASES, FULL, QUICK, Settings, run_cases

DEFAULT_OUTPUT = ROOT / "benchmarks" / "results" / "latest.json"


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark msgflash_async against hand-written aiohttp and httpx, locally.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes and one repeat (smoke run)"
    )
    parser.add_argument("--repeats", type=int, help="runs of each case (default 3, 1 with --quick)")
    parser.add_argument("--requests", type=int, help="requests per get measurement")
    parser.add_argument("--members", type=int, help="members streamed")
    parser.add_argument("--contacts", type=int, help="contacts created by the import case")
    parser.add_argument(
        "--cases", default=",".join(CASES), help=f"comma-separated subset of {','.join(CASES)}"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"JSON results (default {DEFAULT_OUTPUT})",
    )
    return parser.parse_args(argv)


def _settings(args: argparse.Namespace) -> Settings:
    settings = QUICK if args.quick else FULL
    cases = tuple(case for case in args.cases.split(",") if case)
    unknown = set(cases) - set(CASES)
    if unknown:
        raise SystemExit(f"unknown cases: {', '.join(sorted(unknown))}")
    members = args.members or settings.members
    return attrs.evolve(
        settings,
        repeats=args.repeats or settings.repeats,
        requests=args.requests or settings.requests,
        members=members,
        checkpoint=min(settings.checkpoint, max(1, members // 10)),
        contacts=args.contacts or settings.contacts,
        cases=cases,
    )


def _proc_field(path: str, key: str) -> str | None:
    """The value of the first ``key: value`` line of a ``/proc`` file, if there is one."""
    try:
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                name, _, value = line.partition(":")
                if name.strip() == key:
                    return value.strip()
    except OSError:
        pass
    return None


def _machine() -> dict[str, Any]:
    memory = _proc_field("/proc/meminfo", "MemTotal")  # "24684084 kB"
    affinity = getattr(os, "sched_getaffinity", None)
    return {
        "nproc": len(affinity(0)) if affinity else os.cpu_count(),
        "cpu": _proc_field("/proc/cpuinfo", "model name") or platform.processor(),
        "memory_gib": round(int(memory.split()[0]) / 2**20, 1) if memory else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "versions": {
            name: _version(name)
            for name in (
                "msgflash-async",
                "aiohttp",
                "httpx",
                "orjson",
                "msgspec",
                "attrs",
                "cattrs",
                "uvloop",
            )
        },
    }


def _version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _load() -> list[float] | None:
    """The 1, 5 and 15 minute load averages, where the system tells them."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks; return 0 (a missed target is reported, not an error)."""
    args = _parse(argv)
    settings = _settings(args)
    started, load_before = time.time(), _load()
    cases = summarize(run_cases(settings))
    load_after = _load()
    targets = check_targets(cases)
    machine = _machine()
    document = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started, 1),
        "load_average": {"before": load_before, "after": load_after},
        "machine": machine,
        "settings": attrs.asdict(settings),
        "cases": cases,
        "targets": targets,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(
        f"{machine['nproc']} cores ({machine['cpu']}), {machine['implementation']} "
        f"{machine['python']}, aiohttp {machine['versions']['aiohttp']}, "
        f"httpx {machine['versions']['httpx']}; load average {load_before} before, "
        f"{load_after} after (1, 5, 15 min)\n"
    )
    if args.quick:
        print("--quick: tiny sizes and one repeat; a smoke run, its numbers mean little\n")
    print(render(cases, targets))
    print(f"\nresults written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
