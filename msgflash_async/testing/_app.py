"""The aiohttp application: faults, authentication, limits, routing and envelopes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

from aiohttp import web

from ._errors import ApiError, not_found
from ._faults import HTML_PAGE, Fault, InjectedResponse
from ._handlers import Call
from ._json import JSONValue, dumps
from ._requestlog import LoggedRequest, parse_logged_body
from ._routes import Route, match_route
from ._state import ServerState

STATE_KEY = web.AppKey("msgflash_state", ServerState)
"""Where the app keeps its ``ServerState``."""


def create_app(state: ServerState) -> web.Application:
    """An ``aiohttp.web`` application serving the MsgFlash API from ``state``.

    Usable with ``web.AppRunner`` or aiohttp's test client; cleaning the app up stops the
    real-time job tasks.
    """
    # aiohttp's 1 MiB default would refuse a valid bulk body of 10,000 long ids.
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[STATE_KEY] = state
    app.router.add_route("*", "/{path:.*}", _dispatch)
    app.on_response_prepare.append(_add_request_id)
    app.on_cleanup.append(_stop_jobs)
    return app


async def _add_request_id(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("x-request-id", str(uuid.uuid4()))


async def _stop_jobs(app: web.Application) -> None:
    await app[STATE_KEY].jobs.close()


async def _dispatch(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    raw = await request.read()
    matched = match_route(request.method, request.path)
    route_name = "unknown" if matched is None else matched[0].name
    injected = state.faults.take_injected(route_name)
    fault = Fault() if injected is not None else state.faults.draw(route_name)
    if fault.latency:
        await asyncio.sleep(fault.latency)
    response: web.Response | None
    if injected is not None:
        response = _injected_response(injected)
    else:
        response = _under_fault(fault, lambda: _process(state, request, raw, matched))
    if state.log.enabled:
        state.log.append(
            LoggedRequest(
                method=request.method,
                path=request.path,
                query=dict(request.query),
                headers={name.lower(): value for name, value in request.headers.items()},
                body=parse_logged_body(raw),
                route=route_name,
                status=None if response is None else response.status,
                fault="injected" if injected is not None else fault.kind,
            )
        )
    if response is None:
        # Abort rather than close, so the client sees a reset and no response at all.
        assert request.transport is not None
        request.transport.abort()
        return web.Response()
    return response


def _under_fault(fault: Fault, process: Callable[[], web.Response]) -> web.Response | None:
    """The response under ``fault``, calling ``process`` unless the fault prevents it; None
    when the connection is to be dropped.
    """
    error = fault.error()
    if error is not None:
        return _error_response(error)
    html_status = fault.html_status()
    if html_status is not None:
        return web.Response(status=html_status, text=HTML_PAGE, content_type="text/html")
    if fault.kind == "drop_before":
        return None
    response = process()
    if fault.kind == "drop_after":
        return None
    if fault.kind == "truncated":
        assert isinstance(response.body, bytes)
        response.body = response.body[: len(response.body) // 2]
    return response


def _process(
    state: ServerState,
    request: web.Request,
    raw: bytes,
    matched: tuple[Route, dict[str, str]] | None,
) -> web.Response:
    """Answer a request in the order of §4.2."""
    api_key = request.headers.get("x-api-key", "")
    try:
        workspace = state.authenticate(api_key, request.headers.get("x-team-id"))
        state.admit(api_key, workspace)
        if matched is None:
            raise not_found("Route not found")
        route, params = matched
        call = Call(workspace, state.jobs, params, request.query, raw, state.job_format)
        status, data = route.handler(call)
    except ApiError as error:
        return _error_response(error)
    return _json_response(status, {"data": data})


def _json_response(
    status: int, body: JSONValue, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        status=status, text=dumps(body), content_type="application/json", headers=headers
    )


def _error_response(error: ApiError) -> web.Response:
    return _json_response(error.status, error.envelope(), dict(error.headers))


def _injected_response(injected: InjectedResponse) -> web.Response:
    if injected.status == 204:
        return web.Response(status=204, headers=dict(injected.headers))
    return _json_response(injected.status, injected.payload(), dict(injected.headers))
