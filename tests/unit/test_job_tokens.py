"""Job handle tokens (issue #10 item 6): a handle saved as a string and resumed elsewhere."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msgflash_async import (
    AddMembersResult,
    BulkDeleteResult,
    BulkJobHandle,
    BulkResult,
    InvalidInputError,
    MsgFlash,
    MsgFlashError,
    RemoveMembersResult,
    RetryPolicy,
    _json,
)
from msgflash_async.testing import FakeClock

from ._helpers import (
    ACCEPTED_ADD,
    ACCEPTED_DELETE,
    API_KEY,
    BASE_URL,
    CONTACTS,
    GROUP_ID,
    GROUPS,
    JOB_ID,
    JOBS,
    api_url,
    data,
    job,
    sent,
)
from .conftest import ClientFactory

BULK_DELETE = f"{CONTACTS}/bulk-delete"
MEMBERS = f"{GROUPS}/{GROUP_ID}/members"
OTHER_JOB_ID = "d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6"
MANY = [f"contact-{n:05d}" for n in range(10_001)]


@pytest.fixture
def sdk(make_client: ClientFactory) -> MsgFlash:
    """The client that starts the bulk operations."""
    return make_client(retry=RetryPolicy.none())


@pytest.fixture
def other(make_client: ClientFactory) -> MsgFlash:
    """Another client of the same workspace, as another process would make."""
    return make_client(retry=RetryPolicy.none())


def pack(body: bytes) -> str:
    """A token of ``body``, in the documented format, with a valid checksum."""
    packed = hashlib.sha256(body).digest()[:6] + body
    return f"mfj1.{base64.urlsafe_b64encode(packed).rstrip(b'=').decode()}"


def forge(document: Any) -> str:
    """A token of the JSON ``document``, with a valid checksum."""
    return pack(json.dumps(document, separators=(",", ":")).encode())


def document_of(token: str) -> Any:
    """The JSON document inside a token, checking its checksum on the way."""
    tag, packed = token.split(".")
    raw = base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4))
    assert tag == "mfj1"
    assert raw[:6] == hashlib.sha256(raw[6:]).digest()[:6]
    return json.loads(raw[6:])


def answer_progress(mock_api: Any, job_id: str, *states: dict[str, Any]) -> None:
    for state in states:
        mock_api.get(api_url(f"{JOBS}/{job_id}/progress"), payload=data({**state, "id": job_id}))


def deletion(status: str, processed: int, requested: int) -> dict[str, Any]:
    summary = {"deleted": processed, "notFound": 0}
    return job(
        status,
        processed,
        summary,
        operation="bulk_delete_contacts",
        groupId=None,
        requestedCount=requested,
    )


def adding(status: str, processed: int, requested: int) -> dict[str, Any]:
    summary = {"added": processed, "alreadyInGroup": 0, "notFound": 0}
    return job(status, processed, summary, requestedCount=requested)


async def two_deletion_jobs(sdk: MsgFlash, mock_api: Any) -> BulkJobHandle[BulkDeleteResult]:
    """A bulk delete of 10,001 ids answered by two jobs, of 10,000 ids and of 1."""
    for job_id, requested in ((JOB_ID, 10_000), (OTHER_JOB_ID, 1)):
        accepted = {**ACCEPTED_DELETE, "jobId": job_id, "requestedCount": requested}
        mock_api.post(api_url(BULK_DELETE), status=202, payload=data(accepted))
    return await sdk.contacts.bulk_delete(MANY)


async def test_a_two_job_handle_resumes_in_another_client(
    sdk: MsgFlash, other: MsgFlash, mock_api: Any, clock: FakeClock
) -> None:
    handle = await two_deletion_jobs(sdk, mock_api)
    token = handle.token
    started = len(sent(mock_api))

    resumed = other.jobs.resume(token, BulkDeleteResult)

    assert len(sent(mock_api)) == started  # resuming sends nothing
    assert len(token) == 212  # two UUID job ids; reported in the issue
    assert quote(token, safe="") == token  # URL-safe as it is
    assert document_of(token) == {
        "op": "bulk_delete_contacts",
        "parts": [{"job": JOB_ID, "n": 10_000}, {"job": OTHER_JOB_ID, "n": 1}],
    }
    assert (resumed.job_ids, resumed.done) == ((JOB_ID, OTHER_JOB_ID), False)
    assert resumed.progress().requested == 10_001
    assert resumed.token == token
    answer_progress(mock_api, JOB_ID, deletion("processing", 5_000, 10_000))
    answer_progress(mock_api, JOB_ID, deletion("done", 10_000, 10_000))
    answer_progress(mock_api, OTHER_JOB_ID, deletion("done", 1, 1))

    result: BulkDeleteResult = await resumed

    assert result == BulkDeleteResult(requested=10_001, deleted=10_001, not_found=0)
    assert clock.sleeps == [2.0]  # the first poll is immediate, as for jobs.handle


async def test_a_token_holds_no_key_and_no_url(sdk: MsgFlash, mock_api: Any) -> None:
    token = (await two_deletion_jobs(sdk, mock_api)).token
    text = json.dumps(document_of(token))

    for secret in (API_KEY, API_KEY[-16:], BASE_URL, "msgflash.test"):
        assert secret not in token
        assert secret not in text


async def test_an_inline_only_handle_resumes_with_its_results(
    sdk: MsgFlash, other: MsgFlash, mock_api: Any
) -> None:
    for answer in (
        {"requested": 10_000, "deleted": 9_999, "notFound": ["contact-00007"]},
        {"requested": 1, "deleted": 0, "notFound": ["contact-10000"]},
    ):
        mock_api.post(api_url(BULK_DELETE), payload=data(answer))
    handle = await sdk.contacts.bulk_delete(MANY)
    expected = await handle
    requests = len(sent(mock_api))

    resumed = other.jobs.resume(handle.token)

    assert (resumed.done, resumed.job_ids) == (True, ())
    assert await resumed == expected
    assert expected.not_found_ids == ("contact-00007", "contact-10000")
    assert len(sent(mock_api)) == requests


async def test_a_job_and_an_inline_part_resume_together(
    sdk: MsgFlash, other: MsgFlash, mock_api: Any
) -> None:
    mock_api.post(
        api_url(MEMBERS),
        status=202,
        payload=data({**ACCEPTED_ADD, "requestedCount": 10_000}),
    )
    mock_api.post(
        api_url(MEMBERS),
        payload=data({"added": 0, "alreadyInGroup": 1, "notFound": 0, "total": 1}),
    )
    handle = await sdk.groups.add_members(GROUP_ID, MANY)

    resumed = other.jobs.resume(handle.token, AddMembersResult)

    assert resumed.job_ids == (JOB_ID,)
    before, after = handle.progress(), resumed.progress()
    assert (after.status, after.processed, after.requested) == (
        before.status,
        before.processed,
        before.requested,
    )
    answer_progress(mock_api, JOB_ID, adding("done", 10_000, 10_000))
    assert await resumed == AddMembersResult(
        added=10_000, already_in_group=1, not_found=0, total=10_001
    )


async def test_untyped_resume_gives_the_result_of_the_tokens_operation(
    sdk: MsgFlash, other: MsgFlash, mock_api: Any
) -> None:
    mock_api.delete(api_url(MEMBERS), payload=data({"removed": 2, "notInGroup": 1}))
    handle = await sdk.groups.remove_members(GROUP_ID, ["a", "b", "c"])

    resumed: BulkJobHandle[BulkResult] = other.jobs.resume(handle.token)

    assert await resumed == RemoveMembersResult(removed=2, not_in_group=1)


async def test_a_token_of_another_operation_is_refused_before_any_request(
    sdk: MsgFlash, mock_api: Any
) -> None:
    token = (await two_deletion_jobs(sdk, mock_api)).token
    requests = len(sent(mock_api))

    with pytest.raises(InvalidInputError, match="bulk_delete_contacts") as caught:
        sdk.jobs.resume(token, AddMembersResult)

    assert caught.value.field == "token"
    assert "BulkDeleteResult" in caught.value.message
    assert len(sent(mock_api)) == requests


@pytest.mark.parametrize("result_type", [int, BulkJobHandle, type(None), "AddMembersResult"])
async def test_only_a_result_type_is_a_result_type(sdk: MsgFlash, result_type: Any) -> None:
    token = forge({"op": None, "parts": [{"job": JOB_ID, "n": 1}]})

    with pytest.raises(InvalidInputError) as resuming:
        sdk.jobs.resume(token, result_type)
    with pytest.raises(InvalidInputError) as handling:
        sdk.jobs.handle(JOB_ID, result_type)

    assert resuming.value.field == handling.value.field == "result_type"


# --- handles by id -------------------------------------------------------------------------


async def test_a_handle_by_id_may_name_its_result_type(sdk: MsgFlash, mock_api: Any) -> None:
    handle = sdk.jobs.handle(JOB_ID, AddMembersResult)
    answer_progress(mock_api, JOB_ID, adding("done", 10, 10))

    result: AddMembersResult = await handle

    assert result == AddMembersResult(added=10, already_in_group=0, not_found=0, total=10)
    assert document_of(handle.token)["op"] == "add_to_group"


async def test_a_typed_handle_by_id_refuses_a_job_of_another_operation(
    sdk: MsgFlash, mock_api: Any
) -> None:
    answer_progress(mock_api, JOB_ID, deletion("done", 10, 10))

    with pytest.raises(MsgFlashError, match="expected a result of AddMembersResult"):
        await sdk.jobs.handle(JOB_ID, AddMembersResult)


async def test_a_handle_by_id_learns_its_operation_for_its_token(
    sdk: MsgFlash, other: MsgFlash, mock_api: Any
) -> None:
    handle = sdk.jobs.handle(JOB_ID)
    before = handle.token
    answer_progress(mock_api, JOB_ID, deletion("processing", 3, 10))
    await handle.refresh()

    assert document_of(before) == {"op": None, "parts": [{"job": JOB_ID, "n": 0}]}
    assert document_of(handle.token) == {
        "op": "bulk_delete_contacts",
        "parts": [{"job": JOB_ID, "n": 10}],
    }
    # A token without an operation takes any result type; the job's operation decides.
    answer_progress(mock_api, JOB_ID, deletion("done", 10, 10))
    assert await other.jobs.resume(before, BulkDeleteResult) == BulkDeleteResult(
        requested=10, deleted=10, not_found=0
    )


# --- what is not a token -------------------------------------------------------------------

VALID = forge({"op": "add_to_group", "parts": [{"job": JOB_ID, "n": 5}]})
ADD_RESULT = {"added": 1, "already_in_group": 0, "not_found": 0, "total": 1, "processed": 1}


def with_result(result: Any, op: str | None = "add_to_group") -> str:
    return forge({"op": op, "parts": [{"result": result}]})


def with_job(job_id: Any = JOB_ID, n: Any = 5, **extra: Any) -> str:
    return forge({"op": "add_to_group", "parts": [{"job": job_id, "n": n, **extra}]})


def deletion_result(not_found_ids: list[Any]) -> str:
    """A token of one inline bulk-delete result with these ``not_found_ids``."""
    result = {"requested": 1, "deleted": 0, "not_found": 1, "processed": 1}
    return with_result({**result, "not_found_ids": not_found_ids}, op="bulk_delete_contacts")


def flipped(token: str, index: int) -> str:
    char = "B" if token[index] != "B" else "C"
    return token[:index] + char + token[index + 1 :]


MALFORMED: dict[str, Any] = {
    "not a string": None,
    "bytes": VALID.encode(),
    "empty": "",
    "the tag alone": "mfj1.",
    "no tag": VALID.split(".", 1)[1],
    "another version": "mfj2" + VALID[4:],
    "a foreign string": "eyJhbGciOiJIUzI1NiJ9.e30.abc",
    "a trailing newline": VALID + "\n",
    "padding": VALID + "==",
    "standard base64": VALID.replace("-", "+").replace("_", "/") + "+/",
    "non-ASCII": VALID + "é",
    "impossible base64 length": VALID + "A" * (5 - (len(VALID) - 5) % 4),
    "truncated": VALID[:-6],
    "an edited character": flipped(VALID, 20),
    "an edited checksum": flipped(VALID, 6),
    "shorter than a checksum": "mfj1.AAAA",
    "not JSON": pack(b"{op"),
    "not UTF-8": pack(b'{"op":"\xff"}'),
    "a list": forge([1, 2]),
    "no parts": forge({"op": "add_to_group"}),
    "an extra key": forge({"op": None, "parts": [{"job": JOB_ID, "n": 1}], "key": API_KEY}),
    "an unknown operation": forge({"op": "merge_contacts", "parts": [{"job": JOB_ID, "n": 1}]}),
    "an operation of the wrong type": forge({"op": 1, "parts": [{"job": JOB_ID, "n": 1}]}),
    "empty parts": forge({"op": None, "parts": []}),
    "parts not a list": forge({"op": None, "parts": {"job": JOB_ID, "n": 1}}),
    "a part of neither kind": forge({"op": None, "parts": [{"job": JOB_ID}]}),
    "a part with both kinds": with_job(result=ADD_RESULT),
    "an empty job id": with_job(""),
    "a job id that is not a string": with_job(7),
    "a dot-segment job id": with_job(".."),
    "a lone surrogate job id": with_job("\ud800"),
    "a negative size": with_job(n=-1),
    "a boolean size": with_job(n=True),
    "a fractional size": with_job(n=1.5),
    "a result without an operation": with_result(ADD_RESULT, op=None),
    "a result with a field left out": with_result(
        {k: v for k, v in ADD_RESULT.items() if k != "added"}
    ),
    "a result with an extra field": with_result({**ADD_RESULT, "removed": 1}),
    "a result of another operation": with_result({"removed": 1, "not_in_group": 0}),
    "a counter as text": with_result({**ADD_RESULT, "added": "1"}),
    "a counter as a boolean": with_result({**ADD_RESULT, "added": False}),
    "a negative counter": with_result({**ADD_RESULT, "not_found": -3}),
    "a required counter left unknown": with_result({**ADD_RESULT, "total": None}),
    "a result that is not an object": with_result([1, 0, 0, 1, 1]),
    "not-found ids that are not ids": deletion_result([1]),
    "a lone surrogate not-found id": deletion_result(["\ud800"]),
    "a number too long to read": pack(b'{"op":null,"parts":[{"job":"j","n":%s}]}' % (b"9" * 5000)),
    "deep nesting": forge({"op": None, "parts": [[[[[[[[]]]]]]]]}),
}


@pytest.fixture(params=["speedups", "stdlib"])
def json_parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tokens read with orjson, as installed, and with the stdlib's parser, its fallback."""
    if request.param == "stdlib":
        monkeypatch.setattr(_json, "loads", _json._stdlib_loads)


