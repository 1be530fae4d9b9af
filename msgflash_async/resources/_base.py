"""What every resource namespace shares: sending requests and decoding their answers."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import Any, TypeVar

from .._converter import structurer
from .._errors import ConflictError, MsgFlashError
from .._jobs import BulkJobHandle, BulkResult, JobsBackend, result_of_job
from .._models import BulkJob, JobAccepted, Page
from .._pagination import AsyncPaginator
from .._transport import RequestOptions, Response, Transport
from .._validation import MAX_IDS_PER_REQUEST, check_contact_ids, check_cursor, check_limit

__all__ = ["UNSET", "APIResource", "Unset"]

T = TypeVar("T")
R = TypeVar("R", bound=BulkResult)

DEFAULT_PAGE_SIZE = 100
"""Walks fetch the largest page the API allows: fewer requests under the 10 req/s limit."""


class Unset(enum.Enum):
    """The type of :data:`UNSET`."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET = Unset.UNSET
"""Marks an update argument left out: the field keeps its current value."""


class APIResource:
    """Base of the resource namespaces: holds the transport, the call options and jobs."""

    def __init__(self, transport: Transport, options: RequestOptions, jobs: JobsBackend) -> None:
        self._transport = transport
        self._options = options
        self._jobs = jobs

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Any = None,
        resend_after_unknown_outcome: bool | None = None,
    ) -> Coroutine[Any, Any, Response]:
        # A plain function handing back the transport's coroutine: one frame less a request.
        return self._transport.request(
            method,
            path,
            self._options,
            params=params,
            body=body,
            resend_after_unknown_outcome=resend_after_unknown_outcome,
        )

    async def _create_unique(
        self,
        path: str,
        body: dict[str, Any],
        model: type[T],
        *,
        fetch: Callable[[str], Awaitable[T]],
        candidates: AsyncPaginator[T],
        is_it: Callable[[T], bool],
    ) -> T:
        """Create a resource whose ``body`` holds a unique value (a phone, a group name).

        The request is sent again after an unknown outcome: the unique value means no second
        copy can be made, and a 409 to the re-send means the first attempt made it. That one
        is returned: fetched by the id the 409 names, or else the first of ``candidates``
        that ``is_it``. A 409 to a first attempt is raised.
        """
        try:
            response = await self._request(
                "POST", path, body=body, resend_after_unknown_outcome=True
            )
        except ConflictError as conflict:
            if not conflict.is_replay:
                raise
            if conflict.existing_id is not None:
                return await fetch(conflict.existing_id)
            async for candidate in candidates:
                if is_it(candidate):
                    return candidate
            raise
        return self._decode(response, model)

    @staticmethod
    def _decode(response: Response, model: type[T]) -> T:
        return _decode_value(response, response.data, structurer(model))

    @staticmethod
    def _decode_list(response: Response, data: Any, model: type[T]) -> list[T]:
        if not isinstance(data, list):
            raise response.decode_error("expected a JSON array")
        structure = structurer(model)
        return [_decode_value(response, item, structure) for item in data]

    def _paginate(
        self,
        path: str,
        model: type[T],
        items_keys: Sequence[str],
        params: dict[str, str | int],
        *,
        limit: int | None,
        cursor: str | None,
        max_items: int | None,
    ) -> AsyncPaginator[T]:
        params["limit"] = DEFAULT_PAGE_SIZE if limit is None else check_limit(limit)
        start = None if cursor is None else check_cursor(cursor)
        structure = structurer(model)

        async def fetch_page(cursor: str | None) -> Page[T]:
            query = params if cursor is None else {**params, "cursor": cursor}
            response = await self._request("GET", path, params=query)
            return _decode_page(response, items_keys, structure, cursor)

        return AsyncPaginator(fetch_page, cursor=start, max_items=max_items)

    async def _bulk(
        self,
        method: str,
        path: str,
        contact_ids: Sequence[str],
        *,
        inline_result: type[R],
        resend_if_unknown: bool,
    ) -> BulkJobHandle[R]:
        """Send ``contact_ids`` (duplicates dropped, 10,000 a request) and return one handle."""
        distinct = list(dict.fromkeys(check_contact_ids(contact_ids, max_count=None)))
        parts: list[JobAccepted | R] = []
        for start in range(0, len(distinct), MAX_IDS_PER_REQUEST):
            chunk = distinct[start : start + MAX_IDS_PER_REQUEST]
            response = await self._request(
                method,
                path,
                body={"contactIds": chunk},
                resend_after_unknown_outcome=resend_if_unknown,
            )
            data = response.data
            if response.status == 202 or (isinstance(data, dict) and data.get("mode") == "async"):
                parts.append(_decode_value(response, data, structurer(JobAccepted)))
            else:
                parts.append(_decode_value(response, data, structurer(inline_result)))

        def result_of(job: BulkJob) -> R:
            result = result_of_job(job)
            if not isinstance(result, inline_result):
                raise MsgFlashError(
                    f"bulk job {job.id} is a {job.operation} job; expected a result of "
                    f"{inline_result.__name__}"
                )
            return result

        return BulkJobHandle(parts, backend=self._jobs, result_of=result_of)


def _decode_value(response: Response, data: Any, structure: Callable[[Any], T]) -> T:
    try:
        return structure(data)
    except Exception as exc:  # cattrs and the hooks raise many kinds; report one
        raise response.decode_error(f"unexpected response shape ({_describe(exc)})") from None


def _describe(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    return str(exc) or type(exc).__name__


def _decode_page(
    response: Response,
    items_keys: Sequence[str],
    structure: Callable[[Any], T],
    cursor: str | None,
) -> Page[T]:
    data = response.data
    if not isinstance(data, dict):
        raise response.decode_error("a list page must be a JSON object")
    raw_items = next((data[key] for key in items_keys if key in data), None)
    if not isinstance(raw_items, list):
        raise response.decode_error(f"a list page needs an array under {items_keys[0]!r}")
    has_more = data.get("hasMore")
    next_cursor = data.get("nextCursor")
    total = data.get("total")
    if not isinstance(has_more, bool):
        raise response.decode_error("'hasMore' must be true or false")
    if next_cursor is not None and not isinstance(next_cursor, str):
        raise response.decode_error("'nextCursor' must be a string or null")
    if isinstance(total, bool) or not isinstance(total, int):
        total = None
    try:
        items = tuple([structure(item) for item in raw_items])
    except Exception as exc:  # as in _decode_value
        raise response.decode_error(f"unexpected item shape ({_describe(exc)})") from None
    return Page(
        items=items,
        next_cursor=next_cursor,
        has_more=has_more,
        total=total,
        request_id=response.request_id,
        cursor=cursor,
    )
