"""Developer and CI tasks: the tests, lint, typecheck, docs, lowest and bench sessions.

``tests`` runs on every supported CPython this machine has, under branch coverage on the
newest; ``lint``, ``typecheck``, ``docs`` and ``lowest`` run on the newest one present,
whichever it is. With none present, every session asks for one that is missing and fails
instead of being skipped, so no run is green without running. docs/development.md tells how
to make several pyenv versions present at once.

``lowest`` installs exactly the ``>=`` floor of every direct dependency (the package, its
extras, the ``test``, ``bench`` and ``recipes`` groups) and the newest of what they pull in,
then runs the whole suite; it fails if a requirement has no floor or a floor cannot be
installed. The floors are the same for every supported CPython: each has wheels (or, for
multidict 4.5, an sdist that builds) for 3.10 to 3.13, which is why orjson and coverage start
at their first releases with 3.13 wheels. Old releases break on new CPythons (aiohttp before
3.11.10 does on 3.13), so ``lowest`` runs on the newest present; it has passed on 3.10 too.
"""

from __future__ import annotations

import subprocess

import nox
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
PYPROJECT = nox.project.load_toml("pyproject.toml")
EXTRAS = PYPROJECT["project"]["optional-dependencies"]
PROJECT = f".[{','.join(EXTRAS)}]"
"""The package with every extra, so that the tests and mypy see them all."""


def _present(version: str) -> bool:
    """Whether ``python{version}`` runs here; a pyenv shim of an inactive version does not."""
    try:
        subprocess.run([f"python{version}", "-c", ""], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        return False
    return True


# With none present, every session asks for the whole list and fails on its missing interpreter.
PRESENT = [version for version in PYTHONS if _present(version)] or PYTHONS

nox.options.sessions = ["tests", "lint", "typecheck", "docs"]
nox.options.error_on_missing_interpreters = True
nox.options.reuse_existing_virtualenvs = True
# uv, where it is installed (CI installs it), makes and fills a session's venv in seconds
# instead of a minute or more; without it, virtualenv and pip do the same.
nox.options.default_venv_backend = "uv|virtualenv"


def install_project(session: nox.Session, *groups: str) -> None:
    """Install the package with every extra and the named dependency groups."""
    session.install("-e", PROJECT, *nox.project.dependency_groups(PYPROJECT, *groups))


def run_suite(session: nox.Session, *pytest_args: str, coverage: bool = False) -> None:
    """The test suite; under ``coverage`` it also fails below 90 % branch coverage of the package.

    Without coverage, pytest-xdist runs it with a worker per core (up to four); ``-- -n 0``
    runs it in one process. pytest's exit code, 5 too when it collected no test, fails the
    session.
    """
    if not coverage:
        workers = ("--numprocesses=auto", "--maxprocesses=4")
        session.run("pytest", *workers, *pytest_args, *session.posargs)
        return
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", *pytest_args, *session.posargs)
    session.run("coverage", "report", "--fail-under=90")


def pinned_to_floor(session: nox.Session, text: str) -> str:
    """The requirement ``text`` allowing only its ``>=`` floor, with its extras and marker."""
    requirement = Requirement(text)
    floors = [spec.version for spec in requirement.specifier if spec.operator == ">="]
    if len(floors) != 1:
        session.error(f"{text!r} needs one >= floor for the lowest session")
    requirement.specifier = SpecifierSet(f"=={floors[0]}")
    return str(requirement)


@nox.session(python=PRESENT)
def tests(session: nox.Session) -> None:
    """The test suite on each supported CPython present, under branch coverage on the newest.

    Coverage's tracing makes a run longer by half (3.11 on a 2-core CI host: 6 min 45 s under
    coverage, 5 min without, less with a worker per core): measured once, on the newest, the
    whole CI stays well under 30 minutes.
    """
    install_project(session, "test", "bench", "recipes")
    run_suite(session, coverage=session.python == PRESENT[-1])


@nox.session(python=PRESENT[-1])
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PRESENT[-1])
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package, the tests, the benchmarks and this file."""
    install_project(session, "typecheck", "bench", "recipes")
    session.install("nox")
    session.run("mypy", "--strict")


@nox.session(python=PRESENT[-1])
def docs(session: nox.Session) -> None:
    """The documentation site, built with --strict: a broken link, anchor or reference fails.

    mkdocstrings reads the package's source, so only the ``docs`` group is installed. The
    site goes to ``.nox/docs/tmp/site``, out of the work tree.
    """
    session.install(*nox.project.dependency_groups(PYPROJECT, "docs"))
    site = f"{session.create_tmp()}/site"
    # Material's banner about MkDocs 2 says nothing about this build.
    session.run("mkdocs", "build", "--strict", "--site-dir", site, env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session(python=PRESENT[-1], reuse_venv=False)
def lowest(session: nox.Session) -> None:
    """The test suite with every direct dependency at its declared floor, in a fresh venv."""
    direct = [
        *PYPROJECT["project"]["dependencies"],
        *(requirement for extra in EXTRAS.values() for requirement in extra),
        *nox.project.dependency_groups(PYPROJECT, "test", "bench", "recipes"),
    ]
    pins = sorted({pinned_to_floor(session, requirement) for requirement in direct})
    session.install("-e", PROJECT, *pins)
    if session.venv_backend == "uv":  # a venv made by uv has no pip
        session.run("uv", "pip", "freeze")
    else:
        session.run("python", "-m", "pip", "freeze")
    # The soak run tests the SDK under faults, not the floors; the tests session runs it.
    run_suite(session, "-m", "not soak")


@nox.session(python="3.12")  # the CPython of the figures in docs/performance.md
def bench(session: nox.Session) -> None:
    """The benchmark suites: the SDK against raw aiohttp and httpx, in one run; then the rate
    reached on one key and the 429s drawn, with and without the shared Redis limiter; then
    ``import_many``'s pace, throughput, memory and resume."""
    install_project(session, "bench")
    session.run("python", "-m", "benchmarks", *session.posargs)
    quick = ["--quick"] if "--quick" in session.posargs else []
    session.run("python", "-m", "benchmarks.bench_rate", *quick)
    session.run("python", "-m", "benchmarks.bench_import", *quick)
