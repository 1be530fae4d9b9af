"""The exceptions the SDK raises; every one derives from ``MsgFlashError``.

::

    MsgFlashError
    ├── ConfigurationError (ValueError)          bad client set-up: no key, key shape, plain http
    ├── MissingDependencyError (ImportError)     a feature used without its extra's packages
    ├── InvalidInputError (ValueError)           bad argument, refused before sending
    ├── ClientClosedError                        the client was closed before or during the call
    ├── APIConnectionError                       no usable answer came back
    │   ├── ConnectError                         never reached the server: always safe to retry
    │   │   └── ConnectTimeoutError (TimeoutError)
    │   ├── QueueTimeoutError (TimeoutError)     ``Timeout.total`` ran out while queued: not sent
    │   ├── ReadTimeoutError (TimeoutError)      sent, no answer in time: outcome unknown
    │   └── ServerDisconnectedError              connection dropped mid-exchange: outcome unknown
    ├── ResponseDecodeError                      an answer that is not the documented JSON
    │   └── ResponseTooLargeError                larger than the client's ``max_response_size``
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
    ├── PaginationError                          a server list walk that would never end
    ├── JobError                                 a bulk job that did not end in ``done``
    │   ├── JobFailedError
    │   ├── JobCancelledError
    │   └── JobTimeoutError (TimeoutError)
    └── ImportAbortedError                       an import stopped by an error not of one row

Every error carries these attributes (class-level defaults, set per instance where they apply):

- ``cursor``: while walking a list, the cursor of the page that failed, so the walk can
  resume there.
- ``may_have_been_processed``: True when the request, or an earlier attempt of the same call,
  may have taken effect on the server: it was sent and no answer proves it was not processed
  (a read timeout, a connection dropped after sending, a 5xx or 408, a garbled 2xx).
- ``accepted``, ``accepted_job_ids``, ``unsent_ids``: for a bulk call split into several
  requests (more than 10,000 ids) that failed on a later part, a handle over the parts the
  server accepted, their job ids, and the ids of the failed part and those after it.

Texts that come from the server (an API error message, a job's error) are cut to
500 characters in ``str(error)``; the attributes keep them whole. Every error pickles and
copies with its type, message and attributes, except ``accepted``, which is bound to a live
client: a pickled error has ``accepted=None`` (``accepted_job_ids`` still lead to the jobs).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from multidict import CIMultiDict

if TYPE_CHECKING:
    from ._importing import ImportReport
    from ._jobs import BulkJobHandle

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "ConnectError",
    "ConnectTimeoutError",
    "ImportAbortedError",
    "InternalServerError",
    "InvalidInputError",
    "JobCancelledError",
    "JobError",
    "JobFailedError",
    "JobTimeoutError",
    "MaxContactGroupsReachedError",
    "MissingDependencyError",
    "MonthlyQuotaExceededError",
    "MsgFlashError",
    "NotFoundError",
    "PaginationError",
    "PermissionDeniedError",
    "QueueTimeoutError",
    "RateLimitError",
    "RateLimitExceededError",
    "ReadTimeoutError",
    "RedirectError",
    "ResponseDecodeError",
    "ResponseTooLargeError",
    "ServerDisconnectedError",
    "UnprocessableEntityError",
    "ValidationError",
    "error_for_status",
]


_SHOWN_CHARS = 500
"""How much of a text from the server an error message shows."""

E = TypeVar("E", bound="MsgFlashError")


def clip(text: str) -> str:
    """``text``, cut to ``_SHOWN_CHARS`` characters with a note of its full length.

    For every text from the server that enters an error message (the attribute keeps it whole).
    """
    if len(text) <= _SHOWN_CHARS:
        return text
    return f"{text[:_SHOWN_CHARS]}… ({len(text)} characters in all)"


def _rebuild(cls: type[E], args: tuple[Any, ...]) -> E:
    """An instance of ``cls`` with ``args``, made without calling ``__init__``."""
    error = cls.__new__(cls, *args)
    error.args = args
    return error


class MsgFlashError(Exception):
    """Base class of every error the SDK raises."""

    cursor: str | None = None
    """The cursor of the list page being fetched when the error happened, if any."""

    may_have_been_processed: bool = False
    """True when the request (or an earlier attempt of the same call) may have taken effect:
    it was sent and no answer proves it was not processed."""

    accepted: BulkJobHandle[Any] | None = None
    """For a bulk call split into several requests that failed on a later part: a handle
    over the parts the server accepted. Not pickled (it is bound to a live client)."""

    accepted_job_ids: tuple[str, ...] = ()
    """The job ids among the parts in ``accepted``."""

    unsent_ids: tuple[str, ...] = ()
    """Contact ids of the failed part and the parts after it, not confirmed accepted (when
    ``may_have_been_processed`` is True, the failed part may have started a job)."""

    # Subclasses take their own constructor arguments, so rebuild from ``args`` and the
    # instance dict instead of calling ``__init__`` again (what Exception's pickling does).
    def __reduce__(self) -> tuple[Any, ...]:
        state = {key: value for key, value in self.__dict__.items() if key != "accepted"}
        return _rebuild, (type(self), self.args), state

    def __copy__(self: E) -> E:
        clone = _rebuild(type(self), self.args)
        clone.__dict__.update(self.__dict__)
        return clone

    def __deepcopy__(self: E, memo: dict[int, Any]) -> E:
        clone = _rebuild(type(self), copy.deepcopy(self.args, memo))
        memo[id(self)] = clone
        for key, value in self.__dict__.items():
            # The handle is a live resource shared with the client, never duplicated.
            setattr(clone, key, value if key == "accepted" else copy.deepcopy(value, memo))
        return clone


class ConfigurationError(MsgFlashError, ValueError):
    """The client is set up in a way that cannot work (missing key, wrong key shape...)."""


class MissingDependencyError(MsgFlashError, ImportError):
    """A feature was used without the packages of its extra installed; the message names the
    ``pip install "msgflash-async[...]"`` that brings them."""

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(
            f"this feature needs {package}, which is not installed: "
            f'pip install "msgflash-async[{extra}]"'
        )
        self.package = package
        self.extra = extra


class InvalidInputError(MsgFlashError, ValueError):
    """An argument breaks the API's rules; raised before any request is sent."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ClientClosedError(MsgFlashError):
    """The client was closed (``aclose``) before or while this call ran."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


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


class QueueTimeoutError(APIConnectionError, TimeoutError):
    """The call's ``Timeout.total`` ran out while it waited for a pacing turn or an
    in-flight slot; the request was never sent."""


class ReadTimeoutError(APIConnectionError, TimeoutError):
    """The request was sent but no answer came in time; it may have been processed."""

    may_have_been_processed = True


class ServerDisconnectedError(APIConnectionError):
    """The connection dropped after the request was sent; it may have been processed."""

    may_have_been_processed = True


class ResponseDecodeError(MsgFlashError):
    """The server answered with something other than the documented JSON.

    ``body_excerpt`` holds the first 200 bytes of the body (empty when ``body`` is None:
    not kept).
    """

    def __init__(
        self, reason: str, *, status: int, body: bytes | None, method: str, url: str
    ) -> None:
        excerpt = "" if body is None else body[:200].decode("utf-8", "replace")
        shown = "" if body is None else f": {excerpt!r}"
        super().__init__(f"{clip(reason)} (HTTP {status} from {method} {url}){shown}")
        self.reason = reason
        self.status = status
        self.body_excerpt = excerpt
        self.method = method
        self.url = url


class ResponseTooLargeError(ResponseDecodeError):
    """The answer was larger than the client's ``max_response_size``.

    ``size`` is the size announced or read, or None when the body was cut off while reading;
    no excerpt of the body is kept.
    """

    def __init__(self, *, limit: int, size: int | None, status: int, method: str, url: str) -> None:
        told = "" if size is None else f" ({size} bytes)"
        super().__init__(
            f"the answer is larger than the {limit}-byte limit{told}",
            status=status,
            body=None,
            method=method,
            url=url,
        )
        self.limit = limit
        self.size = size


def _folded(headers: Mapping[Any, Any]) -> list[tuple[str, Any]]:
    """The (lower-case name, value) pairs of ``headers`` in a canonical order; a multidict
    gives every value of a repeated header."""
    items = headers._headers.items() if isinstance(headers, _Headers) else headers.items()
    return sorted(((str(name).lower(), value) for name, value in items), key=repr)


class _Headers(Mapping[str, str]):
    """Read-only, case-insensitive HTTP headers that pickle and compare as such."""

    __slots__ = ("_headers",)

    def __init__(self, headers: Mapping[str, str] | None) -> None:
        self._headers: CIMultiDict[str] = CIMultiDict(headers or {})

    def __getitem__(self, key: str) -> str:
        return self._headers[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._headers)

    def __len__(self) -> int:
        return len(self._headers)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return _folded(self._headers) == _folded(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self._headers.items())!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return _Headers, (self._headers,)


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
        super().__init__(f"{label}: {clip(message)} ({method} {url})")
        self.message = message
        self.status = status
        self.code = code
        self.details = details
        self.request_id = request_id
        self.method = method
        self.url = url
        self.headers: Mapping[str, str] = _Headers(headers)
        """The answer's headers: a read-only, case-insensitive mapping."""


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
    """A list walk that would never end: the server sent back a cursor it had already sent,
    or kept sending empty pages that say more follow."""


class JobError(MsgFlashError):
    """A bulk job did not finish with status ``done``."""

    def __init__(self, message: str, *, job_id: str) -> None:
        super().__init__(message)
        self.job_id = job_id


class JobFailedError(JobError):
    """The job failed on the server; ``error`` is the server's message."""

    def __init__(self, *, job_id: str, error: str | None, job: Any) -> None:
        reason = clip(error) if error else "no reason given"
        super().__init__(f"bulk job {job_id} failed: {reason}", job_id=job_id)
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


class ImportAbortedError(MsgFlashError):
    """``contacts.import_many`` stopped on an error that is not one row's own (the key, a
    quota, the connection...), raised from it. ``report`` tells what was done; the rows in
    flight had finished and the checkpoint holds them, so a re-run goes on from there."""

    def __init__(self, message: str, *, report: ImportReport) -> None:
        super().__init__(message)
        self.report = report


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
