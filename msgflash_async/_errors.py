"""The exceptions the SDK raises; every one derives from :class:`MsgFlashError`.

::

    MsgFlashError
    ├── ConfigurationError (ValueError)          bad client set-up: no key, key shape, plain http
    ├── InvalidInputError (ValueError)           bad argument, refused before sending
    ├── APIConnectionError                       no usable answer came back
    │   ├── ConnectError                         never reached the server: always safe to retry
    │   │   └── ConnectTimeoutError (TimeoutError)
    │   ├── ReadTimeoutError (TimeoutError)      sent, no answer in time: outcome unknown
    │   └── ServerDisconnectedError              connection dropped mid-exchange: outcome unknown
    ├── ResponseDecodeError                      an answer that is not the documented JSON
    ├── APIStatusError                           the server answered with an error status
    │   ├── RedirectError                        3xx: redirects are never followed
    │   ├── BadRequestError                      400
    │   │   └── ValidationError                  400 VALIDATION_ERROR
    │   ├── AuthenticationError                  401
    │   ├── PermissionDeniedError                403
    │   │   └── MaxContactGroupsReachedError     403 MAX_CONTACT_GROUPS_REACHED
    │   ├── NotFoundError                        404
    │   ├── ConflictError                        409
    │   ├── UnprocessableEntityError             422
    │   ├── RateLimitError                       429, with ``retry_after``
    │   │   ├── RateLimitExceededError           429 API_RATE_LIMIT_EXCEEDED
    │   │   └── MonthlyQuotaExceededError        429 MONTHLY_API_REQUEST_QUOTA_EXCEEDED
    │   └── InternalServerError                  5xx
    ├── PaginationError                          a server cursor that would loop forever
    └── JobError                                 a bulk job that did not end in ``done``
        ├── JobFailedError
        ├── JobCancelledError
        └── JobTimeoutError (TimeoutError)

Every error raised while walking a list carries ``cursor``: the cursor of the page that
failed, so the walk can resume there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "ConnectError",
    "ConnectTimeoutError",
    "InternalServerError",
    "InvalidInputError",
    "JobCancelledError",
    "JobError",
    "JobFailedError",
    "JobTimeoutError",
    "MaxContactGroupsReachedError",
    "MonthlyQuotaExceededError",
    "MsgFlashError",
    "NotFoundError",
    "PaginationError",
    "PermissionDeniedError",
    "RateLimitError",
    "RateLimitExceededError",
    "ReadTimeoutError",
    "RedirectError",
    "ResponseDecodeError",
    "ServerDisconnectedError",
    "UnprocessableEntityError",
    "ValidationError",
    "error_for_status",
]


class MsgFlashError(Exception):
    """Base class of every error the SDK raises."""

    cursor: str | None = None
    """The cursor of the list page being fetched when the error happened, if any."""


class ConfigurationError(MsgFlashError, ValueError):
    """The client is set up in a way that cannot work (missing key, wrong key shape...)."""


class InvalidInputError(MsgFlashError, ValueError):
    """An argument breaks the API's rules; raised before any request is sent."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class APIConnectionError(MsgFlashError):
    """No usable HTTP answer came back."""

    def __init__(self, message: str, *, method: str, url: str) -> None:
        super().__init__(f"{message} ({method} {url})")
        self.method = method
        self.url = url


class ConnectError(APIConnectionError):
    """The request never reached the server, so it is always safe to send again."""


class ConnectTimeoutError(ConnectError, TimeoutError):
    """Connecting took longer than the connect timeout."""


class ReadTimeoutError(APIConnectionError, TimeoutError):
    """The request was sent but no answer came in time; it may have been processed."""


class ServerDisconnectedError(APIConnectionError):
    """The connection dropped after the request was sent; it may have been processed."""


class ResponseDecodeError(MsgFlashError):
    """The server answered with something other than the documented JSON."""

    def __init__(self, reason: str, *, status: int, body: bytes, method: str, url: str) -> None:
        excerpt = body[:200].decode("utf-8", "replace")
        super().__init__(f"{reason} (HTTP {status} from {method} {url}): {excerpt!r}")
        self.reason = reason
        self.status = status
        self.body_excerpt = excerpt
        self.method = method
        self.url = url


