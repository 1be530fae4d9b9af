"""The event loops the benchmarks run on: asyncio's own, and uvloop where it is installed."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

try:
    import uvloop
except ImportError:  # uvloop has no Windows build
    uvloop = None  # type: ignore[assignment]

__all__ = ["LOOPS", "run"]

T = TypeVar("T")

LOOPS = ("asyncio", "uvloop") if uvloop is not None else ("asyncio",)
"""The loops this machine can run, by the name the results use."""


def run(main: Coroutine[Any, Any, T], loop: str = "asyncio") -> T:
    """Run ``main`` to its end on a new event loop of the kind ``loop`` names."""
    if loop == "uvloop":
        return uvloop.run(main)
    return asyncio.run(main)
