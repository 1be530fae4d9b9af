"""The client: configuration, the shared transport, and the resource namespaces."""

from __future__ import annotations

import os
import platform
import ssl
import uuid
from collections.abc import Sequence
from types import TracebackType

import aiohttp
import attrs

from ._clock import SYSTEM_CLOCK, Clock
from ._config import (
    DEFAULT_BASE_URL,
    check_retry,
    is_count,
    is_seconds,
    normalised_origin,
    require,
    resolve_base_url,
    resolve_key,
    resolve_rate_limiter,
    resolve_session_settings,
    resolve_team,
)
from ._jobs import JobsBackend
from ._limiter import RateLimiter, RequestLimiter, key_fingerprint
from ._observe import RequestStats, configure_logging_from_env
from ._policy import RetryPolicy, Timeout
from ._transport import DEFAULT_MAX_RESPONSE_SIZE, RequestOptions, Transport
from ._version import __version__
from .resources import ContactsResource, GroupsResource, JobsResource

__all__ = ["DEFAULT_BASE_URL", "MsgFlash"]

DEFAULT_POLL_INTERVAL = 2.0
"""Seconds between two polls of a job, as the API documents."""
_MIN_RESPONSE_SIZE = 1024
"""The least ``max_response_size``: below it even an error answer would not fit."""

_USER_AGENT = (
    f"msgflash-async/{__version__} aiohttp/{aiohttp.__version__} "
    f"{platform.python_implementation()}/{platform.python_version()}"
)


@attrs.frozen
class _Core:
    """What a client and its copies from ``with_options`` share."""

    transport: Transport
    clock: Clock
    poll_interval: float
    rate_limiter: RateLimiter
    owns_rate_limiter: bool


