"""JSON types and the compact encoding the server writes."""

from __future__ import annotations

import json
from typing import TypeAlias

JSONValue: TypeAlias = "bool | int | float | str | list[JSONValue] | dict[str, JSONValue] | None"
"""Any value JSON can hold."""

JSONObject: TypeAlias = "dict[str, JSONValue]"
"""A JSON object."""


def dumps(value: JSONValue) -> str:
    """Compact UTF-8 JSON, as the server sends and as the ``meta`` size limit measures it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
