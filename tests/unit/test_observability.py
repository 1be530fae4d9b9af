"""What a caller sees of the requests: one DEBUG line per attempt, the last call, counters."""

from __future__ import annotations

import asyncio
import logging

import pytest
from aioresponses import aioresponses

from msgflash_async import (
    APIConnectionError,
    ConfigurationError,
    MsgFlash,
    NotFoundError,
    RetryPolicy,
    last_call,
)
from msgflash_async._observe import configure_logging_from_env, logger

from ._helpers import API_KEY, CONTACT_ID, CONTACTS, REQUEST_ID, api_url, contact, data, page
from .conftest import ClientFactory

PHONE = "+33612345000"


@pytest.fixture
def debug_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="msgflash_async")
    return caplog


def _attempt_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if hasattr(record, "msgflash_attempt")]


async def test_each_attempt_logs_one_debug_line_of_metadata(
    mock_api: aioresponses, make_client: ClientFactory, debug_log: pytest.LogCaptureFixture
) -> None:
    url = api_url(CONTACTS, search=PHONE, limit=100)
    mock_api.get(url, status=503)
    mock_api.get(
        url,
        payload=page("contacts", [contact(CONTACT_ID)]),
        headers={"x-request-id": REQUEST_ID},
    )
    client = make_client(retry=RetryPolicy(max_retries=1))
    [found] = [item async for item in client.contacts.list(search=PHONE)]
    assert found.id == CONTACT_ID

    first, second = _attempt_lines(debug_log)
    assert first.getMessage().startswith("GET /api/v1/contacts -> 503 request_id=None attempt=1 ")
    assert second.getMessage().startswith(
        f"GET /api/v1/contacts -> 200 request_id={REQUEST_ID} attempt=2 "
    )
    assert second.msgflash_status == 200  # type: ignore[attr-defined]
    assert second.msgflash_elapsed_ms >= 0  # type: ignore[attr-defined]
    text = "\n".join(record.getMessage() for record in debug_log.records)
    assert "33612345000" not in text  # the query is never logged
    assert API_KEY not in text