class MsgFlash:
    """An asyncio client for the MsgFlash contacts API.

    Use one client for the life of the application, ideally as ``async with MsgFlash() as
    client:``, or call ``await client.aclose()`` at shutdown. The key comes from ``api_key``
    or ``MSGFLASH_API_KEY``, and a team key's ``team_id`` (a ``str`` or ``uuid.UUID``) from
    ``team_id`` or ``MSGFLASH_TEAM_ID``. The server comes from ``base_url``,
    ``MSGFLASH_BASE_URL`` or the public API: ``http(s)://host[:port]``, optionally with a
    path prefix. ``rate_limit`` paces requests per second for the key on that server, shared
    by every client of the process (``None`` turns pacing off), or by every process when
    ``rate_limiter`` (or ``MSGFLASH_RATE_LIMITER``) names a shared one; ``max_in_flight`` caps
    concurrent requests; ``max_response_size`` caps an answer's size in bytes, decompressed
    (``None`` for no cap). A ``session`` passed in is never closed, and its silent re-send
    of dropped requests is turned off: the retry policy owns every re-send.

    The client's own session goes through ``proxy`` (``http://[user:password@]host:port``)
    or, with ``trust_env`` (the default), the ``HTTPS_PROXY``/``HTTP_PROXY`` of the base URL's
    scheme unless ``NO_PROXY`` names its host, read once here. Through a proxy an ``https``
    base URL keeps the key inside TLS; an ``http`` one shows it to the proxy. ``verify`` is
    a CA bundle's path or an ``ssl.SSLContext`` (``SSL_CERT_FILE`` works without it);
    ``trace_configs`` are aiohttp ``TraceConfig`` objects, such as OpenTelemetry's.

    A setting that cannot work raises ``ConfigurationError`` here, naming it, never the key.
    """

    contacts: ContactsResource
    """Contacts: list, create, get, update, delete, bulk delete, a contact's groups."""
    groups: GroupsResource
    """Contact groups and their members."""
    jobs: JobsResource
    """Bulk jobs."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        team_id: str | uuid.UUID | None = None,
        timeout: Timeout | float | None = None,
        retry: RetryPolicy | None = None,
        rate_limit: int | None = 10,
        max_in_flight: int | None = 64,
        session: aiohttp.ClientSession | None = None,
        allow_insecure_http: bool = False,
        job_poll_interval: float = DEFAULT_POLL_INTERVAL,
        max_response_size: int | None = DEFAULT_MAX_RESPONSE_SIZE,
        rate_limiter: RateLimiter | None = None,
        proxy: str | None = None,
        trust_env: bool = True,
        verify: str | os.PathLike[str] | ssl.SSLContext | None = None,
        trace_configs: Sequence[aiohttp.TraceConfig] = (),
        clock: Clock | None = None,
    ) -> None:
        configure_logging_from_env()
        key = resolve_key(api_key)
        team = resolve_team(key, team_id)
        require(isinstance(allow_insecure_http, bool), "allow_insecure_http", "True or False")
        url = resolve_base_url(base_url, allow_insecure_http)
        options = RequestOptions(
            timeout=Timeout() if timeout is None else Timeout.of(timeout),
            retry=check_retry(retry) or RetryPolicy(),
        )
        require(
            rate_limit is None or is_count(rate_limit, 1),
            "rate_limit",
            "a whole number of requests per second, at least 1, or None",
        )
        require(
            max_in_flight is None or is_count(max_in_flight, 1),
            "max_in_flight",
            "a whole number, at least 1, or None",
        )
        require(
            is_seconds(job_poll_interval),
            "job_poll_interval",
            "a positive, finite number of seconds",
        )
        require(
            max_response_size is None or is_count(max_response_size, _MIN_RESPONSE_SIZE),
            "max_response_size",
            f"a whole number of bytes, at least {_MIN_RESPONSE_SIZE}, or None for no limit",
        )
        require(
            session is None or isinstance(session, aiohttp.ClientSession),
            "session",
            "an aiohttp.ClientSession, or None",
        )
        network = resolve_session_settings(
            url, proxy=proxy, trust_env=trust_env, verify=verify, trace_configs=trace_configs
        )
        require(
            session is None or (proxy is None and verify is None and not trace_configs),
            "session",
            "left out when proxy, verify or trace_configs are given: "
            "they configure the client's own session",
        )
        clock = clock or SYSTEM_CLOCK
        headers = {
            "x-api-key": key,
            "Accept": "application/json",
            "User-Agent": _USER_AGENT,
        }
        if team:
            headers["X-Team-Id"] = team
        limiter, owns_limiter = resolve_rate_limiter(rate_limiter)
        fingerprint = key_fingerprint(key, normalised_origin(url))
        pacer = None if rate_limit is None else limiter.budget(fingerprint, rate_limit, clock)
        transport = Transport(
            base_url=url,
            key_fingerprint=fingerprint,
            headers=headers,
            limiter=RequestLimiter(pacer, max_in_flight, clock, rate_limit),
            clock=clock,
            session=session,
            max_response_size=max_response_size,
            network=network,
        )
        self._owner = True
        self._init(
            _Core(
                transport=transport,
                clock=clock,
                poll_interval=job_poll_interval,
                rate_limiter=limiter,
                owns_rate_limiter=owns_limiter,
            ),
            options,
            team is not None,
        )

    def _init(self, core: _Core, options: RequestOptions, has_team: bool) -> None:
        self._core = core
        self._options = options
        self._has_team = has_team
        # Handles poll through this client, so a copy's timeouts and retries apply to them.
        jobs = JobsBackend(
            progress=lambda job_id: self.jobs.progress(job_id),
            cancel=lambda job_id: self.jobs.cancel(job_id),
            get=lambda job_id: self.jobs.get(job_id),
            clock=core.clock,
            poll_interval=core.poll_interval,
        )
        self.contacts = ContactsResource(core.transport, options, jobs)
        self.groups = GroupsResource(core.transport, options, jobs)
        self.jobs = JobsResource(core.transport, options, jobs)

    @property
    def base_url(self) -> str:
        """The server this client talks to."""
        return self._core.transport.base_url

    @property
    def stats(self) -> RequestStats:
        """Counts of the requests, retries and 429s of this client so far (a snapshot)."""
        return self._core.transport.stats.snapshot()

    @property
    def rate_limit(self) -> int | None:
        """The requests per second this client paces itself to (``None``: not paced)."""
        return self._core.transport.limiter.rate

    @property
    def timeout(self) -> Timeout:
        """The timeouts of this client's calls."""
        return self._options.timeout

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy of this client's calls."""
        return self._options.retry

    def with_options(
        self, *, timeout: Timeout | float | None = None, retry: RetryPolicy | None = None
    ) -> MsgFlash:
        """A client for some calls with other timeouts or retries, sharing this one's session.

        For example ``await client.with_options(timeout=5).contacts.get(contact_id)``.
        Closing the copy does nothing; close the original.
        """
        copy = object.__new__(MsgFlash)
        copy._owner = False
        copy._init(
            self._core,
            RequestOptions(
                timeout=self.timeout if timeout is None else Timeout.of(timeout),
                retry=check_retry(retry) or self.retry,
            ),
            self._has_team,
        )
        return copy

    async def aclose(self) -> None:
        """Close the HTTP session, and the rate limiter, if the client created them.

        Safe to call twice.
        """
        if self._owner:
            await self._core.transport.aclose()
            if self._core.owns_rate_limiter:
                await self._core.rate_limiter.aclose()

    async def __aenter__(self) -> MsgFlash:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        if not hasattr(self, "_core"):  # in the locals of a traceback from __init__
            return "<MsgFlash, not set up>"
        kind = "team" if self._has_team else "personal"
        return f"<MsgFlash base_url={self.base_url!r} key=<{kind} key hidden>>"
