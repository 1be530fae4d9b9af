"""The ``msgflash`` command and the demo it runs."""

from __future__ import annotations

import pytest

from msgflash_async._cli import main
from msgflash_async._demo import run_demo


async def test_demo_tours_the_sdk_against_a_local_server() -> None:
    lines: list[str] = []
    await run_demo(members=150, poll_interval=0.05, echo=lines.append)
    text = "\n".join(lines)
    assert "created contact Awa Doe +22997000001" in text
    assert "added 150, already in group 0, not found 0" in text
    assert "search 'Kofi' found Kofi Mensah" in text
    assert "streamed 150 members page by page" in text
    assert "deleted 150, not found 0" in text
    assert lines[-1].endswith("now has 0 members; done")


def test_an_unknown_command_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["bogus"])
    assert caught.value.code == 2
    assert "invalid choice: 'bogus'" in capsys.readouterr().err


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
