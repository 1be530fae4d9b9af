"""The whole server's state: keys, workspaces, limits, jobs, faults and the request log."""

from __future__ import annotations

import secrets

from ._clock import Clock, utc_now
from ._errors import ApiError
from ._faults import FaultConfig, FaultInjector
from ._jobs import JobRunner
from ._models import JobFormat, JobIdKey, ProgressBody
from ._ratelimit import SlidingWindowLimiter
from ._requestlog import RequestLog
from ._routes import ROUTE_NAMES
from ._workspace import Workspace

_INVALID_KEY = "Invalid or missing API key"


def new_personal_key() -> str:
    """A fresh personal key: ``msgf_live_`` and 64 lowercase hex digits."""
    return "msgf_live_" + secrets.token_hex(32)


class ServerState:
    """Everything the app serves from, independent of aiohttp; see ``LocalMsgFlash`` for the
    options.
    """

    def __init__(
        self,
        *,
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
        self.clock = clock
        self.monthly_quota = monthly_quota
        self.max_contact_groups = max_contact_groups
        self.limiter = SlidingWindowLimiter(
            rate_limit, window=rate_limit_window, retry_after=rate_limit_retry_after
        )
        self.jobs = JobRunner(
            batch_size=job_batch_size, interval=job_batch_interval, manual=manual_jobs
        )
        self.job_format = JobFormat(job_id_key, job_progress_body)
        """How job objects are written; replaceable at any time."""
        self.faults = FaultInjector(
            faults or FaultConfig(),
            seed=secrets.randbits(32) if seed is None else seed,
            route_names=ROUTE_NAMES,
        )
        self.log = RequestLog(request_log_size)
        self._personal: dict[str, Workspace] = {}
        self._team: dict[str, tuple[str, Workspace]] = {}
        self._teams: dict[str, Workspace] = {}
        self.api_key = api_key or new_personal_key()
        self.add_personal_key(self.api_key)

    def new_workspace(self) -> Workspace:
        """A fresh workspace with the server's default plan settings."""
        return Workspace(
            clock=self.clock,
            max_contact_groups=self.max_contact_groups,
            monthly_quota=self.monthly_quota,
        )

    def add_personal_key(self, key: str, workspace: Workspace | None = None) -> Workspace:
        """Accept ``key`` as a personal key of ``workspace`` (a new one by default)."""
        self._check_new_key(key)
        self._personal[key] = workspace or self.new_workspace()
        return self._personal[key]

    def add_team_key(self, key: str, team_id: str) -> Workspace:
        """Accept ``key`` as a key of team ``team_id``; return the team's shared workspace."""
        self._check_new_key(key)
        workspace = self._teams.setdefault(team_id, self.new_workspace())
        self._team[key] = (team_id, workspace)
        return workspace

    def revoke_key(self, key: str) -> None:
        """Stop accepting ``key`` at once; its workspace stays."""
        if self._personal.pop(key, None) is None and self._team.pop(key, None) is None:
            raise KeyError(key)

    def workspace(self, key: str | None = None) -> Workspace:
        """The workspace of ``key`` (the default key if None)."""
        key = self.api_key if key is None else key
        if key in self._personal:
            return self._personal[key]
        return self._team[key][1]

    def workspaces(self) -> list[Workspace]:
        """Every workspace a key reaches."""
        reached = [*self._personal.values(), *(ws for _, ws in self._team.values())]
        return list({id(ws): ws for ws in reached}.values())

    def authenticate(self, api_key: str | None, team_id: str | None) -> Workspace:
        """The caller's workspace, or 401 ``UNAUTHORIZED`` / 403 ``TEAM_KEY_REQUIRED`` (§1.1)."""
        if api_key is None:
            raise ApiError(401, "UNAUTHORIZED", _INVALID_KEY)
        personal = self._personal.get(api_key)
        if personal is not None:
            if team_id is not None:
                raise ApiError(
                    403, "TEAM_KEY_REQUIRED", "X-Team-Id may only be sent with a team API key"
                )
            return personal
        team = self._team.get(api_key)
        if team is None or team[0] != team_id:
            raise ApiError(401, "UNAUTHORIZED", _INVALID_KEY)
        return team[1]

    def admit(self, api_key: str, workspace: Workspace) -> None:
        """Apply the per-key rate limit, then the workspace's monthly quota, and count the request.

        A request answered 429 counts toward neither.
        """
        self.limiter.check(api_key)
        workspace.quota.check()
        self.limiter.record(api_key)
        workspace.quota.record()

    def _check_new_key(self, key: str) -> None:
        if key in self._personal or key in self._team:
            raise ValueError("this API key is already registered")
