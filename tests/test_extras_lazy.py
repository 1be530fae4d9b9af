"""Optional extras are imported only when used, and name themselves when missing."""

from __future__ import annotations

import importlib
import subprocess
import sys
from unittest.mock import patch

import pytest

from msgflash_async import MsgFlash, MsgFlashError
from msgflash_async._cli import main

EXTRA_PACKAGES = ("redis", "click", "typer", "rich", "opentelemetry")

API_KEY = "msgf_live_" + "0123456789abcdef" * 4


def test_importing_the_sdk_imports_no_extra() -> None:
    probe = (
        "import sys, msgflash_async\n"
        f"print(sorted(name for name in {EXTRA_PACKAGES!r} if name in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_the_redis_module_without_redis_py_names_the_extra() -> None:
    with patch.dict(sys.modules, {"redis": None, "redis.asyncio": None}):
        sys.modules.pop("msgflash_async.redis", None)
        with pytest.raises(MsgFlashError) as caught:
            importlib.import_module("msgflash_async.redis")
    assert isinstance(caught.value, ImportError)
    assert 'pip install "msgflash-async[redis]"' in str(caught.value)


def test_the_environment_variable_without_redis_py_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MSGFLASH_RATE_LIMITER", "redis://127.0.0.1:6379/0")
    with patch.dict(sys.modules, {"redis": None, "redis.asyncio": None}):
        sys.modules.pop("msgflash_async.redis", None)
        with pytest.raises(ImportError, match=r"msgflash-async\[redis\]") as caught:
            MsgFlash(API_KEY, base_url="https://api.msgflash.test")
    assert isinstance(caught.value, MsgFlashError)


@pytest.mark.parametrize("missing", ["click", "rich"])
def test_the_cli_commands_without_click_or_rich_name_the_extra(
    missing: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with patch.dict(sys.modules, {missing: None}):
        for name in [name for name in sys.modules if name.startswith("msgflash_async._commands")]:
            del sys.modules[name]
        with pytest.raises(MsgFlashError) as caught:
            importlib.import_module("msgflash_async._commands")
        status = main(["import", "contacts.csv"])

    assert isinstance(caught.value, ImportError)
    assert main_line(capsys.readouterr().err) == (
        f"Error: MissingDependencyError: this feature needs {missing}, which is not installed: "
        'pip install "msgflash-async[cli]"'
    )
    assert status == 1


def test_without_the_cli_extra_help_and_version_still_answer(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with patch.dict(sys.modules, {"click": None}):
        for name in [name for name in sys.modules if name.startswith("msgflash_async._commands")]:
            del sys.modules[name]
        with pytest.raises(SystemExit) as helped:
            main(["--help"])
        shown = capsys.readouterr().out
        with pytest.raises(SystemExit) as versioned:
            main(["--version"])

    assert helped.value.code == versioned.value.code == 0
    assert "{demo,server,import,export,jobs,contacts,groups}" in shown
    assert 'groups: these need pip install "msgflash-async[cli]"\n' in shown
    assert capsys.readouterr().out.startswith("msgflash-async ")


def main_line(stderr: str) -> str:
    """The one line ``stderr`` holds."""
    [line] = stderr.splitlines()
    return line
