"""The HTTP layer: one aiohttp session, the retry loop and the mapping of failures to errors.

Nothing here knows about contacts or groups; resources hand it a method, a path and a body.
"""

from __future__ import annotations

import asyncio
import io
import logging
import random
import zlib
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, NamedTuple, TypeVar

import aiohttp
import attrs
from multidict import CIMultiDictProxy
from yarl import URL

from . import _json
from ._clock import Clock
from ._config import DEFAULT_SESSION, SessionSettings
from ._errors import (
    APIConnectionError,
    APIStatusError,
    ClientClosedError,
    ConnectError,
    ConnectTimeoutError,
    MonthlyQuotaExceededError,
    MsgFlashError,
    QueueTimeoutError,
    RateLimitError,
    ReadTimeoutError,
    ResponseDecodeError,
    ResponseTooLargeError,
    ServerDisconnectedError,
    error_for_status,
)
from ._limiter import RequestLimiter
from ._observe import RequestStats, _last_call, debug_memo, logger
from ._policy import RetryPolicy, Timeout, parse_retry_after

__all__ = ["DEFAULT_MAX_RESPONSE_SIZE", "RequestOptions", "Response", "Transport"]

T = TypeVar("T")

SAFE_TO_RESEND = frozenset({"GET", "PUT", "DELETE"})
DEFAULT_MAX_RESPONSE_SIZE = 32 * 1024 * 1024
"""The default cap on an answer's size in bytes, after decompression. The largest answer the
API documents, a page of 100 contacts each with 16 KiB of ``meta``, is under 2 MiB."""

_LARGE_BODY = 1 << 20
# aiohttp's header names: an istr is looked up without folding its case again.
_CONTENT_LENGTH = aiohttp.hdrs.CONTENT_LENGTH
_CONTENT_ENCODING = aiohttp.hdrs.CONTENT_ENCODING
_JSON_BODY = {"Content-Type": "application/json"}
_DEBUG = logging.DEBUG
# The SDK decompresses answers itself, with a bound on the output (aiohttp before 3.12 would
# inflate a whole network chunk at once), so it asks only for what zlib reads.
_ACCEPT_ENCODING = "gzip, deflate"
_RECENT_URLS = 64
"""How many request URLs a transport keeps, to hand aiohttp again while it asks for them."""


@attrs.frozen
class RequestOptions:
    """Per-call settings: the client's, or those of ``client.with_options(...)``."""

    timeout: Timeout
    retry: RetryPolicy
    attempt_timeout: aiohttp.ClientTimeout = attrs.field(init=False, eq=False, repr=False)
    """aiohttp's timeouts for one attempt: ``read`` for it all, ``connect`` for a new
    connection. Made once with the options: one timer per attempt is cheaper than aiohttp's
    read timer, which it moves at every chunk received."""

    first_attempt_timeout: aiohttp.ClientTimeout = attrs.field(init=False, eq=False, repr=False)
    """The timeouts of an attempt that starts with all of ``timeout.total`` left: a first
    attempt that waited for no slot nor turn (``read``, or ``total`` if that is shorter)."""

    @attempt_timeout.default
    def _attempt_timeout(self) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(total=self.timeout.read, connect=self.timeout.connect)

    @first_attempt_timeout.default
    def _first_attempt_timeout(self) -> aiohttp.ClientTimeout:
        read, total = self.timeout.read, self.timeout.total
        if total is None or (read is not None and read <= total):
            return self.attempt_timeout
        return aiohttp.ClientTimeout(total=total, connect=self.timeout.connect)


