"""JSON encoding and decoding, with orjson when the ``speedups`` extra is installed."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["dumps", "loads"]


def _stdlib_dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _stdlib_loads(body: bytes) -> Any:
    try:
        return json.loads(body)
    except RecursionError:  # a hostile, deeply nested body is just invalid input
        raise ValueError("JSON nested too deeply") from None


dumps: Callable[[Any], bytes]
"""Compact UTF-8 JSON, as the API expects it."""
loads: Callable[[bytes], Any]
"""Parse a JSON document; raises ``ValueError`` when it is not one."""

try:
    import orjson
except ImportError:  # pragma: no cover - exercised only without the speedups extra
    dumps, loads = _stdlib_dumps, _stdlib_loads
else:
    dumps, loads = orjson.dumps, orjson.loads
