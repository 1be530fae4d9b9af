"""Contacts and members decoded from a body in one pass, when msgspec is installed.

The ``speedups`` extra installs msgspec. Its decoders check the API's full shape in C while
they parse (every field, each of its wire type) and the models are then built from what they
give, with the timestamps read as the converter's fast path reads them. A body of any other
shape is decoded the careful way (``Response.data``, then the converter), whose rules stay
the only ones: this path gives the same model or steps aside. One difference is msgspec's:
an integer beyond 64 bits in ``meta`` stays exact, as the standard library's json keeps it,
where orjson makes it a float. Without msgspec the functions here return ``None``.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ._converter import FAST_TIMESTAMPS, UTC, fromisoformat
from ._models import Contact, GroupMember

if TYPE_CHECKING:
    from ._transport import Response

__all__ = ["NOT_FULL_SHAPE", "WirePage", "body_decoder", "page_structurer"]

T = TypeVar("T")

WirePage = tuple[tuple[T, ...], str | None, bool, int | None]
"""A page's items, ``nextCursor``, ``hasMore`` and ``total``."""


NOT_FULL_SHAPE: tuple[type[Exception], ...] = (ValueError, RecursionError)
"""What the decoders here raise for a body of another shape: msgspec's ``DecodeError`` (not a
``ValueError`` in msgspec 0.19, the floor, as it is in 0.23), ``ValueError`` from
``fromisoformat``, and ``RecursionError`` for a body nested too deeply."""

try:
    import msgspec
except ImportError:  # pragma: no cover - exercised only without the speedups extra
    msgspec = None  # type: ignore[assignment]
else:
    NOT_FULL_SHAPE = (*NOT_FULL_SHAPE, msgspec.DecodeError)


def body_decoder(
    model: type[T], careful: Callable[[Response], T]
) -> Callable[[Response], T] | None:
    """``careful`` behind a one-pass decode of an answer whose ``data`` is one ``model`` (a
    contact or a member); ``None`` when msgspec is missing or ``model`` is another one."""
    wire = _WIRE.get(model)
    if wire is None:
        return None
    decode = msgspec.json.Decoder(_envelope(wire)).decode
    build = _one_builder(model)

    def decode_answer(response: Response) -> T:
        try:
            built = build(decode(response.body).data)
        except NOT_FULL_SHAPE:
            return careful(response)
        return careful(response) if built is None else built

    return decode_answer


def page_structurer(model: type[T], items_key: str) -> Callable[[bytes], WirePage[T]] | None:
    """Decodes a list page whose items, under ``items_key``, are ``model``; ``None`` when
    msgspec is missing or ``model`` is another one. Raises one of ``NOT_FULL_SHAPE`` for any
    other shape. Made once per kind of page, however many walks ask for it."""
    key = (model, items_key)
    if key not in _page_structurers:
        _page_structurers[key] = _make_page_structurer(model, items_key)
    structure: Callable[[bytes], WirePage[T]] | None = _page_structurers[key]
    return structure


_page_structurers: dict[tuple[type[Any], str], Callable[[bytes], WirePage[Any]] | None] = {}


def _make_page_structurer(model: type[T], items_key: str) -> Callable[[bytes], WirePage[T]] | None:
    wire = _WIRE.get(model)
    if wire is None:
        return None
    page = msgspec.defstruct(
        "Page",
        [
            (items_key, types.GenericAlias(list, (wire,))),
            ("has_more", bool),
            ("next_cursor", str | None, None),
            ("total", Any, None),
        ],
        rename="camel",
    )
    decode = msgspec.json.Decoder(_envelope(page)).decode
    build = _builder(model)

    def structure(body: bytes) -> WirePage[T]:
        data = decode(body).data
        wires = getattr(data, items_key)
        items = build(wires)
        if len(items) != len(wires):
            raise ValueError("not in the full shape")
        total = data.total
        return tuple(items), data.next_cursor, data.has_more, total if type(total) is int else None

    return structure


def _builder(model: type[T]) -> Callable[[list[Any]], list[T]]:
    """Builds ``model`` from decoded wire objects whose timestamps are in UTC; the others are
    left out (the converter keeps other offsets, and takes a naive time as UTC)."""
    member = model is GroupMember

    def build(wires: list[Any]) -> list[Any]:
        return [
            GroupMember(w.id, w.name, w.phone, w.tags, w.meta, w.temperature, at, up, added)
            if member
            else Contact(w.id, w.name, w.phone, w.tags, w.meta, w.temperature, at, up)
            for w in wires
            if (at := fromisoformat(w.created_at)).tzinfo
            is (up := fromisoformat(w.updated_at)).tzinfo
            is (added := fromisoformat(w.added_at) if member else at).tzinfo
            is UTC
        ]

    return build


def _one_builder(model: type[T]) -> Callable[[Any], T | None]:
    """Builds one ``model`` as ``_builder`` does; ``None`` where ``_builder`` would leave it
    out. A contact (what answers of one item hold) is built without the list and loop around
    it; any other model goes through ``_builder`` itself."""
    if model is not Contact:
        build = _builder(model)

        def build_through_list(w: Any) -> T | None:
            built = build([w])
            return built[0] if built else None

        return build_through_list

    def build_contact(w: Any) -> Any:
        at, up = fromisoformat(w.created_at), fromisoformat(w.updated_at)
        if at.tzinfo is up.tzinfo is UTC:
            return Contact(w.id, w.name, w.phone, w.tags, w.meta, w.temperature, at, up)
        return None

    return build_contact


def _envelope(payload: Any) -> Any:
    return msgspec.defstruct("Envelope", [("data", payload)])


_WIRE: dict[type[Any], Any] = {}
if msgspec is not None and FAST_TIMESTAMPS:

    class _ContactWire(msgspec.Struct, rename="camel"):
        """A contact in the API's full shape; timestamps stay text, read by ``fromisoformat``
        as the converter reads them."""

        id: str
        name: str
        phone: str
        tags: tuple[str, ...]
        meta: dict[str, Any]
        temperature: Any
        created_at: str
        updated_at: str

    class _MemberWire(_ContactWire, rename="camel"):
        """A group member in the API's full shape."""

        added_at: str

    _WIRE = {Contact: _ContactWire, GroupMember: _MemberWire}
