"""The HTTP layer: one aiohttp session, the retry loop and the mapping of failures to errors.

Nothing here knows about contacts or groups; resources hand it a method, a path and a body.
"""

from __future__ import annotations

import asyncio
import io
import logging
import random
from collections.abc import Mapping
from typing import Any, NamedTuple

import aiohttp
import attrs
from multidict import CIMultiDictProxy

from . import _json
from ._clock import Clock
from ._errors import (
    APIConnectionError,
    APIStatusError,
    ConnectError,
    ConnectTimeoutError,
    MonthlyQuotaExceededError,
    MsgFlashError,
    RateLimitError,
    ReadTimeoutError,
    ResponseDecodeError,
    ServerDisconnectedError,
    error_for_status,
)
from ._limiter import RequestLimiter
from ._policy import RetryPolicy, Timeout, parse_retry_after

__all__ = ["RequestOptions", "Response", "Transport"]

logger = logging.getLogger("msgflash_async")

SAFE_TO_RESEND = frozenset({"GET", "PUT", "DELETE"})
_LARGE_BODY = 1 << 20


@attrs.frozen
class RequestOptions:
    """Per-call settings: the client's, or those of ``client.with_options(...)``."""

    timeout: Timeout
    retry: RetryPolicy


class Response(NamedTuple):
    """A successful (2xx) answer, read in full, with the payload under ``data`` parsed.

    A named tuple: it is built for every request, and that is the cheapest immutable value.
    """

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    method: str
    url: str
    data: Any = None
    """The payload under ``data``; ``None`` for an empty body (a 204)."""

    @property
    def request_id(self) -> str | None:
        """The server's ``x-request-id``, if it sent one."""
        return self.headers.get("x-request-id")

    def decode_error(self, reason: str) -> ResponseDecodeError:
        """A decode error about this response, with a short excerpt of its body."""
        return ResponseDecodeError(
            reason, status=self.status, body=self.body, method=self.method, url=self.url
        )


