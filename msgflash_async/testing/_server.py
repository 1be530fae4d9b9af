"""``LocalMsgFlash``: the fake server on a local port, with hooks for tests."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType

from aiohttp import web

from ._app import create_app
from ._clock import Clock, utc_now
from ._faults import FaultConfig, InjectedResponse
from ._json import JSONValue
from ._models import Job, JobIdKey, ProgressBody
from ._requestlog import LoggedRequest
from ._state import ServerState
from ._workspace import Workspace


class LocalMsgFlash:
    """A stateful MsgFlash API on ``http://127.0.0.1:<ephemeral port>`` by default.

    Use ``async with LocalMsgFlash(...) as server`` or ``await start()`` / ``await close()``,
    or hand ``app`` to aiohttp's test client without starting. Every option is keyword-only:

    - ``api_key``: the default personal key (generated ``msgf_live_`` + 64 hex if None);
    - ``rate_limit``: requests per sliding second per key, None for no limit;
    - ``rate_limit_window``: the sliding window's length in seconds (the API's 1.0); a shorter
      one tolerates the scheduling delays of a loaded test machine;
    - ``rate_limit_retry_after``: False answers the rate limit's 429 without ``Retry-After``,
      as the vendor documents it;
    - ``monthly_quota``: requests per calendar month per workspace, None for no quota;
    - ``max_contact_groups``: the group limit of new workspaces, ``-1`` for none;
    - ``job_batch_size``, ``job_batch_interval``: ids per job batch and seconds between batches;
    - ``manual_jobs``: jobs move only through ``advance_jobs`` and ``finish_jobs``;
    - ``job_id_key``: ``"jobId"`` names the id of job objects (J1 to J4) ``jobId``, as the
      202 body does, instead of ``id``;
    - ``job_progress_body``: what the progress endpoint (J3) answers: ``"full"`` (the J2 body),
      ``"counts"`` (only ``status``, ``progress`` and ``processedCount``) or ``"status"``;
    - ``faults``, ``seed``: random fault profiles per route and the seed of their draws;
    - ``clock``: returns the current aware datetime, for ``createdAt`` and friends;
    - ``request_log_size``: requests kept in ``requests`` (None keeps all, 0 none).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        rate_limit: int | None = 10,
        rate_limit_window: float = 1.0,
        rate_limit_retry_after: bool = True,
        monthly_quota: int | None = None,
        max_contact_groups: int = 10,
        job_batch_size: int = 500,
        job_batch_interval: float = 0.2,
        manual_jobs: bool = False,
        job_id_key: JobIdKey = "id",
        job_progress_body: ProgressBody = "full",
        faults: FaultConfig | None = None,
        seed: int | None = None,
        clock: Clock = utc_now,
        request_log_size: int | None = 1000,
    ) -> None:
        self.state = ServerState(
            api_key=api_key,
            rate_limit=rate_limit,
            rate_limit_window=rate_limit_window,
            rate_limit_retry_after=rate_limit_retry_after,
            monthly_quota=monthly_quota,
            max_contact_groups=max_contact_groups,
            job_batch_size=job_batch_size,
            job_batch_interval=job_batch_interval,
            manual_jobs=manual_jobs,
            job_id_key=job_id_key,
            job_progress_body=job_progress_body,
            faults=faults,
            seed=seed,
            clock=clock,
            request_log_size=request_log_size,
        )
        """All server state, for assertions beyond the helpers below."""
        self.app = create_app(self.state)
        """The ``aiohttp.web`` application."""
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    async def __aenter__(self) -> LocalMsgFlash:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        """Start listening."""
        if self._runner is not None:
            raise RuntimeError("the server is already started")
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, self._host, self._port).start()
        except BaseException:
            await runner.cleanup()
            raise
        host, port = runner.addresses[0][:2]
        self._base_url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        self._runner = runner

    async def close(self) -> None:
        """Stop listening and stop the real-time jobs."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    @property
    def base_url(self) -> str:
        """``http://host:port``, once started."""
        if self._base_url is None:
            raise RuntimeError("the server is not started")
        return self._base_url

    @property
    def api_key(self) -> str:
        """The default personal key."""
        return self.state.api_key

    # Keys and workspaces

    def workspace(self, key: str | None = None) -> Workspace:
        """The workspace of ``key`` (of ``api_key`` if None), to seed and inspect directly."""
        return self.state.workspace(key)

    def add_personal_key(self, key: str, workspace: Workspace | None = None) -> Workspace:
        """Accept another personal key, on a new workspace unless one is given."""
        return self.state.add_personal_key(key, workspace)

    def add_team_key(self, key: str, team_id: str) -> Workspace:
        """Accept a team key, sent with ``X-Team-Id: team_id``; return the team's workspace."""
        return self.state.add_team_key(key, team_id)

    def revoke_key(self, key: str) -> None:
        """Answer 401 to ``key`` from now on."""
        self.state.revoke_key(key)

    @property
    def rate_limit(self) -> int | None:
        """Requests per sliding second per key; settable, None for no limit."""
        return self.state.limiter.limit

    @rate_limit.setter
    def rate_limit(self, limit: int | None) -> None:
        self.state.limiter.limit = limit

    @property
    def rate_limit_retry_after(self) -> bool:
        """Whether the rate limit's 429 carries ``Retry-After: 1``; settable."""
        return self.state.limiter.retry_after

    @rate_limit_retry_after.setter
    def rate_limit_retry_after(self, enabled: bool) -> None:
        self.state.limiter.retry_after = enabled

    # Jobs

    def advance_jobs(self, batches: int = 1) -> None:
        """Run up to ``batches`` batches of every unfinished job now."""
        self.state.jobs.advance(batches)

    def finish_jobs(self) -> None:
        """Run every unfinished job to its end now."""
        self.state.jobs.finish()

    def fail_job(self, job_id: str, error: str = "Forced failure") -> Job:
        """Make an unfinished job ``failed`` with ``error``, keeping its work."""
        for workspace in self.state.workspaces():
            if job_id in workspace.jobs:
                return workspace.fail_job(job_id, error)
        raise KeyError(job_id)

    # Faults and the request log

    @property
    def faults(self) -> FaultConfig:
        """The random fault profiles; settable at any time."""
        return self.state.faults.config

    @faults.setter
    def faults(self, config: FaultConfig) -> None:
        self.state.faults.config = config

    @property
    def seed(self) -> int:
        """The seed of the fault draws (random if none was given), to reproduce a run."""
        return self.state.faults.seed

    @property
    def fault_counts(self) -> dict[str, int]:
        """How many faults were injected, per kind, plus ``latency`` and ``injected``."""
        return dict(self.state.faults.counts)

    def inject_response(
        self,
        *,
        status: int,
        code: str = "INTERNAL_ERROR",
        message: str = "Injected error",
        headers: Mapping[str, str] | None = None,
        route: str = "*",
        body: JSONValue = None,
    ) -> None:
        """Answer the next request whose route name matches ``route`` with this response.

        The error envelope is built from ``code`` and ``message`` unless ``body`` is given.
        The request is not processed and counts toward no limit.
        """
        self.state.faults.inject(
            InjectedResponse(status, code, message, dict(headers or {}), route, body)
        )

    @property
    def requests(self) -> list[LoggedRequest]:
        """The logged requests, oldest first."""
        return self.state.log.entries()

    def clear_requests(self) -> None:
        """Empty the request log."""
        self.state.log.clear()
