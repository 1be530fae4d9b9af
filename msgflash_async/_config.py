"""Client settings: the API key, the team id and the base URL, checked and normalised.

Every check raises ``ConfigurationError`` naming the setting, never its value: a secret
may have been passed in the wrong place.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import ssl
import unicodedata
import urllib.request
import uuid
from typing import NamedTuple
from urllib.parse import urlsplit

import aiohttp
import attrs

from ._errors import ConfigurationError
from ._limiter import IN_PROCESS, RateLimiter
from ._policy import RetryPolicy

__all__ = [
    "DEFAULT_BASE_URL",
    "check_retry",
    "is_count",
    "is_seconds",
    "normalised_origin",
    "require",
    "resolve_base_url",
    "resolve_key",
    "resolve_rate_limiter",
    "resolve_team",
]

DEFAULT_BASE_URL = "https://srv.msgflash.com"

_PERSONAL_KEY = re.compile(r"msgf_live_[0-9a-f]{64}")
_TEAM_PREFIX = "msgf_team_"


class _Secret(str):
    """A string whose ``repr`` is a placeholder: the API key, wherever it travels.

    Tracebacks that print local variables (``capture_locals``, ``--showlocals``, rich,
    loguru), and ``repr`` of aiohttp's header dicts and of its ``request_info``, all use
    ``repr``, so they never show the key; pickles and copies keep the class. ``str()`` and
    formatting still give the real value: aiohttp writes header values with them, so the
    server receives the key.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "'<redacted>'"


def require(ok: bool, name: str, what: str) -> None:
    """Raise a ``ConfigurationError`` saying that ``name`` must be ``what``, unless ``ok``.

    Messages name the parameter, never its value: a secret may have been passed by mistake.
    """
    if not ok:
        raise ConfigurationError(f"{name} must be {what}")


def is_seconds(value: object) -> bool:
    """Whether ``value`` is a positive, finite number of seconds (a ``bool`` is not)."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def is_count(value: object, minimum: int) -> bool:
    """Whether ``value`` is a whole number (not a ``bool``) of at least ``minimum``."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def check_retry(value: RetryPolicy | None) -> RetryPolicy | None:
    """A ``retry=`` argument, refused unless it is a ``RetryPolicy`` or ``None``."""
    require(value is None or isinstance(value, RetryPolicy), "retry", "a RetryPolicy, or None")
    return value


def resolve_key(api_key: object) -> _Secret:
    # Wrapped at once, so that no frame of ours holds the key in a printable local.
    if api_key is None:
        key = _Secret(os.environ.get("MSGFLASH_API_KEY", ""))
    else:
        require(isinstance(api_key, str), "api_key", "a str")
        key = _Secret(api_key)
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


def resolve_team(key: str, team_id: object) -> str | None:
    name, value = (
        ("MSGFLASH_TEAM_ID", os.environ.get("MSGFLASH_TEAM_ID") or None)
        if team_id is None
        else ("team_id", team_id)
    )
    team: str | None
    if value is None or isinstance(value, uuid.UUID):
        team = None if value is None else str(value)
    elif (
        isinstance(value, str)
        and value.isascii()
        and value.isprintable()
        and value.strip() == value != ""
    ):
        team = value
    else:
        # It becomes the X-Team-Id header: aiohttp would refuse it at the first request
        # (a control character) or the server would never match it. Never echoed: it may be
        # the key, pasted in the wrong place.
        raise ConfigurationError(
            f"{name} must be a UUID, or a non-empty str of printable ASCII characters "
            "without surrounding spaces"
        )
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


_HOST_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")
_PATH_SEGMENT = re.compile(r"[A-Za-z0-9._~-]+")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_LOOPBACK_HOST = "localhost"


class _Origin(NamedTuple):
    """The server of a base URL, its host in one spelling."""

    scheme: str
    host: str
    """Lower case, IDNA-encoded, no trailing dot; an IP address in its canonical form."""
    port: int
    """The port, the scheme's default when the URL has none."""


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _is_loopback(host: str) -> bool:
    """Whether ``host``, in the spelling of ``_Origin.host``, is this machine."""
    if host == _LOOPBACK_HOST or host.endswith("." + _LOOPBACK_HOST):
        return True
    ip = _ip(host)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip is not None and ip.is_loopback


