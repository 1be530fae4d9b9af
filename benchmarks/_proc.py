"""Child processes of the benchmarks, and what they report about themselves."""

from __future__ import annotations

import resource
import sys
from pathlib import Path

__all__ = ["ROOT", "memory_mib", "module_command"]

ROOT = Path(__file__).resolve().parent.parent
"""The folder holding the ``benchmarks`` package: children run from there."""


def module_command(module: str, *args: str) -> list[str]:
    """The command running ``benchmarks.<module>`` with this interpreter."""
    return [sys.executable, "-m", f"benchmarks.{module}", *args]


def memory_mib() -> tuple[float, float]:
    """(peak RSS, current RSS) of this process in MiB, from ``/proc/self/status``.

    Where ``/proc`` is missing, both fall back to ``getrusage``'s peak.
    """
    values: dict[str, float] = {}
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                key, _, rest = line.partition(":")
                if key in ("VmHWM", "VmRSS"):
                    values[key] = int(rest.split()[0]) / 1024  # kB
    except OSError:
        pass
    peak = values.get("VmHWM", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return peak, values.get("VmRSS", peak)
