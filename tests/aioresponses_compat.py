"""aioresponses, made to work with every supported aiohttp: shared by the whole suite."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator
from typing import Any
from unittest.mock import patch

import aiohttp
from aiohttp.client_proto import ResponseHandler
from aiohttp.streams import StreamReader
from aioresponses import aioresponses
from aioresponses import core as aioresponses_core

__all__ = ["mocked_api"]


class _StreamWriterStub:
    output_size = 0


class _CompatibleResponse(aiohttp.ClientResponse):
    """aioresponses 0.7.9 builds responses without the ``stream_writer`` aiohttp 3.14 needs."""

    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", _StreamWriterStub())
        super().__init__(method, url, **kwargs)


def _roomy_stream_reader(loop: Any = None) -> StreamReader:
    """aioresponses' body stream, with room for bodies of a few MB: its own pauses reading
    past 128 KiB, which fails on its protocol that has no parser."""
    return StreamReader(ResponseHandler(loop=loop), limit=2**26, loop=loop)


@contextlib.contextmanager
def mocked_api() -> Iterator[aioresponses]:
    """aioresponses made to work with every supported aiohttp and with large bodies, usable in
    any scope (also in each Hypothesis example, where function-scoped fixtures do not fit)."""
    needs_writer = "stream_writer" in inspect.signature(aiohttp.ClientResponse.__init__).parameters
    with contextlib.ExitStack() as stack:
        if needs_writer:
            stack.enter_context(
                patch.object(aioresponses_core, "ClientResponse", _CompatibleResponse)
            )
        stack.enter_context(
            patch.object(aioresponses_core, "stream_reader_factory", _roomy_stream_reader)
        )
        yield stack.enter_context(aioresponses())
