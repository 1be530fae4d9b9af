"""The URL of every request, as a server reads it from the request line.

The transport builds each URL from the base URL parsed once (``Transport._url_of``) rather
than handing aiohttp the whole text to parse. The path goes as ``path_id`` encoded it: every
character of an id but letters, digits and ``-._~`` percent-encoded, in one segment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote, unquote

import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st
from yarl import URL

from msgflash_async import MsgFlash, NotFoundError, RetryPolicy
from msgflash_async._transport import _RECENT_URLS
from msgflash_async._validation import path_id

KEY = "msgf_live_" + "b" * 64
CONTACTS = "/api/v1/contacts"
ODD_IDS = ["a/b", "?x=1", "#top", "é", "a b", "100%", "%2F", "..x", "a;b", "+33", "日本"]


class Recorder:
    """A server answering 404 to everything, keeping each request's raw path and query."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.base_url = ""

    async def answer(self, request: web.Request) -> web.Response:
        self.seen.append(request.raw_path)
        error = {"error": {"code": "NOT_FOUND", "message": "no such thing"}}
        return web.json_response(error, status=404)


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    recorder = Recorder()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", recorder.answer)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    recorder.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield recorder
    finally:
        await runner.cleanup()


def client(base_url: str) -> MsgFlash:
    return MsgFlash(KEY, base_url=base_url, rate_limit=None, retry=RetryPolicy.none())


async def get_each(sdk: MsgFlash, ids: list[str]) -> None:
    for contact_id in ids:
        with pytest.raises(NotFoundError):
            await sdk.contacts.get(contact_id)


async def test_each_id_goes_percent_encoded_in_one_segment(recorder: Recorder) -> None:
    async with client(recorder.base_url) as sdk:
        await get_each(sdk, ODD_IDS)

    assert recorder.seen == [f"{CONTACTS}/{quote(id_, safe='')}" for id_ in ODD_IDS]


async def test_a_base_url_path_prefix_comes_first(recorder: Recorder) -> None:
    async with client(f"{recorder.base_url}/gate-way/v.2/") as sdk:
        await get_each(sdk, ["c1", "a/b"])

    assert recorder.seen == [f"/gate-way/v.2{CONTACTS}/c1", f"/gate-way/v.2{CONTACTS}/a%2Fb"]


async def test_a_query_follows_the_path(recorder: Recorder) -> None:
    async with client(recorder.base_url) as sdk:
        with pytest.raises(NotFoundError):
            await sdk.contacts.list(search="+33 6&x").first_page()
        with pytest.raises(NotFoundError):
            await sdk.groups.members("g/1").first_page()

    first, second = (URL(seen) for seen in recorder.seen)
    assert (first.raw_path, dict(first.query)) == (CONTACTS, {"search": "+33 6&x", "limit": "100"})
    assert (second.raw_path, dict(second.query)) == (
        f"{CONTACTS}/groups/g%2F1/members",
        {"limit": "100"},
    )


async def test_more_urls_than_it_keeps_each_go_right_again_and_again(recorder: Recorder) -> None:
    ids = [f"c{n}" for n in range(_RECENT_URLS * 2 + 5)]
    async with client(recorder.base_url) as sdk:
        await get_each(sdk, ids + ids[::-1] + ids[:3])

    assert recorder.seen == [f"{CONTACTS}/{id_}" for id_ in ids + ids[::-1] + ids[:3]]


@given(
    prefix=st.sampled_from(["", "/", "/gateway", "/gateway/v2/", "/a-b.c_d~e"]),
    contact_id=st.text(min_size=1, max_size=40).filter(lambda text: text not in {".", ".."}),
)
def test_the_url_is_the_base_and_the_path_as_path_id_encoded_it(
    prefix: str, contact_id: str
) -> None:
    base = URL("https://api.msgflash.test:8443" + prefix)
    transport = client(str(base))._core.transport
    path = f"{CONTACTS}/{path_id('contact_id', contact_id)}"

    built = transport._url_of(path)

    assert (built.scheme, built.host, built.port) == ("https", "api.msgflash.test", 8443)
    assert built.raw_path == prefix.rstrip("/") + path
    assert unquote(built.raw_path.rsplit("/", 1)[1]) == contact_id
    assert (built.raw_query_string, built.raw_fragment) == ("", "")
    assert str(built) == transport.base_url + path  # the URL errors name