class APIStatusError(MsgFlashError):
    """The server answered with an error status and, usually, an error envelope."""

    is_replay: bool = False
    """True when this answer came to a re-send of a request whose first attempt may have
    been processed (a timeout or a dropped connection after sending)."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None,
        details: Any = None,
        request_id: str | None = None,
        method: str,
        url: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        label = f"{status} {code}" if code else str(status)
        super().__init__(f"{label}: {message} ({method} {url})")
        self.message = message
        self.status = status
        self.code = code
        self.details = details
        self.request_id = request_id
        self.method = method
        self.url = url
        self.headers: Mapping[str, str] = CIMultiDictProxy(CIMultiDict(headers or {}))


class RedirectError(APIStatusError):
    """The server answered 3xx; the SDK never follows redirects (they would carry the key)."""


class BadRequestError(APIStatusError):
    """400: the request was refused as invalid."""


class ValidationError(BadRequestError):
    """400 ``VALIDATION_ERROR``; ``details`` lists the fields at fault."""


class AuthenticationError(APIStatusError):
    """401: the key is missing, invalid or revoked, or the team id does not match."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not do this."""


class MaxContactGroupsReachedError(PermissionDeniedError):
    """403 ``MAX_CONTACT_GROUPS_REACHED``: the plan's contact-group limit is reached."""


class NotFoundError(APIStatusError):
    """404: no such resource in this workspace."""


class ConflictError(APIStatusError):
    """409: a uniqueness or state conflict (duplicate phone or group name, finished job)."""

    @property
    def existing_id(self) -> str | None:
        """The id of the resource that already holds the unique value, when the server says."""
        if isinstance(self.details, list):
            for entry in self.details:
                if isinstance(entry, dict) and isinstance(entry.get("existingId"), str):
                    return str(entry["existingId"])
        return None


class UnprocessableEntityError(APIStatusError):
    """422: the request is well formed but cannot be processed."""


class RateLimitError(APIStatusError):
    """429; ``retry_after`` is the wait in seconds the server asked for, if it said."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class RateLimitExceededError(RateLimitError):
    """429 ``API_RATE_LIMIT_EXCEEDED``: more than 10 requests per second on this key."""


class MonthlyQuotaExceededError(RateLimitError):
    """429 ``MONTHLY_API_REQUEST_QUOTA_EXCEEDED``: never retried; wait ``retry_after``."""


class InternalServerError(APIStatusError):
    """5xx: the server failed."""


class PaginationError(MsgFlashError):
    """The server sent back a cursor it had already sent, which would loop forever."""


class JobError(MsgFlashError):
    """A bulk job did not finish with status ``done``."""

    def __init__(self, message: str, *, job_id: str) -> None:
        super().__init__(message)
        self.job_id = job_id


class JobFailedError(JobError):
    """The job failed on the server; ``error`` is the server's message."""

    def __init__(self, *, job_id: str, error: str | None, job: Any) -> None:
        super().__init__(f"bulk job {job_id} failed: {error or 'no reason given'}", job_id=job_id)
        self.error = error
        self.job = job


class JobCancelledError(JobError):
    """The job was cancelled; ``partial`` is the result of the work done before the cancel."""

    def __init__(self, *, job_id: str, partial: Any, job: Any) -> None:
        super().__init__(f"bulk job {job_id} was cancelled", job_id=job_id)
        self.partial = partial
        self.job = job


class JobTimeoutError(JobError, TimeoutError):
    """Waiting for the job took longer than asked; the job goes on running on the server."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}

_BY_CODE: dict[str, type[APIStatusError]] = {
    "VALIDATION_ERROR": ValidationError,
    "BAD_REQUEST": ValidationError,
    "MAX_CONTACT_GROUPS_REACHED": MaxContactGroupsReachedError,
    "API_RATE_LIMIT_EXCEEDED": RateLimitExceededError,
    "MONTHLY_API_REQUEST_QUOTA_EXCEEDED": MonthlyQuotaExceededError,
}


def error_for_status(status: int, code: str | None) -> type[APIStatusError]:
    """The exception class for an HTTP error status and API code.

    A known code picks its own class only when it agrees with the status, so an odd
    pairing still lands in the class that the status promises.
    """
    if 300 <= status < 400:
        by_status: type[APIStatusError] = RedirectError
    elif status >= 500:
        by_status = InternalServerError
    else:
        by_status = _BY_STATUS.get(status, APIStatusError)
    by_code = _BY_CODE.get(code or "")
    if by_code is not None and issubclass(by_code, by_status):
        return by_code
    return by_status
