"""The API's error responses, raised as exceptions by the server's layers."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from ._json import JSONValue


@attrs.define(eq=False)
class ApiError(Exception):
    """An error answered with the ``{"error": {...}}`` envelope of spec §1.3."""

    status: int
    code: str
    message: str
    details: list[dict[str, JSONValue]] | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"

    def envelope(self) -> dict[str, JSONValue]:
        """The response body."""
        error: dict[str, JSONValue] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = list(self.details)
        return {"error": error}


def not_found(message: str) -> ApiError:
    """404 ``NOT_FOUND``."""
    return ApiError(404, "NOT_FOUND", message)


def conflict(message: str, field: str | None = None, existing_id: str | None = None) -> ApiError:
    """409 ``CONFLICT``, with ``[{field, existingId}]`` details for uniqueness conflicts."""
    if field is None or existing_id is None:
        return ApiError(409, "CONFLICT", message)
    return ApiError(409, "CONFLICT", message, [{"field": field, "existingId": existing_id}])


def rate_limited(retry_after: int | None = 1) -> ApiError:
    """429 ``API_RATE_LIMIT_EXCEEDED``, with ``Retry-After`` unless ``retry_after`` is None."""
    headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
    return ApiError(429, "API_RATE_LIMIT_EXCEEDED", "Too many API requests", headers=headers)