def _canonical_host(host: str, bracketed: bool) -> str:
    """The one spelling of a host from ``urlsplit`` (already lower case)."""
    ip = _ip(host)
    if bracketed or ip is not None:
        require(
            isinstance(ip, ipaddress.IPv6Address) == bracketed,
            "base_url's host",
            "a name, an IPv4 address or an IPv6 address in brackets",
        )
        return str(ip)
    # Python's IDNA codec applies NFKC (nameprep): a host it changes would reach a
    # server other than the one written, so refuse it rather than guess.
    require(
        unicodedata.normalize("NFKC", host) == host,
        "base_url's host",
        "unchanged by NFKC normalisation (no full-width or compatibility characters)",
    )
    name = host.removesuffix(".")
    try:
        name = name.encode("idna").decode("ascii").lower()
    except UnicodeError:
        name = ""
    require(
        all(_HOST_LABEL.fullmatch(label) for label in name.split(".")),
        "base_url's host",
        "a valid host name (labels of letters, digits, - and _, at most 63 long)",
    )
    return name


def _split_base_url(url: str) -> _Origin:
    """The server of a base URL, refusing anything but ``http(s)://host[:port][/prefix]``."""
    require(
        all(char.isprintable() and not char.isspace() for char in url),
        "base_url",
        "free of spaces and control characters",
    )
    # urlsplit drops an empty query or fragment ("https://x.test/?"): look at the text.
    require(
        "?" not in url and "#" not in url and "@" not in url,
        "base_url",
        "free of credentials, a query and a fragment",
    )
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # brackets holding no IPv6, characters NFKC turns into / ? # @ :
        host = None
    if host is None or parts.scheme not in _DEFAULT_PORTS:
        raise ConfigurationError("base_url must be an http:// or https:// URL with a host")
    netloc = parts.netloc
    bracketed = netloc.startswith("[")
    before_port, colon, port_text = netloc[netloc.find("]") + 1 :].partition(":")
    require(
        not colon or (port_text.isascii() and port_text.isdigit() and 0 < int(port_text) < 65536),
        "base_url's port",
        "a number from 1 to 65535",
    )
    require(not (bracketed and before_port), "base_url's host", "an IPv6 address in brackets")
    require(
        all(
            _PATH_SEGMENT.fullmatch(segment) and segment not in (".", "..")
            for segment in parts.path.rstrip("/").split("/")[1:]
        ),
        "base_url's path",
        "empty or a plain prefix such as /proxy (letters, digits and -._~ between slashes)",
    )
    return _Origin(
        scheme=parts.scheme,
        host=_canonical_host(host, bracketed),
        port=int(port_text) if colon else _DEFAULT_PORTS[parts.scheme],
    )


def normalised_origin(base_url: str) -> str:
    """One spelling of the server a base URL names: ``scheme://host:port``.

    Lower case, IDNA-encoded, no trailing dot, the default port written out, and every
    spelling of this machine (``localhost``, ``*.localhost``, ``127.x.x.x``, ``::1``) as
    ``localhost``. Clients of one key whose URLs give one origin share one pacer. Raises
    ``ConfigurationError`` for a URL the client would refuse.
    """
    origin = _split_base_url(base_url)
    host = origin.host
    if _is_loopback(host):
        host = _LOOPBACK_HOST
    elif ":" in host:
        host = f"[{host}]"
    return f"{origin.scheme}://{host}:{origin.port}"


def resolve_base_url(base_url: object, allow_insecure_http: bool) -> str:
    if base_url is None:
        base_url = os.environ.get("MSGFLASH_BASE_URL") or DEFAULT_BASE_URL
    require(isinstance(base_url, str), "base_url", "a str")
    url = str(base_url).rstrip("/")
    origin = _split_base_url(url)
    if origin.scheme == "http" and not allow_insecure_http and not _is_loopback(origin.host):
        raise ConfigurationError(
            f"refusing plain http to {origin.host}: the API key would travel unencrypted; "
            "use https, or pass allow_insecure_http=True"
        )
    return url