@pytest.mark.usefixtures("json_parser")
@pytest.mark.parametrize("token", list(MALFORMED.values()), ids=list(MALFORMED))
async def test_a_malformed_token_is_invalid_input_naming_token(
    sdk: MsgFlash, mock_api: Any, token: Any
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        sdk.jobs.resume(token)

    assert caught.value.field == "token"
    assert mock_api.requests == {}


async def test_a_valid_forged_token_is_read_as_documented(sdk: MsgFlash) -> None:
    assert sdk.jobs.resume(VALID).job_ids == (JOB_ID,)
    assert await sdk.jobs.resume(with_result(ADD_RESULT)) == AddMembersResult(1, 0, 0, 1)


@pytest.mark.usefixtures("json_parser")
async def test_deeply_nested_json_is_invalid_input(sdk: MsgFlash) -> None:
    with pytest.raises(InvalidInputError):
        sdk.jobs.resume(pack(b"[" * 100_000 + b"]" * 100_000))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def spoiling(document: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """``document``, or it with one value replaced by one that may not fit there."""
    spoilt: st.SearchStrategy[Any] = st.sampled_from([None, -1, True, 1.5, "1", "..", [1], {}])
    return document | st.tuples(document, st.integers(min_value=0), spoilt).map(
        lambda drawn: {**drawn[0], sorted(drawn[0])[drawn[1] % len(drawn[0])]: drawn[2]}
    )


jobs = st.fixed_dictionaries({"job": st.text(min_size=1), "n": st.integers(min_value=0)})
results = st.fixed_dictionaries(dict.fromkeys(ADD_RESULT, st.integers(min_value=0)))
near_tokens = spoiling(
    st.fixed_dictionaries(
        {
            "op": st.sampled_from([None, "add_to_group"]),
            "parts": st.lists(
                spoiling(jobs) | spoiling(results).map(lambda result: {"result": result}),
                min_size=1,
                max_size=3,
            ),
        }
    )
)
"""JSON documents of nearly a token's shape: many are tokens, others fail late."""
any_tokens = st.dictionaries(
    st.sampled_from(["op", "parts", "job", "n", "result"]), json_values, max_size=3
) | st.fixed_dictionaries(
    {
        "op": json_values,
        "parts": st.lists(
            st.dictionaries(st.sampled_from(["job", "n", "result"]), json_values), max_size=3
        ),
    }
)


@pytest.mark.usefixtures("json_parser")
async def test_any_string_is_a_token_or_invalid_input(sdk: MsgFlash) -> None:
    @settings(max_examples=300, derandomize=True, deadline=None)
    @given(
        token=st.text()
        | st.text(alphabet="ABCabc012-_.").map("mfj1.".__add__)
        | st.one_of(json_values, any_tokens).map(forge)
    )
    def run(token: str) -> None:
        try:
            handle = sdk.jobs.resume(token)
        except InvalidInputError as exc:
            refused = exc
        else:
            assert handle.token  # what is accepted makes a handle that has a token again
            return
        assert refused.field == "token"

    run()


async def test_a_token_read_is_written_back_the_same(sdk: MsgFlash) -> None:
    @settings(max_examples=200, derandomize=True, deadline=None)
    @given(document=near_tokens)
    def run(document: dict[str, Any]) -> None:
        try:
            handle = sdk.jobs.resume(forge(document))
        except InvalidInputError as exc:
            refused = exc
        else:
            assert document_of(handle.token) == document
            return
        assert refused.field == "token"

    run()
