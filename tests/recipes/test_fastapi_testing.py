"""The recipe for testing the FastAPI service with the pytest plugin,
``examples/test_fastapi_service.py``, run as its readers run it: pytest in a process of its own.

The suite's own run does not collect ``examples/`` (``testpaths`` is ``tests``), so the
example's tests run once, here.
"""

from __future__ import annotations

import sys

from .conftest import Services

EXAMPLE = "examples/test_fastapi_service.py"


async def test_the_fastapi_testing_recipe_passes_under_pytest(services: Services) -> None:
    pytest_run = await services.start(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", EXAMPLE], {}
    )

    exit_code = await pytest_run.exit_code()

    output = "".join(pytest_run.output)
    assert exit_code == 0, output
    assert "5 passed" in output.splitlines()[-1], output
