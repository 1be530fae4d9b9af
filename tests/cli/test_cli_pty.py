"""The import's progress bar: drawn on a terminal (a pseudo-terminal here), not in a pipe."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from .conftest import WAIT, ServerThread, child_env, run_command
from .test_cli_commands import write

BAR = "━"
"""What rich draws a progress bar with."""


def run_in_terminal(served: ServerThread, *arguments: str, cwd: Path) -> tuple[int, str]:
    """``msgflash <arguments>`` on a 120-column pseudo-terminal: exit status, what it showed."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    child = subprocess.Popen(
        [sys.executable, "-m", "msgflash_async", *arguments],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        cwd=cwd,
        env=child_env(served, {"TERM": "xterm-256color", "PYTHONIOENCODING": "utf-8"}),
    )
    os.close(terminal)
    shown = bytearray()
    deadline = time.monotonic() + WAIT
    try:
        while time.monotonic() < deadline:
            if select.select([controller], [], [], 0.1)[0]:
                try:
                    chunk = os.read(controller, 65536)
                except OSError:  # Linux: the terminal closed with the child
                    break
                if not chunk:
                    break
                shown += chunk
            elif child.poll() is not None:
                break
        return child.wait(WAIT), shown.decode("utf-8", "replace")
    finally:
        os.close(controller)


def test_the_progress_bar_renders_on_a_terminal_and_not_in_a_pipe(
    served: ServerThread, tmp_path: Path
) -> None:
    for name, first in (("in.csv", 0), ("again.csv", 50)):
        rows = "".join(f"Person {index},+1555{index:07d}\n" for index in range(first, first + 50))
        write(tmp_path / name, "name,phone\n" + rows)

    status, on_screen = run_in_terminal(served, "import", "in.csv", cwd=tmp_path)
    piped = run_command(served, "import", "again.csv", cwd=tmp_path)

    assert status == 0, on_screen
    assert BAR in on_screen
    assert "\r\x1b[2Kimport" in on_screen  # the bar, redrawn in place
    assert "50/50" in on_screen  # its last state: every row handled
    assert re.search(r"│ created +│ 50 +│", on_screen)  # the summary, as a rich table
    assert piped.returncode == 0, piped.stderr
    assert BAR not in piped.stderr + piped.stdout
    assert "\x1b" not in piped.stderr + piped.stdout
    assert piped.stderr.startswith("imported ")