class Response(NamedTuple):
    """A successful (2xx) answer, read in full; its payload is parsed when ``data`` is read.

    A named tuple: it is built for every request, and that is the cheapest immutable value.
    """

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    method: str
    url: str

    @property
    def data(self) -> Any:
        """The payload under ``data``, parsed at each read; ``None`` for an empty body (a 204).

        A ``ResponseDecodeError`` if the body is not JSON or has no ``data`` envelope. Every
        decoder reads it, or decodes ``body`` in one pass itself (``_wire``).
        """
        body = self.body
        if not body:
            return None
        try:
            return _json.loads(body)["data"]
        except ValueError:
            reason = "the body is not valid JSON"
        except (KeyError, TypeError):  # not an object, or one without "data"
            reason = "the body has no 'data' envelope"
        raise self.decode_error(reason)

    @property
    def request_id(self) -> str | None:
        """The server's ``x-request-id``, if it sent one."""
        return self.headers.get("x-request-id")

    def decode_error(self, reason: str) -> ResponseDecodeError:
        """A decode error about this response, with a short excerpt of its body."""
        return ResponseDecodeError(
            reason, status=self.status, body=self.body, method=self.method, url=self.url
        )


# How a failed attempt may be retried.
_RESEND = "resend"  # never processed: send again, whatever the method
_IF_SAFE = "if-safe"  # perhaps processed: send again only where that is safe
_RATE_LIMITED = "rate-limited"  # a 429: not processed; wait out the window, on its own budget
_FINAL = "final"