async def test_the_level_is_followed_when_it_changes_between_calls(
    mock_api: aioresponses, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    # The transport reads the logger's own memo of isEnabledFor; logging empties it at each
    # change of level, root's and ours, and at logging.disable.
    url = api_url(f"{CONTACTS}/{CONTACT_ID}")
    mock_api.get(url, payload=data(contact(CONTACT_ID)), repeat=True)
    client = make_client()
    caplog.set_level(logging.INFO, logger="msgflash_async")
    await client.contacts.get(CONTACT_ID)  # the memo now says DEBUG is off
    assert _attempt_lines(caplog) == []

    caplog.set_level(logging.DEBUG, logger="msgflash_async")
    await client.contacts.get(CONTACT_ID)
    assert len(_attempt_lines(caplog)) == 1

    logging.disable(logging.DEBUG)
    try:
        await client.contacts.get(CONTACT_ID)
    finally:
        logging.disable(logging.NOTSET)
    await client.contacts.get(CONTACT_ID)
    assert len(_attempt_lines(caplog)) == 2

    logger.setLevel(logging.WARNING)
    await client.contacts.get(CONTACT_ID)
    assert len(_attempt_lines(caplog)) == 2


async def test_a_connection_failure_logs_its_class(
    make_client: ClientFactory, debug_log: pytest.LogCaptureFixture
) -> None:
    client = make_client(retry=RetryPolicy.none())
    # aioresponses with no route raises a connection error
    with aioresponses(), pytest.raises(APIConnectionError):
        await client.contacts.get(CONTACT_ID)
    [line] = _attempt_lines(debug_log)
    assert " -> APIConnectionError request_id=None attempt=1 " in line.getMessage()


async def test_no_attempt_line_unless_debug_is_on(
    mock_api: aioresponses, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="msgflash_async")
    mock_api.get(api_url(f"{CONTACTS}/{CONTACT_ID}"), payload=data(contact(CONTACT_ID)))
    await make_client().contacts.get(CONTACT_ID)
    assert _attempt_lines(caplog) == []


async def test_last_call_gives_the_request_id_of_a_success(
    mock_api: aioresponses, make_client: ClientFactory
) -> None:
    path = f"{CONTACTS}/{CONTACT_ID}"
    mock_api.get(api_url(path), payload=data(contact(CONTACT_ID)), headers={"x-request-id": "r1"})
    mock_api.get(api_url(path), status=404, headers={"x-request-id": "r2"})
    client = make_client()
    await client.contacts.get(CONTACT_ID)
    call = last_call()
    assert call is not None
    assert (call.method, call.path, call.status, call.request_id, call.attempts) == (
        "GET",
        path,
        200,
        "r1",
        1,
    )
    with pytest.raises(NotFoundError) as caught:
        await client.contacts.get(CONTACT_ID)
    assert caught.value.request_id == "r2"  # a failure carries its id on the error
    assert last_call() == call  # and leaves the last success alone


async def test_last_call_is_per_task(mock_api: aioresponses, make_client: ClientFactory) -> None:
    client = make_client()
    for request_id in ("a", "b"):
        mock_api.get(
            api_url(f"{CONTACTS}/{request_id}"),
            payload=data(contact(request_id)),
            headers={"x-request-id": f"req-{request_id}"},
        )

    async def get(contact_id: str) -> str | None:
        await client.contacts.get(contact_id)
        await asyncio.sleep(0)
        call = last_call()
        return None if call is None else call.request_id

    assert list(await asyncio.gather(get("a"), get("b"))) == ["req-a", "req-b"]


async def test_stats_count_attempts_retries_and_429s(
    mock_api: aioresponses, make_client: ClientFactory
) -> None:
    path = api_url(f"{CONTACTS}/{CONTACT_ID}")
    mock_api.get(path, status=429, headers={"Retry-After": "1"})
    mock_api.get(path, status=500)
    mock_api.get(path, payload=data(contact(CONTACT_ID)))
    client = make_client(retry=RetryPolicy(max_retries=2))
    assert client.stats.attempts == 0
    await client.contacts.get(CONTACT_ID)
    stats = client.stats
    assert (stats.attempts, stats.retries, stats.rate_limited) == (3, 2, 1)
    mock_api.get(path, payload=data(contact(CONTACT_ID)))
    await client.with_options(timeout=5).contacts.get(CONTACT_ID)
    assert client.stats.attempts == 4  # a copy from with_options counts on the same client
    assert stats.attempts == 3  # a snapshot does not move


@pytest.fixture
def clean_logger() -> object:
    handlers, level = list(logger.handlers), logger.level
    yield None
    logger.handlers[:] = handlers
    logger.setLevel(level)


@pytest.mark.usefixtures("clean_logger")
def test_msgflash_log_sends_the_lines_to_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MSGFLASH_LOG", "Debug")
    configure_logging_from_env()
    configure_logging_from_env()  # once: a second client adds no second handler
    logger.debug("hello %s", "there")
    assert capsys.readouterr().err.count("DEBUG msgflash_async] hello there") == 1
    monkeypatch.setenv("MSGFLASH_LOG", "info")
    configure_logging_from_env()
    logger.debug("hidden")
    assert "hidden" not in capsys.readouterr().err


@pytest.mark.usefixtures("clean_logger")
def test_an_unknown_msgflash_log_level_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MSGFLASH_LOG", "verbose")
    with pytest.raises(ConfigurationError, match="MSGFLASH_LOG must be 'debug' or 'info'"):
        MsgFlash(API_KEY)


def test_rate_limit_says_how_the_client_paces_itself() -> None:
    assert MsgFlash(API_KEY).rate_limit == 10
    assert MsgFlash(API_KEY, rate_limit=3).rate_limit == 3
    assert MsgFlash(API_KEY, rate_limit=None).rate_limit is None
