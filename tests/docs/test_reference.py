"""What the documentation claims about the code, checked against the code.

- The API reference (``docs/reference/*.md``) covers every public name.
- The environment variables the client page lists are those the SDK reads.
- The error tree the errors page draws is the real class tree.
"""

from __future__ import annotations

import builtins
import importlib
import re
import sys
from types import ModuleType

import pytest

import msgflash_async
import msgflash_async._errors
import msgflash_async.redis
import msgflash_async.testing
from msgflash_async import MsgFlashError

from ._markdown import DOCS, ROOT, code_blocks

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

PACKAGE = ROOT / "msgflash_async"
DOCUMENTED_MODULES = (msgflash_async, msgflash_async.testing, msgflash_async.redis)
"""The modules whose ``__all__`` is the public API."""


def directives() -> set[str]:
    """The objects the reference pages render, from their ``::: dotted.path`` lines."""
    found: set[str] = set()
    for page in sorted((DOCS / "reference").glob("*.md")):
        found.update(re.findall(r"^::: *(\S+)", page.read_text(encoding="utf-8"), re.M))
    return found


def resolve(path: str) -> object:
    """The object a directive names: a module, or an attribute of one."""
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError:
        module, _, name = path.rpartition(".")
        return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("module", DOCUMENTED_MODULES, ids=lambda module: module.__name__)
def test_every_public_name_is_in_the_reference(module: ModuleType) -> None:
    rendered = directives()
    missing = [
        name
        for name in module.__all__
        if f"{module.__name__}.{name}" not in rendered and module.__name__ not in rendered
    ]
    assert not missing, f"add a ::: {module.__name__}.<name> line to docs/reference/ for {missing}"


def test_every_directive_names_a_real_object() -> None:
    for path in directives():
        assert resolve(path) is not None, path


def test_the_pytest_plugin_is_in_the_reference() -> None:
    assert "msgflash_async.testing.pytest_plugin" in directives()


def documented_variables() -> set[str]:
    """The variables in the first column of the client page's environment table."""
    page = (DOCS / "client.md").read_text(encoding="utf-8")
    section = page.split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(MSGFLASH_[A-Z_]+)` \|", section, re.M))


def variables_in_the_code() -> set[str]:
    return {
        name
        for source in PACKAGE.rglob("*.py")
        for name in re.findall(r"\bMSGFLASH_[A-Z_]+\b", source.read_text(encoding="utf-8"))
    }


def test_the_documented_variables_are_those_the_sdk_reads() -> None:
    documented = documented_variables()
    assert "MSGFLASH_API_KEY" in documented  # the table was found
    assert documented == variables_in_the_code()


def drawn_tree() -> dict[str, tuple[str | None, str | None]]:
    """Each class of the errors page's drawing: its parent in the drawing, and the builtin
    base in parentheses, if any."""
    [drawing] = [
        block.source
        for block in code_blocks(DOCS / "errors.md")
        if block.source.startswith("MsgFlashError")
    ]
    tree: dict[str, tuple[str | None, str | None]] = {}
    ancestors: list[str] = []
    for line in drawing.splitlines():
        found = re.match(r"(?P<branch>[│├└─ ]*)(?P<name>\w+)(?: \((?P<builtin>\w+)\))?", line)
        assert found is not None, line
        depth = len(found["branch"]) // 4
        del ancestors[depth:]
        tree[found["name"]] = (ancestors[-1] if ancestors else None, found["builtin"])
        ancestors.append(found["name"])
    return tree


def test_the_errors_page_draws_the_module_docstring_tree() -> None:
    """One drawing in two places: the errors page and ``_errors.py``, as ``help()`` shows it."""
    docstring = (msgflash_async._errors.__doc__ or "").replace("``", "")
    lines = docstring.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "MsgFlashError")
    end = next(i for i in range(start, len(lines) + 1) if i == len(lines) or not lines[i].strip())
    indent = len(lines[start]) - len(lines[start].lstrip())
    module_tree = [line[indent:].rstrip() for line in lines[start:end]]
    [page_tree] = [
        block.source
        for block in code_blocks(DOCS / "errors.md")
        if block.source.startswith("MsgFlashError")
    ]
    assert page_tree.splitlines() == module_tree


def test_the_error_tree_is_the_real_one() -> None:
    tree = drawn_tree()
    exported = {
        name
        for name in msgflash_async.__all__
        if isinstance(getattr(msgflash_async, name), type)
        and issubclass(getattr(msgflash_async, name), MsgFlashError)
    }
    assert set(tree) == exported
    for name, (parent, builtin) in tree.items():
        error_class = getattr(msgflash_async, name)
        if parent is not None:
            assert error_class.__bases__[0] is getattr(msgflash_async, parent), name
        if builtin is not None:
            assert issubclass(error_class, getattr(builtins, builtin)), name


def test_the_readme_states_the_declared_floors() -> None:
    """Each floor of the package and its extras, as pyproject.toml declares it."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [*project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        requirements += extra
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    for requirement in requirements:
        found = re.fullmatch(r"([A-Za-z0-9._-]+)(?:\[[^]]*\])?>=([0-9.]+)", requirement)
        assert found is not None, requirement
        assert f"{found[1]} {found[2]}" in readme, requirement


def test_the_index_links_only_inside_the_site() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)]+)\)", index)
    assert targets
    for target in targets:
        assert "://" not in target, target
        assert not target.startswith(".."), target
        assert (DOCS / target.split("#")[0]).is_file(), target
