"""Developer and CI tasks: the tests, lint, typecheck and bench sessions."""

from __future__ import annotations

import nox

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
PYPROJECT = nox.project.load_toml("pyproject.toml")

nox.options.sessions = ["tests", "lint", "typecheck"]
# Run the tests on every supported CPython this machine has, skipping the others.
nox.options.error_on_missing_interpreters = False
nox.options.reuse_existing_virtualenvs = True


def install_project(session: nox.Session, *groups: str) -> None:
    """Install the package with its speedups and the named dependency groups."""
    requirements = [
        requirement
        for group in groups
        for requirement in nox.project.dependency_groups(PYPROJECT, group)
    ]
    session.install("-e", ".[speedups]", *requirements)


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The test suite under coverage; fails below 90 % branch coverage of the package."""
    install_project(session, "test", "bench")
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", *session.posargs)
    session.run("coverage", "report", "--fail-under=90")


@nox.session(python="3.12")
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python="3.12")
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package, the tests, the benchmarks and this file."""
    install_project(session, "typecheck", "bench")
    session.install("nox")
    session.run("mypy", "--strict")


@nox.session(python="3.12")
def bench(session: nox.Session) -> None:
    """The benchmark suite: the SDK against raw aiohttp and httpx, in one run."""
    install_project(session, "bench")
    session.run("python", "-m", "benchmarks", *session.posargs)
