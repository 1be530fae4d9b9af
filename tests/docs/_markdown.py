"""The fenced code blocks of the README and the documentation pages.

A fence opens with three or more backticks and an info string: ```` ```python ```` or
```` ```python title="app.py" ````, or the attribute form ```` ``` { .python title="…" } ````,
which alone may carry other settings such as ``test="skip"`` (the short form with an unknown
setting is not a fence to Python-Markdown at all). It closes with at least as many backticks.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = (ROOT / "README.md", *sorted(DOCS.rglob("*.md")))
"""Every Markdown file whose code blocks are documentation."""

PYTHON = frozenset({"python", "py"})

_OPENING = re.compile(r"^(?P<indent> *)(?P<fence>`{3,})(?P<info>[^`]*)$")


@attrs.frozen
class CodeBlock:
    """One fenced block: where it is, its language and settings, and its text (dedented)."""

    path: Path
    line: int
    """The line of the opening fence, from 1."""
    language: str
    options: dict[str, str]
    source: str

    @property
    def name(self) -> str:
        """``docs/lists.md:12``: where a reader finds the block."""
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def is_python(self) -> bool:
        return self.language in PYTHON


def parse_info(info: str) -> tuple[str, dict[str, str]]:
    """The language and the ``key="value"`` settings of a fence's info string."""
    info = info.strip()
    if info.startswith("{") and info.endswith("}"):
        words = shlex.split(info[1:-1])
        classes = [word[1:] for word in words if word.startswith(".")]
        language = classes[0] if classes else ""
        words = [word for word in words if not word.startswith((".", "#"))]
    else:
        language, _, rest = info.partition(" ")
        words = shlex.split(rest)
    options = dict(word.partition("=")[::2] for word in words)
    return language, options


def code_blocks(path: Path) -> Iterator[CodeBlock]:
    """The fenced blocks of ``path``, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    number = 0
    while number < len(lines):
        opening = _OPENING.match(lines[number])
        number += 1
        if opening is None:
            continue
        start = number
        indent, fence = len(opening["indent"]), opening["fence"]
        closing = re.compile(rf"^ {{0,{indent + 3}}}{fence}`*\s*$")
        while number < len(lines) and not closing.match(lines[number]):
            number += 1
        if number == len(lines):
            raise ValueError(f"{path}:{start}: a code fence that is never closed")
        body = [line[indent:] if line[:indent].isspace() else line for line in lines[start:number]]
        number += 1
        language, options = parse_info(opening["info"])
        yield CodeBlock(path, start, language, options, "\n".join(body) + "\n")


def all_code_blocks() -> list[CodeBlock]:
    """Every fenced block of every documentation file."""
    return [block for page in PAGES for block in code_blocks(page)]
