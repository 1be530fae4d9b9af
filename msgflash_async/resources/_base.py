"""What every resource namespace shares: sending requests and decoding their answers."""

from __future__ import annotations

import contextlib
import enum
import functools
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar, cast

from .._converter import items_structurer, structurer
from .._errors import ConflictError, MsgFlashError, NotFoundError
from .._jobs import BulkJobHandle, BulkResult, JobsBackend
from .._models import JobAccepted, Page
from .._pagination import AsyncPaginator
from .._transport import RequestOptions, Response, Transport
from .._validation import MAX_IDS_PER_REQUEST, check_contact_ids, check_cursor, check_limit
from .._wire import NOT_FULL_SHAPE, WirePage, body_decoder, page_structurer

__all__ = ["UNSET", "APIResource", "Unset"]

T = TypeVar("T")
R = TypeVar("R", bound=BulkResult)

DEFAULT_PAGE_SIZE = 100
"""Walks fetch the largest page the API allows: fewer requests under the 10 req/s limit."""

CREATED_AT_SKEW = 300.0
"""How far, in seconds, the server's clock may run behind ours: a create that meets a 409 on a
re-send takes the holder of the unique value for its own only if the holder was created no
earlier than this before the call started."""


class Unset(enum.Enum):
    """The type of ``UNSET``."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET = Unset.UNSET
"""Marks an update argument left out: the field keeps its current value."""


class _Record(Protocol):
    """A record with an id, that says when it was created."""

    @property
    def id(self) -> str: ...

    @property
    def created_at(self) -> datetime | None: ...


D = TypeVar("D", bound=_Record)


class _Send(Protocol):
    """``Transport.request`` with the resource's options: send a request and decode its 2xx
    answer inside the retry loop. An answer ``decode`` rejects is an unknown outcome, re-sent
    where that is safe."""

    def __call__(
        self,
        method: str,
        path: str,
        decode: Callable[[Response], T],
        *,
        params: Mapping[str, str | int] | None = None,
        body: Any = None,
        resend_after_unknown_outcome: bool | None = None,
    ) -> Coroutine[Any, Any, T]: ...


class APIResource:
    """Base of the resource namespaces: holds the transport, the call options and jobs."""

    def __init__(self, transport: Transport, options: RequestOptions, jobs: JobsBackend) -> None:
        self._transport = transport
        self._options = options
        self._jobs = jobs
        # A partial, not a method: a call goes straight to the transport, no Python frame.
        self._call = cast("_Send", functools.partial(transport.request, options))

    @staticmethod
    def _decoder(model: type[T]) -> Callable[[Response], T]:
        """A decoder of the payload under ``data`` into ``model``, made once per model."""
        decode = _decoders.get(model)
        if decode is None:
            decode = functools.partial(_decode_payload, structurer(model))
            decode = _decoders[model] = body_decoder(model, decode) or decode
        return decode

    @staticmethod
    def _list_decoder(model: type[T], key: str) -> Callable[[Response], list[T]]:
        """A decoder of a JSON array of ``model``, bare or under ``key`` of an object."""
        structure = structurer(model)

        def decode(response: Response) -> list[T]:
            data = response.data
            if isinstance(data, dict) and key in data:
                data = data[key]
            if not isinstance(data, list):
                raise response.decode_error("expected a JSON array")
            return [_decode_value(response, item, structure) for item in data]

        return decode

    async def _delete(self, path: str) -> None:
        """Delete a resource; any 2xx answer will do (spec C5, G5).

        A 404 answering a re-send after an unknown outcome means the first attempt deleted
        it, so it is not an error.
        """
        try:
            await self._call("DELETE", path, _no_value)
        except NotFoundError as exc:
            if not exc.is_replay:
                raise

    async def _replayed_create(
        self,
        conflict: ConflictError,
        body: dict[str, Any],
        started: float,
        *,
        fetch: Callable[[str], Awaitable[D]],
        candidates: Callable[[], AsyncPaginator[D]],
        holds_value: Callable[[D], bool],
    ) -> D:
        """What a create of a unique value (a phone, a group name) that met ``conflict``
        returns: the holder of the value, if the 409 answered a re-send and the holder is
        provably this call's own result (``_is_own``); else ``conflict`` is raised.

        A create sends its ``body`` again after an unknown outcome (the unique value means no
        second copy can be made), from ``started``, and calls this only when a 409 came: the
        holder is named by the 409's id, or else is the first of ``candidates()`` that
        ``holds_value``, and is read with ``fetch``.
        """
        if not conflict.is_replay:
            raise conflict
        holder_id = conflict.existing_id
        if holder_id is None:
            holder_id = await _find_id(candidates(), holds_value)
        if holder_id is None:
            raise conflict
        holder = await fetch(holder_id)
        if not _is_own(holder, body, started):
            raise conflict
        return holder

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
        # An empty cursor, as a web form sends, starts the walk.
        start = None if cursor is None or cursor == "" else check_cursor(cursor)
        structure_items = items_structurer(model)
        from_body = page_structurer(model, items_keys[0])

        def fetch_page(cursor: str | None) -> Coroutine[Any, Any, Page[T]]:
            query = params if cursor is None else {**params, "cursor": cursor}
            return self._call(
                "GET",
                path,
                lambda response: _decode_page(
                    response, items_keys, structure_items, from_body, cursor
                ),
                params=query,
            )

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
        """Send ``contact_ids`` (duplicates dropped, 10,000 a request) and return one handle.

        When a request fails, its error tells what the parts before it started: ``accepted``
        is a handle over them (``None`` if the first request failed), ``accepted_job_ids``
        their jobs, and ``unsent_ids`` the ids of the failed request and of those after it.
        """
        distinct = list(dict.fromkeys(check_contact_ids(contact_ids, max_count=None)))
        decode = _bulk_decoder(inline_result)
        parts: list[JobAccepted | R] = []
        for start in range(0, len(distinct), MAX_IDS_PER_REQUEST):
            try:
                parts.append(
                    await self._call(
                        method,
                        path,
                        decode,
                        body={"contactIds": distinct[start : start + MAX_IDS_PER_REQUEST]},
                        resend_after_unknown_outcome=resend_if_unknown,
                    )
                )
            except MsgFlashError as error:
                if parts:
                    error.accepted = self._handle(parts, inline_result)
                    error.accepted_job_ids = error.accepted.job_ids
                error.unsent_ids = tuple(distinct[start:])
                raise
        return self._handle(parts, inline_result)

    def _handle(self, parts: Sequence[JobAccepted | R], inline_result: type[R]) -> BulkJobHandle[R]:
        """One handle over the accepted ``parts`` of a bulk call."""
        return BulkJobHandle(parts, backend=self._jobs, result_type=inline_result)


def _no_value(response: Response) -> None:
    """A decoder for answers whose payload does not matter, but must be a ``data`` envelope
    (or nothing): a garbled answer is an unknown outcome."""
    response.data  # noqa: B018 - read for its check


async def _find_id(candidates: AsyncPaginator[D], holds_value: Callable[[D], bool]) -> str | None:
    """The id of the first of ``candidates`` that ``holds_value``."""
    async for candidate in candidates:
        if holds_value(candidate):
            return candidate.id
    return None


def _is_own(holder: _Record, body: Mapping[str, Any], started: float) -> bool:
    """Whether ``holder`` is provably what a create of ``body`` begun at ``started`` made.

    Every field sent must hold the value sent (the body's keys are the model's attribute
    names), and the holder must have been created after ``started``, give or take
    ``CREATED_AT_SKEW``. A holder that does not say when it was created proves nothing.
    """
    created = holder.created_at
    if created is None or created.timestamp() < started - CREATED_AT_SKEW:
        return False
    return all(_as_sent(getattr(holder, key)) == sent for key, sent in body.items())


def _as_sent(value: Any) -> Any:
    """A model's value in the types its request body uses (lists and dicts)."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value