class Transport:
    """Sends requests for one client: headers, limits, retries, errors."""

    def __init__(
        self,
        *,
        base_url: str,
        headers: Mapping[str, str],
        limiter: RequestLimiter,
        clock: Clock,
        session: aiohttp.ClientSession | None,
        max_response_size: int | None = DEFAULT_MAX_RESPONSE_SIZE,
        network: SessionSettings = DEFAULT_SESSION,
        key_fingerprint: str = "",
    ) -> None:
        self.base_url = base_url
        self._origin = URL(base_url)
        self._base_path = self._origin.raw_path.rstrip("/")
        self._recent_urls: dict[str, URL] = {}
        self.network = network
        self.key_fingerprint = key_fingerprint
        """A hash of the key and server (``_limiter.key_fingerprint``), never the key itself."""
        # Never bound to a local variable on the request path: tracebacks that print locals
        # (capture_locals, --showlocals) must not print the key.
        self._headers = {**headers, "Accept-Encoding": _ACCEPT_ENCODING}
        self._json_headers = {**self._headers, **_JSON_BODY}
        # What each request passes: the client's own session holds the fixed headers (set once,
        # aiohttp merges them), a session passed in keeps its own and gets ours per request.
        self._request_headers: dict[str, str] | None = None
        self._body_headers = _JSON_BODY
        self._session_timeout: aiohttp.ClientTimeout | None = None
        """The own session's default timeouts: a request with these passes only what differs
        from the session's defaults (each keyword argument to aiohttp costs, on every call)."""
        if session is not None:
            self._request_headers, self._body_headers = self._headers, self._json_headers
        self.limiter = limiter
        self.clock = clock
        self.max_response_size = max_response_size
        self._session = session
        self._owns_session = session is None
        if session is not None:
            # aiohttp silently re-sends GET, PUT and DELETE once when a kept-alive connection
            # drops; the retry policy must own every re-send, on a session passed in too.
            session._retry_connection = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._rng = random.Random()
        self.stats = RequestStats()

    @property
    def closed(self) -> bool:
        """Whether ``aclose`` has run."""
        return self._closed

    def _session_here(self, timeout: aiohttp.ClientTimeout) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            if self._loop is not None:
                raise MsgFlashError(
                    "this client belongs to another event loop; create one client per loop"
                )
            self._loop = loop
        if self._closed:
            raise ClientClosedError("this client is closed")
        if self._session is None:
            network = self.network
            self._session = aiohttp.ClientSession(
                headers=self._headers,
                timeout=timeout,
                auto_decompress=False,
                connector=aiohttp.TCPConnector(
                    limit=self.limiter.max_in_flight or 100,
                    ssl=True if network.ssl_context is None else network.ssl_context,
                ),
                proxy=network.proxy,
                trace_configs=list(network.trace_configs) or None,
            )
            self._session._retry_connection = False  # see __init__
            self._session_timeout = timeout
        return self._session

    async def aclose(self) -> None:
        """Close the session if this transport created it; a session passed in stays open.

        Calls in flight end with ``ClientClosedError`` and no new attempt starts.
        """
        if self._closed:
            return
        if self._loop is not None and asyncio.get_running_loop() is not self._loop:
            raise MsgFlashError(
                "this client belongs to another event loop; close it from the loop that used it"
            )
        self._closed = True
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()

    async def request(
        self,
        options: RequestOptions,
        method: str,
        path: str,
        decode: Callable[[Response], T],
        params: Mapping[str, str | int] | None = None,
        body: Any = None,
        resend_after_unknown_outcome: bool | None = None,
    ) -> T:
        """Send a request, retrying as ``options.retry`` allows; return its decoded 2xx answer.

        ``decode`` turns the 2xx answer into the caller's value inside the retry loop, so an
        answer of the wrong shape (a ``ResponseDecodeError``) counts as an unknown outcome
        like a garbled body: re-sent where that is safe.
        ``resend_after_unknown_outcome`` says whether the request may be sent again when a
        first attempt may have been processed; by default only GET, PUT and DELETE may.
        Errors raised after such a re-send have ``is_replay`` set, and every error says in
        ``may_have_been_processed`` whether any attempt may have taken effect.
        ``options.timeout.total`` bounds it all: waits for a turn, attempts and backoff.
        """
        session = self._session
        if session is None or self._closed or self._loop is not asyncio.get_running_loop():
            session = self._session_here(options.first_attempt_timeout)
        url = self.base_url + path
        target = self._recent_urls.get(path)
        if target is None:
            target = self._url_of(path)
        data = None if body is None else _json.dumps(body)
        total = options.timeout.total
        clock = self.clock
        deadline = None if total is None else clock.monotonic() + total
        limiter = self.limiter
        replay = False  # whether an earlier attempt may have been processed
        retries = rate_limited = 0
        while True:
            debug = debug_memo.get(_DEBUG)
            if debug is None:
                debug = logger.isEnabledFor(_DEBUG)
            started = clock.monotonic() if debug else None
            try:
                # The client's own session is closed only by aclose, which sets _closed first.
                if self._closed or (not self._owns_session and session.closed):
                    raise ClientClosedError(
                        "the client was closed before this request was sent"
                        if self._closed
                        else "the aiohttp session given to the client is closed"
                    )
                self.stats.attempts += 1
                if retries + rate_limited == 0 and limiter.try_acquire():
                    # All of Timeout.total is left: no wait came before this first attempt.
                    timeout = options.first_attempt_timeout
                else:
                    timeout = await self._wait_for_turn(options, deadline, method, url)
                try:
                    if timeout is not self._session_timeout or params is not None:
                        # A session passed in, other timeouts, or a list's query (once a page).
                        context = session.request(
                            method,
                            target,
                            params=params,
                            data=data if data is None else _sendable(data),
                            headers=self._request_headers if data is None else self._body_headers,
                            timeout=timeout,
                            allow_redirects=False,
                            auto_decompress=False,
                        )
                    elif data is None:
                        context = session.request(method, target, allow_redirects=False)
                    else:
                        context = session.request(
                            method,
                            target,
                            data=_sendable(data),
                            headers=self._body_headers,
                            allow_redirects=False,
                        )
                    async with context as answer:
                        headers = answer.headers
                        length = headers.get(_CONTENT_LENGTH)
                        if (
                            length is not None
                            and _CONTENT_ENCODING not in headers
                            and (
                                self.max_response_size is None
                                or int(length) <= self.max_response_size
                            )
                        ):
                            # Plain and small enough (most answers): read up to its length.
                            content = await answer.read()
                        else:
                            content = await self._read(answer, method, url)
                        status = answer.status
                        # The tuple's own constructor: a named tuple's __new__ is a Python call.
                        response = tuple.__new__(Response, (status, headers, content, method, url))
                except (aiohttp.ClientError, asyncio.TimeoutError, RuntimeError) as exc:
                    if self._closed:
                        raise _closed_in_flight() from None
                    if isinstance(exc, RuntimeError):
                        raise
                    raise _connection_error(exc, method, url) from None
                finally:
                    limiter.release()
                if started is not None:
                    self._log_attempt(method, path, response, retries + rate_limited, started)
                    started = None  # logged: an error raised from here on is this answer's
                if 200 <= status < 300:
                    value = decode(response)
                    _last_call.set((method, path, status, headers, retries + rate_limited + 1))
                    return value
                raise self._status_error(response)
            except MsgFlashError as error:
                if started is not None:
                    self._log_attempt(method, path, error, retries + rate_limited, started)
                # Worked out only now: a request that succeeds at once never needs them.
                retry = options.retry
                stats = self.stats
                if resend_after_unknown_outcome is None:
                    resend_after_unknown_outcome = method in SAFE_TO_RESEND
                how, outcome_unknown = _verdict(error, retry)
                error.may_have_been_processed = replay or outcome_unknown
                if replay and isinstance(error, APIStatusError):
                    error.is_replay = True
                if how is _RATE_LIMITED:
                    stats.rate_limited += 1
                    retry_after = error.retry_after if isinstance(error, RateLimitError) else None
                    if limiter.pacer is not None:
                        await limiter.pacer.report_rate_limited(retry_after)
                    if rate_limited >= retry.max_rate_limit_retries or (
                        retry_after is not None and retry_after > retry.max_retry_after
                    ):
                        raise
                    rate_limited += 1
                    delay = retry.rate_limit_wait(retry_after, self._rng)
                elif (
                    how is _FINAL
                    or (how is _IF_SAFE and not resend_after_unknown_outcome)
                    or retries >= retry.max_retries
                ):
                    raise
                else:
                    delay = retry.backoff(retries, self._rng)
                    retries += 1
                if deadline is not None and clock.monotonic() + delay >= deadline:
                    raise
                replay = replay or outcome_unknown
                stats.retries += 1
                logger.debug(
                    "retry %d of %s %s in %.2f s after %s",
                    retries + rate_limited,
                    method,
                    path,
                    delay,
                    _reason(error),
                )
            await clock.sleep(delay)

    def _url_of(self, path: str) -> URL:
        """The URL of ``path``, whose ids ``path_id`` has percent-encoded, built from the
        base URL parsed once: for a URL yarl has not seen, parsing the whole text costs about
        19k instructions more a request. Kept among the last ``_RECENT_URLS``, so that a URL
        asked for again (a job's progress, one contact read often) is the same object, its
        parts already worked out.
        """
        recent = self._recent_urls
        if len(recent) >= _RECENT_URLS:
            recent.clear()
        target = recent[path] = self._origin.with_path(self._base_path + path, encoded=True)
        return target

    async def _wait_for_turn(
        self, options: RequestOptions, deadline: float | None, method: str, url: str
    ) -> aiohttp.ClientTimeout:
        """Wait for a slot and a pacing turn; the attempt's timeouts, cut short by the
        deadline. A ``QueueTimeoutError``, holding nothing, when the deadline comes first."""
        if not await self.limiter.acquire(deadline):
            raise _queue_timeout(method, url)
        # Computed after the wait, which used some of the deadline.
        timeout = options.attempt_timeout
        if deadline is not None:
            remaining = deadline - self.clock.monotonic()
            read = options.timeout.read
            if remaining <= 0:
                self.limiter.release()
                raise _queue_timeout(method, url)
            if read is None or remaining < read:
                timeout = aiohttp.ClientTimeout(total=remaining, connect=options.timeout.connect)
        return timeout

    def _log_attempt(
        self,
        method: str,
        path: str,
        outcome: Response | MsgFlashError,
        retried: int,
        started: float,
    ) -> None:
        """One DEBUG line per attempt: metadata only, never the key, a body or the query."""
        elapsed_ms = (self.clock.monotonic() - started) * 1000
        if isinstance(outcome, Response):
            status: object = outcome.status
            request_id = outcome.request_id
        else:
            status, request_id = type(outcome).__name__, None
        logger.debug(
            "%s %s -> %s request_id=%s attempt=%d %.1f ms",
            method,
            path,
            status,
            request_id,
            retried + 1,
            elapsed_ms,
            extra={
                "msgflash_method": method,
                "msgflash_path": path,
                "msgflash_status": status,
                "msgflash_request_id": request_id,
                "msgflash_attempt": retried + 1,
                "msgflash_elapsed_ms": elapsed_ms,
            },
        )

    def _read(
        self, response: aiohttp.ClientResponse, method: str, url: str
    ) -> Coroutine[Any, Any, bytes]:
        """Reads the whole body, decompressed, refusing more than ``max_response_size`` bytes.

        ``request`` reads an answer with no ``Content-Encoding``, of a known length within the
        cap, itself; this takes the others: too large, compressed, of unknown length, or
        declaring ``identity`` (read here as ``request`` would, after the header's check).
        """
        limit = self.max_response_size
        length = response.content_length
        if limit is not None and length is not None and length > limit:
            raise ResponseTooLargeError(
                limit=limit, size=length, status=response.status, method=method, url=url
            )
        encoding = response.headers.get(_CONTENT_ENCODING, "identity")
        if encoding != "identity":
            encoding = encoding.strip().lower()
        if encoding == "identity" and (limit is None or length is not None):
            return response.read()  # aiohttp reads no more than Content-Length
        if encoding not in ("identity", "gzip", "x-gzip", "deflate"):
            reason = f"the answer uses an encoding the client did not ask for: {encoding!r}"
            raise ResponseDecodeError(
                reason, status=response.status, body=b"", method=method, url=url
            )
        return self._read_capped(response, encoding, method, url)

    async def _read_capped(
        self, response: aiohttp.ClientResponse, encoding: str, method: str, url: str
    ) -> bytes:
        limit = self.max_response_size
        try:
            body = await _read_bounded(response.content, encoding, limit)
        except zlib.error:
            reason = f"the {encoding} body cannot be decompressed"
            raise ResponseDecodeError(
                reason, status=response.status, body=b"", method=method, url=url
            ) from None
        if body is None:
            assert limit is not None
            raise ResponseTooLargeError(
                limit=limit, size=None, status=response.status, method=method, url=url
            )
        return body

    @staticmethod
    def _status_error(response: Response) -> APIStatusError:
        """The typed error for a non-2xx answer, from its status and error envelope."""
        code: str | None = None
        message = f"HTTP {response.status}"
        details: Any = None
        try:
            envelope = _json.loads(response.body) if response.body else None
        except ValueError:
            envelope = None
        error = envelope.get("error") if isinstance(envelope, dict) else None
        if isinstance(error, dict):
            if isinstance(error.get("code"), str):
                code = error["code"]
            if isinstance(error.get("message"), str):
                message = error["message"]
            details = error.get("details")
        elif 300 <= response.status < 400:
            message = f"redirect to {response.headers.get('Location', '?')} not followed"
        elif response.body:
            message = f"HTTP {response.status}: {response.body[:200].decode('utf-8', 'replace')!r}"
        error_class = error_for_status(response.status, code)
        fields: dict[str, Any] = {
            "status": response.status,
            "code": code,
            "details": details,
            "request_id": response.request_id,
            "method": response.method,
            "url": response.url,
            "headers": response.headers,
        }
        if issubclass(error_class, RateLimitError):
            fields["retry_after"] = parse_retry_after(response.headers.get("Retry-After"))
        return error_class(message, **fields)


