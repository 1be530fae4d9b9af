"""The client: configuration, the shared transport, and the resource namespaces."""

from __future__ import annotations

import ipaddress
import os
import platform
import re
from types import TracebackType
from urllib.parse import urlsplit

import aiohttp
import attrs

from ._clock import SYSTEM_CLOCK, Clock
from ._errors import ConfigurationError
from ._jobs import JobsBackend
from ._limiter import RequestLimiter, shared_pacer
from ._policy import RetryPolicy, Timeout
from ._transport import RequestOptions, Transport
from ._version import __version__
from .resources import ContactsResource, GroupsResource, JobsResource

__all__ = ["DEFAULT_BASE_URL", "MsgFlash"]

DEFAULT_BASE_URL = "https://srv.msgflash.com"
DEFAULT_POLL_INTERVAL = 2.0
"""Seconds between two polls of a job, as the API documents."""

_PERSONAL_KEY = re.compile(r"msgf_live_[0-9a-f]{64}")
_TEAM_PREFIX = "msgf_team_"
_USER_AGENT = (
    f"msgflash-async/{__version__} aiohttp/{aiohttp.__version__} "
    f"{platform.python_implementation()}/{platform.python_version()}"
)


def _resolve_key(api_key: str | None) -> str:
    key = api_key if api_key is not None else os.environ.get("MSGFLASH_API_KEY")
    if not key:
        raise ConfigurationError(
            "no API key: pass api_key=... or set the MSGFLASH_API_KEY environment variable"
        )
    if key.startswith(_TEAM_PREFIX):
        if len(key) == len(_TEAM_PREFIX) or not key.isascii() or not key.isprintable():
            raise ConfigurationError("the team API key is malformed (msgf_team_ and then the key)")
    elif not _PERSONAL_KEY.fullmatch(key):
        # Never echo the key: it may be a real secret pasted in the wrong place.
        raise ConfigurationError(
            "the API key is malformed: a personal key is msgf_live_ and 64 lowercase hex "
            "characters, a team key starts with msgf_team_"
        )
    return key


def _resolve_team(key: str, team_id: str | None) -> str | None:
    team = team_id if team_id is not None else os.environ.get("MSGFLASH_TEAM_ID") or None
    if key.startswith(_TEAM_PREFIX) and not team:
        raise ConfigurationError(
            "a team key (msgf_team_...) needs team_id=... or the MSGFLASH_TEAM_ID variable"
        )
    if not key.startswith(_TEAM_PREFIX) and team:
        raise ConfigurationError(
            "a personal key (msgf_live_...) must not send a team id; "
            "unset team_id and MSGFLASH_TEAM_ID, or use the team's key"
        )
    return team


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _resolve_base_url(base_url: str | None, allow_insecure_http: bool) -> str:
    url = (base_url or os.environ.get("MSGFLASH_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"base_url must be an http(s) URL with a host, got {url!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigurationError("base_url must not carry credentials, a query or a fragment")
    if parts.scheme == "http" and not allow_insecure_http and not _is_loopback(parts.hostname):
        raise ConfigurationError(
            f"refusing plain http to {parts.hostname}: the API key would travel unencrypted; "
            "use https, or pass allow_insecure_http=True"
        )
    return url


@attrs.frozen
class _Core:
    """What a client and its copies from ``with_options`` share."""

    transport: Transport
    clock: Clock
    poll_interval: float


class MsgFlash:
    """An asyncio client for the MsgFlash contacts API.

    Use one client for the life of the application, ideally as ``async with MsgFlash() as
    client:``, or call ``await client.aclose()`` at shutdown. The key comes from ``api_key``
    or ``MSGFLASH_API_KEY``; the server from ``base_url``, ``MSGFLASH_BASE_URL`` or the
    public API. ``rate_limit`` paces requests per second for the key (``None`` turns pacing
    off), ``max_in_flight`` caps concurrent requests. A ``session`` passed in is used as is
    and never closed.
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
        team_id: str | None = None,
        timeout: Timeout | float | None = None,
        retry: RetryPolicy | None = None,
        rate_limit: int | None = 10,
        max_in_flight: int | None = 64,
        session: aiohttp.ClientSession | None = None,
        allow_insecure_http: bool = False,
        job_poll_interval: float = DEFAULT_POLL_INTERVAL,
        clock: Clock | None = None,
    ) -> None:
        key = _resolve_key(api_key)
        team = _resolve_team(key, team_id)
        url = _resolve_base_url(base_url, allow_insecure_http)
        if rate_limit is not None and rate_limit < 1:
            raise ConfigurationError("rate_limit must be at least 1 request per second, or None")
        if max_in_flight is not None and max_in_flight < 1:
            raise ConfigurationError("max_in_flight must be at least 1, or None")
        if job_poll_interval <= 0:
            raise ConfigurationError("job_poll_interval must be positive")
        clock = clock or SYSTEM_CLOCK
        headers = {
            "x-api-key": key,
            "Accept": "application/json",
            "User-Agent": _USER_AGENT,
        }
        if team:
            headers["X-Team-Id"] = team
        pacer = None if rate_limit is None else shared_pacer(key, url, rate_limit, clock)
        transport = Transport(
            base_url=url,
            headers=headers,
            limiter=RequestLimiter(pacer, max_in_flight),
            clock=clock,
            session=session,
        )
        self._owner = True
        self._init(
            _Core(transport=transport, clock=clock, poll_interval=job_poll_interval),
            RequestOptions(
                timeout=Timeout.of(timeout) if timeout is not None else Timeout(),
                retry=retry or RetryPolicy(),
            ),
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
                retry=self.retry if retry is None else retry,
            ),
            self._has_team,
        )
        return copy

    async def aclose(self) -> None:
        """Close the HTTP session if the client created it. Safe to call twice."""
        if self._owner:
            await self._core.transport.aclose()

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
        kind = "team" if self._has_team else "personal"
        return f"<MsgFlash base_url={self.base_url!r} key=<{kind} key hidden>>"
