"""A stateful local fake of the MsgFlash contacts API, for tests, demos and benchmarks.

``LocalMsgFlash`` serves all endpoints of the specification from memory, with fault injection,
rate limits, bulk jobs that run in real time or step by step, and direct access to the state.
The ``msgflash`` pytest plugin (``msgflash_async.testing.pytest_plugin``) provides the
``msgflash_server`` and ``msgflash_client`` fixtures.
"""

from ._app import create_app
from ._cli import run_server_cli, serve
from ._errors import ApiError
from ._fake_clock import FakeClock
from ._faults import FAULT_KINDS, FaultConfig, FaultKind, FaultProfile
from ._models import Contact, Group, Job
from ._requestlog import LoggedRequest
from ._routes import ROUTE_NAMES
from ._server import LocalMsgFlash
from ._state import ServerState
from ._workspace import UNSET, Workspace

__all__ = [
    "FAULT_KINDS",
    "ROUTE_NAMES",
    "UNSET",
    "ApiError",
    "Contact",
    "FakeClock",
    "FaultConfig",
    "FaultKind",
    "FaultProfile",
    "Group",
    "Job",
    "LocalMsgFlash",
    "LoggedRequest",
    "ServerState",
    "Workspace",
    "create_app",
    "run_server_cli",
    "serve",
]