def _sendable(data: bytes) -> bytes | io.BytesIO:
    # aiohttp warns about bytes bodies over 1 MiB (10,000 long ids); not a stream.
    return data if len(data) < _LARGE_BODY else io.BytesIO(data)


def _verdict(error: MsgFlashError, retry: RetryPolicy) -> tuple[str, bool]:
    """How a failed attempt may be retried, and whether it may have been processed."""
    if isinstance(error, ConnectError):
        return _RESEND, False  # never reached the server
    if isinstance(error, (QueueTimeoutError, ClientClosedError)):
        return _FINAL, error.may_have_been_processed
    if isinstance(error, ResponseTooLargeError):
        return _FINAL, not 400 <= error.status < 500  # the same answer would come again
    if isinstance(error, (APIConnectionError, ResponseDecodeError)):
        return _IF_SAFE, True  # sent; perhaps processed, answer lost or garbled
    if isinstance(error, MonthlyQuotaExceededError):
        return _FINAL, False
    if isinstance(error, RateLimitError):
        return _RATE_LIMITED, False
    if isinstance(error, APIStatusError):
        unknown = error.status >= 500 or error.status == 408
        if error.status in retry.retry_statuses:
            return _IF_SAFE, True
        return _FINAL, unknown
    return _FINAL, False


