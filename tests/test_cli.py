"""The ``msgflash`` command: what goes where, and how errors read (tests/cli runs the
commands; tests/test_demo.py the demo)."""

from __future__ import annotations

import pytest

from msgflash_async import MsgFlashError, NotFoundError, __version__
from msgflash_async._cli import error_line, main


def test_an_unknown_command_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bogus"]) == 2
    assert "No such command 'bogus'" in capsys.readouterr().err


def test_the_other_commands_go_to_the_cli_extra(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"msgflash-async {__version__}\n"
    assert main(["--help"]) == 0
    listed = capsys.readouterr().out
    for command in ("demo", "server", "import", "export", "jobs", "contacts", "groups"):
        assert f"\n  {command} " in listed


def test_an_error_is_one_line_naming_its_class_and_the_request_id() -> None:
    status = NotFoundError(
        "Contact not found\non two lines",
        status=404,
        code="NOT_FOUND",
        request_id="req-1",
        method="GET",
        url="https://api.msgflash.test/api/v1/contacts/x",
    )
    try:
        raise MsgFlashError("the import stopped") from status
    except MsgFlashError as exc:
        wrapped = exc

    assert error_line(status) == (
        "Error: NotFoundError: 404 NOT_FOUND: Contact not found on two lines "
        "(GET https://api.msgflash.test/api/v1/contacts/x) (request_id=req-1)"
    )
    assert error_line(wrapped) == "Error: MsgFlashError: the import stopped (request_id=req-1)"
    assert error_line(OSError("disk full")) == "Error: OSError: disk full"


def test_the_demo_takes_no_options() -> None:
    with pytest.raises(SystemExit) as caught:
        main(["demo", "--fast"])
    assert caught.value.code == 2


def test_server_options_are_passed_to_the_server_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["server", "--help"])
    assert caught.value.code == 0
    assert "--seed-contacts" in capsys.readouterr().out
