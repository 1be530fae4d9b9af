"""Every public exception survives pickling and copying with its type, message and attributes."""

from __future__ import annotations

import copy
import multiprocessing
import pickle
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

from msgflash_async import (
    BulkDeleteResult,
    BulkJob,
    BulkJobHandle,
    ConflictError,
    ExistingContact,
    ImportReport,
    JobOperation,
    JobStatus,
    MsgFlashError,
    RowProblem,
    _errors,
)
from msgflash_async._jobs import JobsBackend
from msgflash_async.testing import FakeClock

from ._helpers import CONTACT_ID, EXISTING_ID, JOB_ID, REQUEST_ID

URL = "https://api.msgflash.test/api/v1/contacts"
STATUS_FIELDS: dict[str, Any] = {
    "status": 409,
    "code": "CONFLICT",
    "details": [{"field": "phone", "existingId": EXISTING_ID}],
    "request_id": REQUEST_ID,
    "method": "POST",
    "url": URL,
    "headers": {"x-request-id": REQUEST_ID, "Retry-After": "3"},
}
FAILED_JOB = BulkJob(
    id=JOB_ID,
    status=JobStatus.FAILED,
    operation=JobOperation.BULK_DELETE_CONTACTS,
    requested_count=150,
    error="database unavailable",
)


def status_error(cls: type[_errors.APIStatusError]) -> Callable[[], MsgFlashError]:
    """A factory of ``cls`` as the transport builds it from an error answer."""
    return lambda: cls("Contact with this phone already exists", **STATUS_FIELDS)


def connection_error(cls: type[_errors.APIConnectionError]) -> Callable[[], MsgFlashError]:
    """A factory of ``cls`` as the transport builds it from a failed exchange."""
    return lambda: cls("sent, but no answer came in time", method="GET", url=URL)


IMPORT_REPORT = ImportReport(
    created=1,
    existing=(ExistingContact(2, "+33612345001", EXISTING_ID, updated=True),),
    updated=1,
    invalid=(RowProblem(3, "phone", "must be an E.164 number"),),
    duplicates=(),
    failed=(),
    resumed=0,
    added_to_group=0,
    already_in_group=0,
    elapsed=0.5,
    rows=3,
)

CASES: dict[str, Callable[[], MsgFlashError]] = {
    "ImportAbortedError": lambda: _errors.ImportAbortedError(
        "the import stopped after 3 rows read, on AuthenticationError: 401", report=IMPORT_REPORT
    ),
    "MsgFlashError": lambda: MsgFlashError("this client belongs to another event loop"),
    "ConfigurationError": lambda: _errors.ConfigurationError("no API key"),
    "MissingDependencyError": lambda: _errors.MissingDependencyError("redis-py", "redis"),
    "InvalidInputError": lambda: _errors.InvalidInputError("phone", "must be E.164"),
    "ClientClosedError": lambda: _errors.ClientClosedError("the client was closed"),
    "APIConnectionError": connection_error(_errors.APIConnectionError),
    "ConnectError": connection_error(_errors.ConnectError),
    "ConnectTimeoutError": connection_error(_errors.ConnectTimeoutError),
    "QueueTimeoutError": connection_error(_errors.QueueTimeoutError),
    "ReadTimeoutError": connection_error(_errors.ReadTimeoutError),
    "ServerDisconnectedError": connection_error(_errors.ServerDisconnectedError),
    "ResponseDecodeError": lambda: _errors.ResponseDecodeError(
        "the body is not valid JSON", status=200, body=b"<html>", method="GET", url=URL
    ),
    "ResponseTooLargeError": lambda: _errors.ResponseTooLargeError(
        limit=1 << 20, size=None, status=200, method="GET", url=URL
    ),
    "APIStatusError": status_error(_errors.APIStatusError),
    "RedirectError": status_error(_errors.RedirectError),
    "BadRequestError": status_error(_errors.BadRequestError),
    "ValidationError": status_error(_errors.ValidationError),
    "AuthenticationError": status_error(_errors.AuthenticationError),
    "PermissionDeniedError": status_error(_errors.PermissionDeniedError),
    "MaxContactGroupsReachedError": status_error(_errors.MaxContactGroupsReachedError),
    "NotFoundError": status_error(_errors.NotFoundError),
    "ConflictError": status_error(_errors.ConflictError),
    "UnprocessableEntityError": status_error(_errors.UnprocessableEntityError),
    "InternalServerError": status_error(_errors.InternalServerError),
    "RateLimitError": lambda: _errors.RateLimitError(
        "Too many API requests", retry_after=1.5, **STATUS_FIELDS
    ),
    "RateLimitExceededError": lambda: _errors.RateLimitExceededError(
        "Too many API requests", retry_after=None, **STATUS_FIELDS
    ),
    "MonthlyQuotaExceededError": lambda: _errors.MonthlyQuotaExceededError(
        "Monthly quota exceeded", retry_after=86400.0, **STATUS_FIELDS
    ),
    "PaginationError": lambda: _errors.PaginationError("the server repeated a cursor"),
    "JobError": lambda: _errors.JobError("bulk job ended oddly", job_id=JOB_ID),
    "JobFailedError": lambda: _errors.JobFailedError(
        job_id=JOB_ID, error="database unavailable", job=FAILED_JOB
    ),
    "JobCancelledError": lambda: _errors.JobCancelledError(
        job_id=JOB_ID,
        partial=BulkDeleteResult(requested=150, deleted=40, not_found=0),
        job=FAILED_JOB,
    ),
    "JobTimeoutError": lambda: _errors.JobTimeoutError("still running", job_id=JOB_ID),
}
ERROR_NAMES = [name for name in _errors.__all__ if isinstance(getattr(_errors, name), type)]


