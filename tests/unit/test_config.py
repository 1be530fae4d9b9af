"""Client configuration: key, team, base URL, limits, session ownership, per-call options."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import aiohttp
import pytest

from msgflash_async import (
    DEFAULT_BASE_URL,
    ConfigurationError,
    InternalServerError,
    MsgFlash,
    MsgFlashError,
    RetryPolicy,
    Timeout,
)
from msgflash_async._limiter import SAFETY_MARGIN
from msgflash_async.testing import FakeClock

from ._helpers import (
    API_KEY,
    BASE_URL,
    CONTACT,
    CONTACT_ID,
    CONTACTS,
    TEAM_ID,
    TEAM_KEY,
    api_url,
    data,
    error,
    only_call,
    sent,
    sent_headers,
)
from .conftest import ClientFactory

CONTACT_URL = api_url(f"{CONTACTS}/{CONTACT_ID}")


def test_the_client_fixture_talks_to_the_mocked_base_url(client: MsgFlash) -> None:
    assert client.base_url == BASE_URL


# --- the key -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argument", "environment"),
    [(API_KEY, None), (None, API_KEY), (API_KEY, "msgf_live_" + "f" * 64)],
    ids=["argument", "environment", "argument-wins"],
)
async def test_key_comes_from_the_argument_or_the_environment(
    make_client: ClientFactory,
    mock_api: Any,
    monkeypatch: pytest.MonkeyPatch,
    argument: str | None,
    environment: str | None,
) -> None:
    if environment is not None:
        monkeypatch.setenv("MSGFLASH_API_KEY", environment)
    mock_api.get(CONTACT_URL, payload=data(CONTACT))

    await make_client(argument).contacts.get(CONTACT_ID)

    assert sent_headers(only_call(mock_api)[2])["x-api-key"] == API_KEY


@pytest.mark.parametrize("environment", [None, ""])
def test_no_key_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, environment: str | None
) -> None:
    if environment is not None:
        monkeypatch.setenv("MSGFLASH_API_KEY", environment)

    with pytest.raises(ConfigurationError, match="MSGFLASH_API_KEY") as caught:
        MsgFlash()

    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    "key",
    [
        "sk_live_super_secret_value_123",
        "msgf_live_" + "A" * 64,
        "msgf_live_" + "0" * 63,
        "msgf_live_" + "0" * 65,
        "msgf_test_" + "0" * 64,
        "Bearer msgf_live_" + "0" * 64,
        "msgf_team_secret\nvalue",
        "msgf_team_sécret",
    ],
)
def test_malformed_key_is_refused_without_echoing_it(key: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        MsgFlash(key, team_id=TEAM_ID if key.startswith("msgf_team_") else None)

    assert key not in str(caught.value)
    assert key not in repr(caught.value)
    assert "secret" not in str(caught.value)


def test_malformed_key_from_the_environment_is_not_echoed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MSGFLASH_API_KEY", "pasted-a-password-here")

    with pytest.raises(ConfigurationError) as caught:
        MsgFlash()

    assert "password" not in str(caught.value)


# --- the team ------------------------------------------------------------------------------


def test_team_key_needs_something_after_its_prefix() -> None:
    with pytest.raises(ConfigurationError, match="malformed"):
        MsgFlash("msgf_team_", team_id=TEAM_ID)


def test_team_key_needs_a_team_id() -> None:
    with pytest.raises(ConfigurationError, match="team"):
        MsgFlash(TEAM_KEY)


def test_team_key_with_an_empty_team_id_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MSGFLASH_TEAM_ID", "")

    with pytest.raises(ConfigurationError):
        MsgFlash(TEAM_KEY, team_id="")


async def test_team_id_from_the_environment(
    make_client: ClientFactory, mock_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MSGFLASH_TEAM_ID", TEAM_ID)
    mock_api.get(CONTACT_URL, payload=data(CONTACT))
    sdk = make_client(TEAM_KEY)

    await sdk.contacts.get(CONTACT_ID)

    headers = sent_headers(only_call(mock_api)[2])
    assert (headers["x-api-key"], headers["X-Team-Id"]) == (TEAM_KEY, TEAM_ID)


def test_personal_key_with_a_team_id_argument_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="personal key"):
        MsgFlash(API_KEY, team_id=TEAM_ID)


def test_personal_key_with_a_team_id_in_the_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MSGFLASH_TEAM_ID", TEAM_ID)

    with pytest.raises(ConfigurationError, match="MSGFLASH_TEAM_ID"):
        MsgFlash(API_KEY)


async def test_empty_team_id_variable_counts_as_unset(
    make_client: ClientFactory, mock_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MSGFLASH_TEAM_ID", "")
    mock_api.get(CONTACT_URL, payload=data(CONTACT))

    await make_client(API_KEY).contacts.get(CONTACT_ID)

    assert "X-Team-Id" not in sent_headers(only_call(mock_api)[2])


# --- the base URL --------------------------------------------------------------------------


def test_default_base_url() -> None:
    assert MsgFlash(API_KEY).base_url == DEFAULT_BASE_URL == "https://srv.msgflash.com"


def test_base_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MSGFLASH_BASE_URL", "https://eu.msgflash.test/")

    assert MsgFlash(API_KEY).base_url == "https://eu.msgflash.test"
    assert MsgFlash(API_KEY, base_url="https://us.msgflash.test").base_url == (
        "https://us.msgflash.test"
    )


async def test_base_url_with_a_path_prefix(make_client: ClientFactory, mock_api: Any) -> None:
    mock_api.get(f"{BASE_URL}/proxy{CONTACTS}/{CONTACT_ID}", payload=data(CONTACT))

    await make_client(base_url=f"{BASE_URL}/proxy/").contacts.get(CONTACT_ID)

    assert sent(mock_api) == [("GET", f"/proxy{CONTACTS}/{CONTACT_ID}")]


@pytest.mark.parametrize(
    "url",
    ["http://srv.msgflash.com", "http://10.0.0.5:8080", "http://127.0.0.1.nip.io"],
)
def test_plain_http_is_refused_for_remote_hosts(url: str) -> None:
    with pytest.raises(ConfigurationError, match="plain http"):
        MsgFlash(API_KEY, base_url=url)

    assert MsgFlash(API_KEY, base_url=url, allow_insecure_http=True).base_url == url


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080",
        "http://127.8.9.10",
        "http://localhost:3000",
        "http://api.localhost",
        "http://[::1]:8080",
    ],
)
def test_plain_http_is_allowed_on_loopback(url: str) -> None:
    assert MsgFlash(API_KEY, base_url=url).base_url == url


@pytest.mark.parametrize(
    "url",
    [
        "ftp://srv.msgflash.com",
        "srv.msgflash.com",
        "https://",
        "https://user:pass@srv.msgflash.com",
        "https://srv.msgflash.com?x=1",
        "https://srv.msgflash.com#top",
    ],
)
def test_unusable_base_url_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError):
        MsgFlash(API_KEY, base_url=url)


# --- other settings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [{"rate_limit": 0}, {"max_in_flight": 0}, {"job_poll_interval": 0}, {"job_poll_interval": -2}],
    ids=repr,
)
def test_impossible_limits_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        MsgFlash(API_KEY, **options)


@pytest.mark.parametrize(
    ("key", "team", "kind"), [(API_KEY, None, "personal"), (TEAM_KEY, TEAM_ID, "team")]
)
def test_repr_never_shows_the_key(key: str, team: str | None, kind: str) -> None:
    text = repr(MsgFlash(key, team_id=team))

    assert key not in text
    assert key[10:] not in text
    assert f"<{kind} key hidden>" in text
    assert "https://srv.msgflash.com" in text


def test_defaults_of_timeout_and_retry() -> None:
    sdk = MsgFlash(API_KEY)

    assert sdk.timeout == Timeout(connect=10.0, read=30.0, total=120.0)
    assert sdk.retry == RetryPolicy()
    assert sdk.retry.max_retries == 3


def test_timeout_as_seconds_sets_the_total() -> None:
    assert MsgFlash(API_KEY, timeout=5).timeout == Timeout(total=5.0)
    assert Timeout.of(None) == Timeout(total=None)


def test_retry_policy_refuses_negative_retries() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        RetryPolicy(max_retries=-1)


# --- the HTTP session ----------------------------------------------------------------------


@pytest.fixture
def created_sessions(monkeypatch: pytest.MonkeyPatch) -> list[aiohttp.ClientSession]:
    """Every aiohttp session created during the test."""
    created: list[aiohttp.ClientSession] = []
    real = aiohttp.ClientSession

    def recording(*args: Any, **kwargs: Any) -> aiohttp.ClientSession:
        session = real(*args, **kwargs)
        created.append(session)
        return session

    monkeypatch.setattr(aiohttp, "ClientSession", recording)
    return created


def is_closed(session: aiohttp.ClientSession) -> bool:
    return session.closed


async def test_own_session_is_created_lazily_and_closed_by_aclose(
    mock_api: Any, created_sessions: list[aiohttp.ClientSession]
) -> None:
    mock_api.get(CONTACT_URL, payload=data(CONTACT), repeat=True)
    sdk = MsgFlash(API_KEY, base_url=BASE_URL, rate_limit=None)
    assert created_sessions == []

    await sdk.contacts.get(CONTACT_ID)
    await sdk.contacts.get(CONTACT_ID)

    [session] = created_sessions
    assert not is_closed(session)
    await sdk.aclose()
    assert is_closed(session)
    await sdk.aclose()  # twice is fine
    with pytest.raises(MsgFlashError, match="closed"):
        await sdk.contacts.get(CONTACT_ID)


async def test_async_with_closes_the_own_session(
    mock_api: Any, created_sessions: list[aiohttp.ClientSession]
) -> None:
    mock_api.get(CONTACT_URL, payload=data(CONTACT))

    async with MsgFlash(API_KEY, base_url=BASE_URL, rate_limit=None) as sdk:
        await sdk.contacts.get(CONTACT_ID)

    [session] = created_sessions
    assert session.closed


async def test_closing_an_unused_client_creates_no_session(
    created_sessions: list[aiohttp.ClientSession],
) -> None:
    async with MsgFlash(API_KEY):
        pass

    assert created_sessions == []


async def test_session_passed_in_is_used_and_left_open(mock_api: Any) -> None:
    mock_api.get(CONTACT_URL, payload=data(CONTACT))
    async with aiohttp.ClientSession(headers={"X-Probe": "mine"}) as session:
        sdk = MsgFlash(API_KEY, base_url=BASE_URL, rate_limit=None, session=session)

        await sdk.contacts.get(CONTACT_ID)
        await sdk.aclose()

        assert sent_headers(only_call(mock_api)[2])["X-Probe"] == "mine"
        assert not session.closed


async def test_client_is_bound_to_one_event_loop(client: MsgFlash, mock_api: Any) -> None:
    mock_api.get(CONTACT_URL, payload=data(CONTACT), repeat=True)
    await client.contacts.get(CONTACT_ID)
    outcome: list[BaseException] = []

    def use_in_another_loop() -> None:
        try:
            asyncio.run(client.contacts.get(CONTACT_ID))
        except MsgFlashError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=use_in_another_loop)
    thread.start()
    thread.join()

    [exc] = outcome
    assert "event loop" in str(exc)
    assert len(sent(mock_api)) == 1


# --- with_options --------------------------------------------------------------------------


async def test_with_options_changes_only_the_copy(
    make_client: ClientFactory, mock_api: Any, clock: FakeClock
) -> None:
    sdk = make_client(retry=RetryPolicy.none(), timeout=Timeout(total=60))
    patient = sdk.with_options(timeout=5, retry=RetryPolicy(max_retries=2))

    assert patient.timeout == Timeout(total=5.0)
    assert patient.retry == RetryPolicy(max_retries=2)
    assert sdk.timeout == Timeout(total=60)
    assert sdk.retry == RetryPolicy.none()
    assert patient.base_url == sdk.base_url
    assert sdk.with_options().timeout == sdk.timeout
    assert sdk.with_options(timeout=Timeout(read=1)).timeout == Timeout(read=1)

    mock_api.get(CONTACT_URL, status=503, payload=error("UNAVAILABLE"))
    mock_api.get(CONTACT_URL, payload=data(CONTACT))
    assert (await patient.contacts.get(CONTACT_ID)).id == CONTACT_ID
    assert len(clock.sleeps) == 1

    mock_api.get(CONTACT_URL, status=503, payload=error("UNAVAILABLE"))
    with pytest.raises(InternalServerError):
        await sdk.contacts.get(CONTACT_ID)
    assert len(clock.sleeps) == 1


async def test_closing_a_copy_leaves_the_session_open(
    make_client: ClientFactory, mock_api: Any
) -> None:
    mock_api.get(CONTACT_URL, payload=data(CONTACT), repeat=True)
    sdk = make_client()
    async with sdk.with_options(timeout=3) as copy:
        await copy.contacts.get(CONTACT_ID)

    assert (await sdk.contacts.get(CONTACT_ID)).id == CONTACT_ID
    assert repr(copy) == repr(sdk)


# --- pacing and concurrency ----------------------------------------------------------------


async def test_paces_to_ten_requests_a_second_by_default(
    make_client: ClientFactory, mock_api: Any, clock: FakeClock
) -> None:
    mock_api.get(CONTACT_URL, payload=data(CONTACT), repeat=True)
    sdk = make_client(rate_limit=10)

    for _ in range(10):
        await sdk.contacts.get(CONTACT_ID)
    assert clock.sleeps == []

    await sdk.contacts.get(CONTACT_ID)
    assert clock.sleeps == [pytest.approx(1 + SAFETY_MARGIN)]


async def test_clients_of_one_key_share_the_pace(
    make_client: ClientFactory, mock_api: Any, clock: FakeClock
) -> None:
    mock_api.get(CONTACT_URL, payload=data(CONTACT), repeat=True)
    first, second = make_client(rate_limit=10), make_client(rate_limit=10)
    other_key = make_client("msgf_live_" + "e" * 64, rate_limit=10)

    for sdk in (first, second) * 5:
        await sdk.contacts.get(CONTACT_ID)
    await other_key.contacts.get(CONTACT_ID)
    assert clock.sleeps == []

    await second.contacts.get(CONTACT_ID)
    assert clock.sleeps == [pytest.approx(1 + SAFETY_MARGIN)]


def test_clients_with_the_default_clock_share_one_pacer() -> None:
    first, second = MsgFlash(API_KEY), MsgFlash(API_KEY)

    limiters = [sdk._core.transport.limiter for sdk in (first, second)]

    assert limiters[0].pacer is not None
    assert limiters[0].pacer is limiters[1].pacer


@pytest.mark.parametrize(("max_in_flight", "peak"), [(2, 2), (None, 6)])
async def test_max_in_flight_caps_concurrent_requests(
    make_client: ClientFactory, mock_api: Any, max_in_flight: int | None, peak: int
) -> None:
    active = highest = 0

    async def slow_answer(url: Any, **kwargs: Any) -> None:
        nonlocal active, highest
        active += 1
        highest = max(highest, active)
        for _ in range(5):
            await asyncio.sleep(0)  # let the other tasks run; no time passes
        active -= 1

    mock_api.get(CONTACT_URL, payload=data(CONTACT), callback=slow_answer, repeat=True)
    sdk = make_client(max_in_flight=max_in_flight)

    await asyncio.gather(*(sdk.contacts.get(CONTACT_ID) for _ in range(6)))

    assert highest == peak
    assert len(sent(mock_api)) == 6
    assert sdk._core.transport.limiter.in_flight == 0


class InterruptedClock(FakeClock):
    """A clock whose waits are all interrupted, as when the waiting task is cancelled."""

    async def sleep(self, seconds: float) -> None:
        raise asyncio.CancelledError


async def test_request_cancelled_while_paced_frees_its_slot(
    make_client: ClientFactory, mock_api: Any
) -> None:
    mock_api.get(CONTACT_URL, payload=data(CONTACT), repeat=True)
    clock = InterruptedClock()
    sdk = make_client(rate_limit=1, max_in_flight=1, clock=clock)
    await sdk.contacts.get(CONTACT_ID)

    with pytest.raises(asyncio.CancelledError):
        await sdk.contacts.get(CONTACT_ID)

    assert sdk._core.transport.limiter.in_flight == 0
    clock.now += 10
    assert (await sdk.contacts.get(CONTACT_ID)).id == CONTACT_ID
    assert len(sent(mock_api)) == 2
