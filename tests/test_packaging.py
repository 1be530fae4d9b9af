"""Declared dependencies: every package imported is declared, and the floors give what the SDK
relies on. ``nox -s lowest`` runs the whole suite at the floors."""

from __future__ import annotations

import ast
import asyncio
import functools
import importlib.metadata
import importlib.util
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import anyio
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "msgflash_async"
PLUGIN = PACKAGE / "testing" / "pytest_plugin.py"
NEWER_STDLIB = {"tomllib"}
"""Standard modules of later CPythons, imported only on those."""
HOSTED_BY_PYTEST = {"pytest", "pytest_asyncio"}
"""Imported by the pytest plugin alone, which only pytest loads (pytest-asyncio if present)."""


def pyproject() -> dict[str, Any]:
    """pyproject.toml, read with tomllib (tomli before CPython 3.11, which pytest brings)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    table: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return table


def canonical(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(requirements: Iterable[Any]) -> set[str]:
    """The distributions that ``requirements`` name (a group's ``include-group`` tables aside)."""
    names: set[str] = set()
    for requirement in requirements:
        if isinstance(requirement, str):
            found = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
            assert found is not None, requirement
            names.add(canonical(found.group()))
    return names


def installed_with_the_package(table: dict[str, Any]) -> set[str]:
    """The distributions the package's dependencies and extras name."""
    project = table["project"]
    allowed = declared(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        allowed |= declared(extra)
    return allowed


def imported_modules(path: Path) -> set[str]:
    """The modules that ``path`` imports by absolute name, at any depth."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


@functools.cache
def _files_by_distribution() -> dict[str, frozenset[str]]:
    """Each installed distribution's files, as paths relative to where it is installed."""
    return {
        distribution.metadata["Name"]: frozenset(str(file) for file in distribution.files or ())
        for distribution in importlib.metadata.distributions()
    }


def owners(module: str, providers: Mapping[str, list[str]]) -> list[str]:
    """The distributions that may provide ``module``. For a namespace package that several
    install into (``opentelemetry``), or one ``packages_distributions`` does not map (CPython
    3.10 reads only ``top_level.txt``), the distribution holding the module's own file."""
    top = module.partition(".")[0]
    candidates = providers.get(top, [])
    if len(candidates) == 1:
        return candidates
    spec = importlib.util.find_spec(module)
    if spec is not None and spec.origin is not None:
        origin = Path(spec.origin)
        # The module's file relative to the folder holding its top-level package.
        relative = origin.relative_to(
            origin.parents[len(module.split(".")) - (origin.stem != "__init__")]
        )
        for name, files in _files_by_distribution().items():
            if relative.as_posix() in files and (not candidates or name in candidates):
                return [name]
    return candidates or [top]


def distributions_imported(paths: Iterable[Path], local: set[str]) -> dict[str, set[Path]]:
    """The third-party distributions that ``paths`` import, each with the files importing it."""
    providers = importlib.metadata.packages_distributions()
    found: dict[str, set[Path]] = {}
    ignored = set(sys.stdlib_module_names) | NEWER_STDLIB | local
    for path in paths:
        for module in imported_modules(path):
            top = module.partition(".")[0]
            if top in ignored or (path == PLUGIN and top in HOSTED_BY_PYTEST):
                continue
            for distribution in owners(module, providers):
                found.setdefault(canonical(distribution), set()).add(path.relative_to(ROOT))
    return found


def test_every_package_the_sdk_imports_is_a_declared_dependency() -> None:
    allowed = installed_with_the_package(pyproject())

    imported = distributions_imported(PACKAGE.rglob("*.py"), {"msgflash_async"})

    assert {name: where for name, where in imported.items() if name not in allowed} == {}


def test_every_package_the_tests_and_benchmarks_import_is_declared() -> None:
    table = pyproject()
    groups = table["dependency-groups"]
    allowed = installed_with_the_package(table) | declared(
        groups["test"] + groups["bench"] + groups["recipes"]
    )
    roots = [ROOT / "tests", ROOT / "benchmarks", ROOT / "examples"]
    files = [path for root in roots for path in root.rglob("*.py")]
    local = {"msgflash_async", *(root.name for root in roots)}
    local |= {path.stem for path in files} | {path.parent.name for path in files}

    imported = distributions_imported(files, local)

    assert {name: where for name, where in imported.items() if name not in allowed} == {}


async def test_an_anyio_cancel_scope_passes_on_a_cancellation_it_did_not_make() -> None:
    # The SDK waits in anyio.move_on_after. A task.cancel() or asyncio.timeout landing with the
    # scope's own deadline must still cancel the call: anyio 3 on CPython 3.10 swallowed it.
    async def wait_in_a_scope() -> None:
        with anyio.move_on_after(3600) as scope:
            task = asyncio.current_task()
            assert task is not None
            task.cancel()
            scope.cancel()
            await asyncio.sleep(3600)

    with pytest.raises(asyncio.CancelledError):
        await asyncio.create_task(wait_in_a_scope())
