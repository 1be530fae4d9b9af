"""What a caller can see of the requests the SDK sends: counters, the last call, log lines.

Logs carry metadata only (method, path, status, request id, attempt, milliseconds), never the
key, a body, a query string or a header: the path holds ids only, while a query may hold a
phone number (``search``).
"""

from __future__ import annotations

import contextvars
import logging
import os
import sys
from collections.abc import Mapping

import attrs

from ._errors import ConfigurationError

__all__ = ["CallInfo", "RequestStats", "configure_logging_from_env", "last_call", "logger"]

logger = logging.getLogger("msgflash_async")

debug_memo: dict[int, bool] = getattr(logger, "_cache", {})
"""The logger's own memo of ``isEnabledFor`` by level, which logging empties whenever a level
changes: read on every request, where ``isEnabledFor`` would be a Python call. Where it is
missing or has no answer yet, ask ``isEnabledFor`` (which fills it)."""

LOG_ENV = "MSGFLASH_LOG"
"""``MSGFLASH_LOG=debug`` (or ``info``) logs the SDK's lines to stderr, as ``OPENAI_LOG`` does."""
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}
_FORMAT = "[%(asctime)s %(levelname)s %(name)s] %(message)s"


@attrs.frozen
class CallInfo:
    """A call that succeeded: what was sent, and how the server answered its last attempt."""

    method: str
    path: str
    """The path requested, without the query string."""
    status: int
    request_id: str | None
    """The server's ``x-request-id``, to quote to the API's support."""
    attempts: int
    """1, or more when the SDK sent the request again."""


# What ``last_call`` reports, as a plain tuple: made on every call, read on few of them.
_last_call: contextvars.ContextVar[tuple[str, str, int, Mapping[str, str], int] | None] = (
    contextvars.ContextVar("msgflash_last_call", default=None)
)


def last_call() -> CallInfo | None:
    """The last call that succeeded in the current task (each asyncio task sees its own).

    ``contact = await client.contacts.get(contact_id)`` then ``last_call().request_id``.
    """
    call = _last_call.get()
    if call is None:
        return None
    method, path, status, headers, attempts = call
    return CallInfo(method, path, status, headers.get("x-request-id"), attempts)


@attrs.define
class RequestStats:
    """Counters of a client's requests since it was made (``client.stats``), read without logs."""

    attempts: int = 0
    """Requests sent, each retry counted."""
    retries: int = 0
    """Requests sent again after a failed attempt, 429s included."""
    rate_limited: int = 0
    """429 answers received."""

    def snapshot(self) -> RequestStats:
        """A copy that later requests do not change."""
        return attrs.evolve(self)


def configure_logging_from_env() -> None:
    """Send the ``msgflash_async`` logger to stderr at the level ``MSGFLASH_LOG`` names, once.

    Unset or empty does nothing; an unknown level is a ``ConfigurationError``.
    """
    value = os.environ.get(LOG_ENV, "").strip().lower()
    if not value:
        return
    level = _LEVELS.get(value)
    if level is None:
        raise ConfigurationError(f"{LOG_ENV} must be 'debug' or 'info', not {value!r}")
    if not any(getattr(handler, "_msgflash", False) for handler in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler._msgflash = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(level)