def _reason(error: MsgFlashError) -> str:
    """What went wrong, for a log line: the error's class and status, or the SDK's own words;
    never text the server sent."""
    if isinstance(error, APIStatusError):
        return f"{type(error).__name__} {error.status}{f' {error.code}' if error.code else ''}"
    if isinstance(error, ResponseDecodeError):
        return f"{type(error).__name__} (HTTP {error.status}): {error.reason}"
    return f"{type(error).__name__}: {error}"


def _queue_timeout(method: str, url: str) -> QueueTimeoutError:
    return QueueTimeoutError(
        "Timeout.total ran out waiting for a pacing turn or a connection slot; "
        "the request was never sent",
        method=method,
        url=url,
    )


def _closed_in_flight() -> ClientClosedError:
    error = ClientClosedError("the client was closed while this request was in flight")
    error.may_have_been_processed = True
    return error


def _connection_error(exc: Exception, method: str, url: str) -> APIConnectionError:
    """The SDK's error for aiohttp's: connect failures never reached the server."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return ConnectTimeoutError("timed out connecting to the server", method=method, url=url)
    if isinstance(exc, asyncio.TimeoutError):
        return ReadTimeoutError("sent, but no answer came in time", method=method, url=url)
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        # Before aiohttp 3.12 this error has no ``os_error``: reading it raises.
        reason = f"the server's certificate failed verification: {exc.certificate_error}"
        return ConnectError(f"could not connect: {reason}", method=method, url=url)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ConnectError(f"could not connect: {exc.os_error or exc}", method=method, url=url)
    if isinstance(
        exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientOSError)
    ):
        return ServerDisconnectedError(
            "the connection dropped before the answer was complete", method=method, url=url
        )
    return APIConnectionError(f"request failed: {type(exc).__name__}", method=method, url=url)


async def _read_bounded(
    chunks: aiohttp.StreamReader, encoding: str, limit: int | None
) -> bytes | None:
    """Read a body whose size is not known up front, inflating it if ``encoding`` says so;
    ``None`` as soon as it grows past ``limit`` bytes."""
    inflater: Any = None
    body = bytearray()
    async for chunk in chunks.iter_any():
        data = chunk
        if encoding != "identity":
            if inflater is None:
                # gzip, or deflate with its zlib header (wbits 47 reads both); raw deflate else.
                raw = encoding == "deflate" and data[0] & 0x0F != 8
                inflater = zlib.decompressobj(-zlib.MAX_WBITS if raw else 32 + zlib.MAX_WBITS)
            while data:
                room = 0 if limit is None else limit + 1 - len(body)
                body += inflater.decompress(data, room)
                data = inflater.unconsumed_tail
                if limit is not None and len(body) > limit:
                    return None
        else:
            body += data
        if limit is not None and len(body) > limit:
            return None
    if inflater is not None:
        body += inflater.flush()
        if limit is not None and len(body) > limit:
            return None
    return bytes(body)