def _answer(
    status: int, headers: CIMultiDictProxy[str], body: bytes, method: str, url: str
) -> Response:
    """The response, with the payload of a 2xx parsed; a decode error if it has none."""
    if not 200 <= status < 300 or not body:
        return Response(status, headers, body, method, url)
    try:
        envelope = _json.loads(body)
    except ValueError:
        envelope = None
        reason = "the body is not valid JSON"
    else:
        reason = "the body has no 'data' envelope"
    if not isinstance(envelope, dict) or "data" not in envelope:
        raise ResponseDecodeError(reason, status=status, body=body, method=method, url=url)
    return Response(status, headers, body, method, url, envelope["data"])


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
    ) -> None:
        self.base_url = base_url
        # Never bound to a local variable on the request path: tracebacks that print locals
        # (capture_locals, --showlocals) must not print the key.
        self._headers = dict(headers)
        self._json_headers = {**headers, "Content-Type": "application/json"}
        self.limiter = limiter
        self.clock = clock
        self._session = session
        self._owns_session = session is None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._rng = random.Random()
        self._timeouts: dict[int, tuple[Timeout, aiohttp.ClientTimeout]] = {}

    @property
    def closed(self) -> bool:
        """Whether ``aclose`` has run."""
        return self._closed

    def _session_here(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            if self._loop is not None:
                raise MsgFlashError(
                    "this client belongs to another event loop; create one client per loop"
                )
            self._loop = loop
        if self._closed:
            raise MsgFlashError("this client is closed")
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.limiter.max_in_flight or 100),
                trust_env=False,
            )
            # aiohttp silently re-sends GET, PUT and DELETE once when a kept-alive connection
            # drops. The retry policy must own every re-send, so turn that off.
            self._session._retry_connection = False
        return self._session

    async def aclose(self) -> None:
        """Close the session if this transport created it; a session passed in stays open."""
        self._closed = True
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()

    async def request(
        self,
        method: str,
        path: str,
        options: RequestOptions,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Any = None,
        resend_after_unknown_outcome: bool | None = None,
    ) -> Response:
        """Send a request, retrying as ``options.retry`` allows; return the 2xx answer.

        ``resend_after_unknown_outcome`` says whether the request may be sent again when a
        first attempt may have been processed; by default only GET, PUT and DELETE may.
        Errors raised after such a re-send have ``is_replay`` set.
        """
        session = self._session_here()
        url = self.base_url + path
        data = None if body is None else _json.dumps(body)
        if resend_after_unknown_outcome is None:
            resend_after_unknown_outcome = method in SAFE_TO_RESEND
        retry, timeout = options.retry, options.timeout
        deadline = None if timeout.total is None else self.clock.monotonic() + timeout.total
        replay = False
        attempt = 0
        while True:
            try:
                response = await self._send(session, method, url, params, data, timeout, deadline)
                if 200 <= response.status < 300:
                    return response
                raise self._status_error(response)
            except MsgFlashError as error:
                if replay and isinstance(error, APIStatusError):
                    error.is_replay = True
                retryable, outcome_unknown, delay = self._judge(
                    error, retry, resend_after_unknown_outcome
                )
                if not retryable or attempt >= retry.max_retries:
                    raise
                if delay is None:
                    delay = retry.backoff(attempt, self._rng)
                elif delay > retry.max_retry_after:
                    raise
                if deadline is not None and self.clock.monotonic() + delay >= deadline:
                    raise
                attempt += 1
                replay = replay or outcome_unknown
                logger.debug(
                    "retry %d of %s %s in %.2f s after %s", attempt, method, path, delay, error
                )
            await self.clock.sleep(delay)

    @staticmethod
    def _judge(
        error: MsgFlashError, retry: RetryPolicy, resend_allowed: bool
    ) -> tuple[bool, bool, float | None]:
        """(may retry, outcome unknown, wait asked by the server) for a failed attempt."""
        if isinstance(error, ConnectError):
            return True, False, None  # never reached the server
        if isinstance(error, (APIConnectionError, ResponseDecodeError)):
            return resend_allowed, True, None  # sent; perhaps processed, answer lost or garbled
        if isinstance(error, MonthlyQuotaExceededError):
            return False, False, None
        if isinstance(error, RateLimitError):
            return True, False, error.retry_after  # a 429 was not processed
        if isinstance(error, APIStatusError) and error.status in retry.retry_statuses:
            return resend_allowed, True, None
        return False, False, None

    async def _send(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: str,
        params: Mapping[str, str | int] | None,
        data: bytes | None,
        timeout: Timeout,
        deadline: float | None,
    ) -> Response:
        client_timeout = self._client_timeout(timeout, deadline)
        # aiohttp warns about raw bytes bodies over 1 MiB (10,000 long ids); a stream is fine.
        payload = data if data is None or len(data) < _LARGE_BODY else io.BytesIO(data)
        await self.limiter.acquire()
        try:
            async with session.request(
                method,
                url,
                params=params,
                data=payload,
                headers=self._headers if data is None else self._json_headers,
                timeout=client_timeout,
                allow_redirects=False,
            ) as response:
                body = await response.read()
                return _answer(response.status, response.headers, body, method, url)
        except aiohttp.ConnectionTimeoutError:
            raise ConnectTimeoutError(
                "timed out connecting to the server", method=method, url=url
            ) from None
        except aiohttp.ClientConnectorError as exc:
            raise ConnectError(
                f"could not connect: {exc.os_error or exc}", method=method, url=url
            ) from None
        except asyncio.TimeoutError:
            raise ReadTimeoutError(
                "sent, but no answer came in time", method=method, url=url
            ) from None
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientOSError):
            raise ServerDisconnectedError(
                "the connection dropped before the answer was complete", method=method, url=url
            ) from None
        except aiohttp.ClientError as exc:
            raise APIConnectionError(
                f"request failed: {type(exc).__name__}", method=method, url=url
            ) from None
        finally:
            self.limiter.release()

    def _client_timeout(self, timeout: Timeout, deadline: float | None) -> aiohttp.ClientTimeout:
        """aiohttp's timeouts for one attempt: ``read`` for it all, and none past the deadline.

        One timer per attempt is cheaper than aiohttp's read timer, which it moves at every
        chunk received; a new connection is bounded by ``connect`` besides.
        """
        limit = timeout.read
        if deadline is not None:
            remaining = deadline - self.clock.monotonic()
            if limit is None or remaining < limit:
                return aiohttp.ClientTimeout(total=max(0.001, remaining), connect=timeout.connect)
        cached = self._timeouts.get(id(timeout))  # hashing a Timeout costs more than this
        if cached is None or cached[0] is not timeout:
            cached = self._timeouts[id(timeout)] = (
                timeout,
                aiohttp.ClientTimeout(total=limit, connect=timeout.connect),
            )
        return cached[1]

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
