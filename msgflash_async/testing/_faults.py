"""Seeded random faults per route, and one-off injected responses."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Collection, Mapping
from fnmatch import fnmatchcase
from typing import Literal, get_args

import attrs

from ._errors import ApiError, rate_limited
from ._json import JSONValue

FaultKind = Literal[
    "internal_error",
    "bad_gateway",
    "service_unavailable",
    "rate_limited",
    "rate_limited_no_retry_after",
    "drop_before",
    "drop_after",
    "html_bad_gateway",
    "html_ok",
    "truncated",
]
"""A fault replacing a request's normal answer; at most one is drawn per request."""

FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)

_ERRORS: dict[FaultKind, ApiError] = {
    "internal_error": ApiError(500, "INTERNAL_ERROR", "Internal server error"),
    "bad_gateway": ApiError(502, "PROVIDER_UNAVAILABLE", "Messaging provider unavailable"),
    "service_unavailable": ApiError(503, "SERVICE_UNAVAILABLE", "Service temporarily unavailable"),
    "rate_limited": rate_limited(),
    "rate_limited_no_retry_after": rate_limited(retry_after=None),
}

_HTML_STATUS: dict[FaultKind, int] = {"html_bad_gateway": 502, "html_ok": 200}

HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>"
    "<body><h1>502 Bad Gateway</h1><hr><p>nginx</p></body></html>\n"
)
"""The body of the HTML-page faults, as a proxy in front of the API might send."""


