"""Every Python block of the README and the documentation runs against the local server.

- A whole program (one that calls ``asyncio.run``) runs unchanged, as ``__main__``: its
  ``MsgFlash()`` reads the server's key and URL from the environment.
- A fragment runs with top-level ``await`` allowed, in a namespace holding ``client`` (a
  client of the server, unpaced, polling jobs every 0.05 s), ``contact_ids`` (150 contacts),
  ``contact_id`` (the first of them) and ``group_id`` (a group ``Customers`` holding the
  first three).
- A block titled as a test file (``title="test_signup.py"``) is written there and run by
  pytest, in a subprocess, with the pytest-asyncio settings the testing page gives.
- All run in a fresh directory holding ``contacts.csv`` (see ``conftest.CONTACTS_CSV``).
- ``# > text`` comments (ruff's formatting of ``#>``) are the block's output: when a block
  has any, what it prints must be exactly those lines, in order.
- A block that must not run opts out with ``test="skip"`` and a ``title`` saying why, shown
  above the block on the page. Other blocks name their language (``bash``, ``text``…).
"""

from __future__ import annotations

import ast
import asyncio
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from msgflash_async import MsgFlash

from ._markdown import CodeBlock, all_code_blocks
from .conftest import ServerThread

BLOCKS = all_code_blocks()
PYTHON_BLOCKS = [block for block in BLOCKS if block.is_python]
SKIPPED = [block for block in PYTHON_BLOCKS if block.options.get("test") == "skip"]
RUN = [block for block in PYTHON_BLOCKS if block not in SKIPPED]

_OUTPUT = re.compile(r"# > ?(.*)$")
FRAGMENT_TIMEOUT = 60.0
"""Seconds a fragment may take: none comes near, so reaching it means a hang."""
SUBPROCESS_TIMEOUT = 300.0
"""Seconds a test file's pytest run may take, on a loaded machine."""
TEST_FILE = re.compile(r"test_\w+\.py")
"""The title of a block that is a whole test file, run by pytest."""


def expected_output(block: CodeBlock) -> list[str]:
    """The lines the ``# >`` comments of ``block`` promise, in order."""
    found = (_OUTPUT.search(line) for line in block.source.splitlines())
    return [match.group(1).rstrip() for match in found if match is not None]


def fixture_namespace(thread: ServerThread) -> dict[str, Any]:
    """The ids a fragment may use, made on the server."""

    def seed(server: Any) -> dict[str, Any]:
        workspace = server.workspace()
        contact_ids = [contact.id for contact in workspace.seed_contacts(150)]
        group = workspace.add_group("Customers", description="Everyone who bought")
        workspace.add_members(group.id, contact_ids[:3])
        return {"contact_ids": contact_ids, "contact_id": contact_ids[0], "group_id": group.id}

    return thread.call(seed)


async def run_fragment(block: CodeBlock, namespace: dict[str, Any]) -> None:
    code = compile(
        block.source, block.name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True
    )
    async with MsgFlash(rate_limit=None, job_poll_interval=0.05) as client:
        namespace["client"] = client
        outcome = eval(code, namespace)
        if outcome is not None:
            await asyncio.wait_for(outcome, FRAGMENT_TIMEOUT)


def run_test_file(block: CodeBlock, directory: Path) -> None:
    """Run a block titled as a test file with pytest, in auto mode as the page says to."""
    path = directory / block.options["title"]
    path.write_text(block.source, encoding="utf-8")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error"]
    command += ["-o", "asyncio_mode=auto", "-o", "asyncio_default_fixture_loop_scope=function"]
    command.append(path.name)
    ran = subprocess.run(
        command, cwd=directory, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert re.search(r"\b[1-9]\d* passed", ran.stdout), ran.stdout


@pytest.mark.parametrize("block", RUN, ids=lambda block: block.name)
def test_code_block(
    block: CodeBlock,
    docs_server: ServerThread,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    namespace: dict[str, Any] = {"__name__": "__main__"}
    if TEST_FILE.fullmatch(block.options.get("title", "")):
        run_test_file(block, tmp_path)
    elif "asyncio.run(" in block.source:
        exec(compile(block.source, block.name, "exec", dont_inherit=True), namespace)
    else:
        namespace.update(fixture_namespace(docs_server))
        asyncio.run(run_fragment(block, namespace))
    expected = expected_output(block)
    if expected:
        assert capsys.readouterr().out.splitlines() == expected


def test_blocks_are_found() -> None:
    """The collector sees the README's blocks and the pages' (a broken parser finds none)."""
    readme = [block for block in RUN if block.path.name == "README.md"]
    assert len(readme) >= 2
    assert len(RUN) >= 20


def test_block_settings() -> None:
    """Every block names its language (one without could be Python that never runs); a
    Python block's only settings are ``title`` and ``test="skip"``, and a skipped one's title
    says why."""
    for block in BLOCKS:
        assert block.language, f"{block.name}: name the block's language (python, bash, text…)"
    for block in PYTHON_BLOCKS:
        assert set(block.options) <= {"title", "test"}, f"{block.name}: {block.options}"
        assert block.options.get("test", "skip") == "skip", f"{block.name}: {block.options}"
    for block in SKIPPED:
        assert block.options.get("title", "").strip(), (
            f'{block.name}: test="skip" needs a title="…" saying why the block cannot run'
        )