def build(name: str) -> MsgFlashError:
    """The case for ``name``, with the attributes every error may carry set."""
    error = CASES[name]()  # a KeyError here: a new error class needs a case
    assert type(error) is getattr(_errors, name)
    error.cursor = "cursor-7"
    error.may_have_been_processed = True
    error.accepted_job_ids = (JOB_ID,)
    error.unsent_ids = (CONTACT_ID,)
    return error


def assert_same(copied: MsgFlashError, original: MsgFlashError) -> None:
    """Same type, text, args and attributes (``accepted`` aside)."""
    assert type(copied) is type(original)
    assert str(copied) == str(original)
    assert copied.args == original.args
    assert copied.__dict__.keys() - {"accepted"} == original.__dict__.keys() - {"accepted"}
    for key, value in original.__dict__.items():
        if key != "accepted":
            assert getattr(copied, key) == value, key


@pytest.mark.parametrize("name", ERROR_NAMES)
@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_every_error_pickles(name: str, protocol: int) -> None:
    error = build(name)

    assert_same(pickle.loads(pickle.dumps(error, protocol)), error)


@pytest.mark.parametrize("name", ERROR_NAMES)
@pytest.mark.parametrize("copier", [copy.copy, copy.deepcopy], ids=["copy", "deepcopy"])
def test_every_error_copies(name: str, copier: Callable[[Any], Any]) -> None:
    error = build(name)

    assert_same(copier(error), error)


def test_every_public_error_has_a_case() -> None:
    assert sorted(CASES) == sorted(ERROR_NAMES)


def test_headers_survive_as_a_case_insensitive_read_only_mapping() -> None:
    error = pickle.loads(pickle.dumps(build("ConflictError")))
    assert isinstance(error, ConflictError)

    assert error.headers["X-REQUEST-ID"] == REQUEST_ID
    assert error.headers.get("retry-after") == "3"
    assert error.headers == {"X-Request-Id": REQUEST_ID, "retry-after": "3"}
    assert error.existing_id == EXISTING_ID
    with pytest.raises(TypeError):
        error.headers["x-new"] = "1"  # type: ignore[index]


def test_a_pickled_error_drops_the_live_handle_and_keeps_the_ids() -> None:
    backend = JobsBackend(progress=_unused, cancel=_unused, clock=FakeClock(), poll_interval=2.0)
    handle = BulkJobHandle([FAILED_JOB], backend=backend, result_of=_unused_result)
    error = build("ServerDisconnectedError")
    error.accepted = handle

    restored = pickle.loads(pickle.dumps(error))

    assert restored.accepted is None
    assert restored.accepted_job_ids == (JOB_ID,)
    assert restored.unsent_ids == (CONTACT_ID,)
    assert copy.copy(error).accepted is handle
    assert copy.deepcopy(error).accepted is handle


def test_class_defaults_of_may_have_been_processed() -> None:
    processed = {
        name
        for name in ERROR_NAMES
        if getattr(_errors, name).may_have_been_processed  # class default
    }

    assert processed == {"ReadTimeoutError", "ServerDisconnectedError"}


def test_a_conflict_error_crosses_a_process_pool() -> None:
    # spawn, not fork: forking a process with threads warns on Python 3.12+.
    spawn = multiprocessing.get_context("spawn")
    with (
        ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool,
        pytest.raises(ConflictError) as caught,
    ):
        pool.submit(_raise_conflict).result()

    error = caught.value
    assert error.existing_id == EXISTING_ID
    assert error.headers["x-request-id"] == REQUEST_ID
    assert (error.status, error.code, error.request_id) == (409, "CONFLICT", REQUEST_ID)
    assert error.may_have_been_processed is True
    assert error.unsent_ids == (CONTACT_ID,)


def _raise_conflict() -> None:
    raise build("ConflictError")


async def _unused(job_id: str) -> BulkJob:
    raise AssertionError(f"no request expected for {job_id}")


def _unused_result(job: BulkJob) -> BulkDeleteResult:
    raise AssertionError(f"no result expected for {job.id}")