def _bulk_decoder(inline_result: type[R]) -> Callable[[Response], JobAccepted | R]:
    """A decoder of a bulk answer: a job accepted (a 202, or ``mode`` async), or a result."""
    accepted = structurer(JobAccepted)
    inline = structurer(inline_result)

    def decode(response: Response) -> JobAccepted | R:
        data = response.data
        if response.status == 202 or (isinstance(data, dict) and data.get("mode") == "async"):
            return _decode_value(response, data, accepted)
        return _decode_value(response, data, inline)

    return decode


_decoders: dict[type[Any], Callable[[Response], Any]] = {}


def _decode_value(response: Response, data: Any, structure: Callable[[Any], T]) -> T:
    try:
        return structure(data)
    except Exception as exc:  # cattrs and the hooks raise many kinds; report one
        raise response.decode_error(f"unexpected response shape ({_describe(exc)})") from None


def _decode_payload(structure: Callable[[Any], T], response: Response) -> T:
    """``_decode_value`` of the payload under ``data``, written out: one call less a request."""
    try:
        return structure(response.data)
    except Exception as exc:  # as in _decode_value
        raise response.decode_error(f"unexpected response shape ({_describe(exc)})") from None


def _describe(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    return str(exc) or type(exc).__name__


def _decode_page(
    response: Response,
    items_keys: Sequence[str],
    structure_items: Callable[[list[Any]], tuple[T, ...]],
    from_body: Callable[[bytes], WirePage[T]] | None,
    cursor: str | None,
) -> Page[T]:
    parts = None
    if from_body is not None:
        with contextlib.suppress(*NOT_FULL_SHAPE):  # the careful way decides
            parts = from_body(response.body)
    items, next_cursor, has_more, total = parts or _page_parts(
        response, items_keys, structure_items
    )
    return Page(
        items=items,
        next_cursor=next_cursor,
        has_more=has_more,
        total=total,
        request_id=response.request_id,
        cursor=cursor,
    )


def _page_parts(
    response: Response,
    items_keys: Sequence[str],
    structure_items: Callable[[list[Any]], tuple[T, ...]],
) -> WirePage[T]:
    """A page's items, ``nextCursor``, ``hasMore`` and ``total``, decoded the careful way."""
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
        items = structure_items(raw_items)
    except Exception as exc:  # as in _decode_value
        raise response.decode_error(f"unexpected item shape ({_describe(exc)})") from None
    return items, next_cursor, has_more, total