def resolve_rate_limiter(rate_limiter: RateLimiter | None) -> tuple[RateLimiter, bool]:
    """The limiter to use, and whether the client made it (and so closes it).

    Without one, ``MSGFLASH_RATE_LIMITER`` chooses: unset, empty or ``memory`` for the
    in-process default, or a ``redis://``, ``rediss://`` or ``unix://`` URL for a
    ``RedisRateLimiter`` shared with every process using that Redis.
    """
    if rate_limiter is not None:
        require(
            callable(getattr(rate_limiter, "budget", None))
            and callable(getattr(rate_limiter, "aclose", None)),
            "rate_limiter",
            "a RateLimiter (InProcessRateLimiter, RedisRateLimiter), or None",
        )
        return rate_limiter, False
    setting = os.environ.get("MSGFLASH_RATE_LIMITER", "").strip()
    if setting in ("", "memory"):
        return IN_PROCESS, False
    require(
        setting.startswith(("redis://", "rediss://", "unix://")),
        "MSGFLASH_RATE_LIMITER",
        "empty, 'memory', or a redis://, rediss:// or unix:// URL",
    )
    from .redis import RedisRateLimiter  # the [redis] extra, imported only when asked for

    return RedisRateLimiter(setting), True


@attrs.frozen
class SessionSettings:
    """How the client's own aiohttp session reaches the server: proxy, TLS, tracing."""

    proxy: str | None = attrs.field(default=None, repr=False)
    """May hold credentials (``http://user:password@host:port``), which aiohttp sends."""
    ssl_context: ssl.SSLContext | None = None
    trace_configs: tuple[aiohttp.TraceConfig, ...] = ()


DEFAULT_SESSION = SessionSettings()


def resolve_session_settings(
    base_url: str, *, proxy: object, trust_env: object, verify: object, trace_configs: object
) -> SessionSettings:
    """Check the network arguments of ``MsgFlash`` (each named in its error).

    With ``trust_env``, a proxy left out comes from ``HTTPS_PROXY``/``HTTP_PROXY`` (by the
    base URL's scheme) unless ``NO_PROXY`` names the host: read once, here, since the client
    talks to one server (aiohttp's own ``trust_env`` reads the environment on every request).
    """
    require(isinstance(trust_env, bool), "trust_env", "True or False")
    if proxy is None and trust_env:
        proxy = _proxy_from_env(base_url)
    require(
        proxy is None or (isinstance(proxy, str) and _is_proxy_url(proxy)),
        "proxy",
        "an http:// or https:// proxy URL, or None",
    )
    context: ssl.SSLContext | None
    if verify is None or isinstance(verify, ssl.SSLContext):
        context = verify
    elif isinstance(verify, (str, os.PathLike)):
        try:
            context = ssl.create_default_context(cafile=os.fspath(verify))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigurationError(
                f"verify: cannot load the CA bundle {os.fspath(verify)!r}: {exc}"
            ) from None
    else:
        raise ConfigurationError(
            "verify must be the path of a CA bundle, an ssl.SSLContext, or None"
        )
    configs = tuple(trace_configs) if isinstance(trace_configs, (list, tuple)) else None
    require(
        configs is not None and all(isinstance(c, aiohttp.TraceConfig) for c in configs),
        "trace_configs",
        "a list of aiohttp.TraceConfig",
    )
    assert configs is not None
    return SessionSettings(
        proxy=proxy,  # type: ignore[arg-type]
        ssl_context=context,
        trace_configs=configs,
    )


def _is_proxy_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a bad port or IPv6 literal
        return False


def _proxy_from_env(base_url: str) -> str | None:
    parts = urlsplit(base_url)
    if parts.hostname is None or urllib.request.proxy_bypass(parts.hostname):
        return None
    return urllib.request.getproxies().get(parts.scheme) or None