def _probability(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be a probability between 0 and 1, not {value}")


@attrs.frozen(kw_only=True)
class FaultProfile:
    """Probabilities (0 to 1) of each fault on one request.

    One of the answer-replacing kinds is drawn per request, so their sum must not exceed 1:

    - ``internal_error`` (500 ``INTERNAL_ERROR``), ``bad_gateway`` (502 ``PROVIDER_UNAVAILABLE``),
      ``service_unavailable`` (503 ``SERVICE_UNAVAILABLE``): error envelopes, request not processed;
    - ``rate_limited`` (429 with ``Retry-After: 1``), ``rate_limited_no_retry_after`` (429 without);
    - ``drop_before``: the connection is cut before the request is processed;
    - ``drop_after``: the request is processed (state changes) and the connection is cut;
    - ``html_bad_gateway`` / ``html_ok``: an HTML page with status 502 / 200, not processed;
    - ``truncated``: processed, but the JSON body is cut in half (``application/json`` kept).

    ``latency`` is drawn independently: with that probability the request first waits a time
    drawn uniformly from ``latency_range`` seconds.
    """

    internal_error: float = attrs.field(default=0.0, validator=_probability)
    bad_gateway: float = attrs.field(default=0.0, validator=_probability)
    service_unavailable: float = attrs.field(default=0.0, validator=_probability)
    rate_limited: float = attrs.field(default=0.0, validator=_probability)
    rate_limited_no_retry_after: float = attrs.field(default=0.0, validator=_probability)
    drop_before: float = attrs.field(default=0.0, validator=_probability)
    drop_after: float = attrs.field(default=0.0, validator=_probability)
    html_bad_gateway: float = attrs.field(default=0.0, validator=_probability)
    html_ok: float = attrs.field(default=0.0, validator=_probability)
    truncated: float = attrs.field(default=0.0, validator=_probability)
    latency: float = attrs.field(default=0.0, validator=_probability)
    latency_range: tuple[float, float] = (0.05, 0.25)

    def __attrs_post_init__(self) -> None:
        if sum(self.weights().values()) > 1.0 + 1e-9:
            raise ValueError("the fault probabilities other than latency must sum to at most 1")
        low, high = self.latency_range
        if not 0.0 <= low <= high:
            raise ValueError("latency_range must be (low, high) with 0 <= low <= high")

    def weights(self) -> dict[FaultKind, float]:
        """The probability of each answer-replacing fault kind."""
        return {kind: getattr(self, kind) for kind in FAULT_KINDS}


@attrs.frozen
class FaultConfig:
    """Fault profiles per route.

    ``routes`` maps ``fnmatch`` patterns over route names (``"contacts.create"``,
    ``"groups.members.*"``, ``"*"``; unmatched paths are named ``"unknown"``) to profiles. The
    first pattern matching a request's route applies; routes no pattern matches get no faults.
    """

    routes: Mapping[str, FaultProfile] = attrs.field(factory=dict)

    def profile_for(self, route: str) -> FaultProfile | None:
        """The profile that applies to ``route``, if any."""
        for pattern, profile in self.routes.items():
            if fnmatchcase(route, pattern):
                return profile
        return None


@attrs.frozen
class InjectedResponse:
    """A response answered once, to the next request whose route matches ``route``.

    ``body`` None sends the error envelope built from ``code`` and ``message``; any other value
    is sent as JSON. A 204 status sends no body.
    """

    status: int
    code: str = "INTERNAL_ERROR"
    message: str = "Injected error"
    headers: Mapping[str, str] = attrs.field(factory=dict)
    route: str = "*"
    body: JSONValue = None

    def payload(self) -> JSONValue:
        """The JSON body to send."""
        if self.body is not None:
            return self.body
        return ApiError(self.status, self.code, self.message).envelope()


@attrs.frozen
class Fault:
    """What happens to one request: an optional fault kind and a delay before handling it."""

    kind: FaultKind | None = None
    latency: float = 0.0

    def error(self) -> ApiError | None:
        """The error envelope answered instead of processing, for the envelope kinds."""
        return None if self.kind is None else _ERRORS.get(self.kind)

    def html_status(self) -> int | None:
        """The status of the HTML page answered instead of processing, for the HTML kinds."""
        return None if self.kind is None else _HTML_STATUS.get(self.kind)


class FaultInjector:
    """Draws faults from a ``random.Random(seed)`` and counts those injected, per kind."""

    def __init__(self, config: FaultConfig, *, seed: int, route_names: Collection[str]) -> None:
        self._route_names = frozenset(route_names) | {"unknown"}
        self.config = config
        self.seed = seed
        self._random = random.Random(seed)
        self._injected: deque[InjectedResponse] = deque()
        self.counts: dict[str, int] = dict.fromkeys((*FAULT_KINDS, "latency", "injected"), 0)

    @property
    def config(self) -> FaultConfig:
        """The fault profiles in effect; may be replaced at any time."""
        return self._config

    @config.setter
    def config(self, config: FaultConfig) -> None:
        for pattern in config.routes:
            self._check_pattern(pattern)
        self._config = config

    def inject(self, response: InjectedResponse) -> None:
        """Queue a one-off response; queued responses are used in order."""
        self._check_pattern(response.route)
        self._injected.append(response)

    def take_injected(self, route: str) -> InjectedResponse | None:
        """Remove and return the first queued response matching ``route``."""
        for response in self._injected:
            if fnmatchcase(route, response.route):
                self._injected.remove(response)
                self.counts["injected"] += 1
                return response
        return None

    def draw(self, route: str) -> Fault:
        """Decide the fault, if any, for one request to ``route``."""
        profile = self._config.profile_for(route)
        if profile is None:
            return Fault()
        latency = 0.0
        if self._random.random() < profile.latency:
            latency = self._random.uniform(*profile.latency_range)
            self.counts["latency"] += 1
        roll = self._random.random()
        for kind, weight in profile.weights().items():
            if roll < weight:
                self.counts[kind] += 1
                return Fault(kind, latency)
            roll -= weight
        return Fault(None, latency)

    def _check_pattern(self, pattern: str) -> None:
        if not any(fnmatchcase(name, pattern) for name in self._route_names):
            raise ValueError(f"the route pattern {pattern!r} matches no route name")
