"""The store behind ``contacts.import_many``: SQLite tables for dedupe and resume.

``phones`` maps each phone to the input row that first gave it and when that row was first
sent (wall clock, to recognise after a crash the contact an unanswered request created).
``outcomes``, keyed by that row, holds the server's answer: ``created``, ``existing``,
``updated`` or ``failed``, the contact's id, and whether its group add was confirmed; a row
with no outcome was being sent. ``import_info`` records whose import it is: the workspace
fingerprint and the group. Two tables, because outcomes then come in row order and land
on the same few pages: only the phone lookup writes pages at random.

A row's claim is committed before its request is sent, so no crash can hide a request; the
answers are committed in groups, soon after they come. With WAL and ``synchronous=NORMAL`` a
commit costs no fsync, yet survives the death of the process (not of the machine). Without a
checkpoint path the store is a temporary file, removed on close.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Collection, Iterable, Sequence
from typing import NamedTuple

from ._errors import ConfigurationError

__all__ = ["DONE_STATES", "SENDING", "ImportStore", "StoredRow"]

FORMAT = "msgflash-import-checkpoint/1"
SAVE_INTERVAL = 0.05
"""Seconds an answer may stay uncommitted: a crash loses at most this much of them (their
rows are sent again, and their 409s recognised as this import's own)."""
SENDING = "sending"
"""The state of a phone claimed, and perhaps sent, with no answer recorded."""
DONE_STATES = frozenset({"created", "existing", "updated"})
"""States of a row that a re-run skips; ``sending`` and ``failed`` are sent again."""

_SCHEMA = (
    "CREATE TABLE import_info (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE phones (
        phone TEXT PRIMARY KEY, row INTEGER NOT NULL, sent_at REAL NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE outcomes (
        row INTEGER PRIMARY KEY,
        state TEXT NOT NULL,
        contact_id TEXT,
        grouped INTEGER NOT NULL DEFAULT 0
    )""",
)


class StoredRow(NamedTuple):
    """What the store knows of a phone."""

    row: int
    state: str
    contact_id: str | None
    sent_at: float
    grouped: bool


class ImportStore:
    """An open import store; ``close`` it (a temporary one is then deleted).

    Changes are committed together, by ``save``: the importer saves each batch of claims
    before sending any of its rows. Answers wait in memory and go in one statement at the
    next save: the next batch's, or the one made by the first answer to come
    ``SAVE_INTERVAL`` or more after the oldest waiting. A commit writes each page it changed
    once, however many rows it holds.
    """

    def __init__(self, connection: sqlite3.Connection, temporary_dir: str | None) -> None:
        self._db = connection
        self._temporary_dir = temporary_dir
        self._answers: list[tuple[int, str, str | None]] = []
        self._answered_since: float | None = None

    @classmethod
    def open(
        cls, checkpoint: str | os.PathLike[str] | None, *, workspace: str, group_id: str | None
    ) -> ImportStore:
        """The store at ``checkpoint`` (created if absent), or a temporary one.

        A checkpoint made for another workspace or group, or a file that is not a
        checkpoint, raises ``ConfigurationError`` naming ``checkpoint``.
        """
        temporary_dir = None
        if checkpoint is None:
            temporary_dir = tempfile.mkdtemp(prefix="msgflash-import-")
            checkpoint = os.path.join(temporary_dir, "checkpoint.sqlite3")
        try:
            connection = sqlite3.connect(checkpoint, isolation_level=None)
        except sqlite3.Error as exc:
            _remove(temporary_dir)
            raise ConfigurationError(f"checkpoint cannot be opened: {exc}") from None
        store = cls(connection, temporary_dir)
        try:
            store._set_up(workspace, group_id)
        except BaseException:
            store.close()
            raise
        return store

    def _set_up(self, workspace: str, group_id: str | None) -> None:
        expected = {"format": FORMAT, "workspace": workspace, "group": group_id or ""}
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            with self._db:  # one transaction: a new checkpoint is never half made
                self._db.execute("BEGIN IMMEDIATE")
                tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master")}
                if not tables:
                    for statement in _SCHEMA:
                        self._db.execute(statement)
                    self._db.executemany("INSERT INTO import_info VALUES (?, ?)", expected.items())
                    return
                found = (
                    dict(self._db.execute("SELECT key, value FROM import_info"))
                    if "import_info" in tables
                    else {}
                )
        except sqlite3.Error as exc:
            raise ConfigurationError(f"checkpoint is not an import checkpoint: {exc}") from None
        if found.get("format") != FORMAT:
            raise ConfigurationError("checkpoint is not an import checkpoint of this version")
        if found.get("workspace") != workspace:
            raise ConfigurationError(
                "checkpoint belongs to an import with another API key or server; "
                "use a new checkpoint file"
            )
        if found.get("group") != expected["group"]:
            raise ConfigurationError(
                "checkpoint belongs to an import into another group (or none); "
                "use a new checkpoint file"
            )

    def lookup(self, phones: Collection[str]) -> dict[str, StoredRow]:
        """What the store holds of each of ``phones`` it holds."""
        return {
            phone: StoredRow(row, state or SENDING, contact_id, sent_at, bool(grouped))
            for phone, row, sent_at, state, contact_id, grouped in self._db.execute(
                "SELECT phone, phones.row, sent_at, state, contact_id, grouped FROM phones"
                " LEFT JOIN outcomes ON outcomes.row = phones.row"
                f" WHERE phone IN ({', '.join('?' * len(phones))})",
                tuple(phones),
            )
        }

    def claim(self, rows: Iterable[tuple[str, int]], now: float) -> None:
        """Record phones new to the store, each with the row that gave it first, (phone, row)
        pairs, as sent from ``now``."""
        self._begin()
        self._db.executemany(
            "INSERT INTO phones (phone, row, sent_at) VALUES (?, ?, ?)",
            [(phone, row, now) for phone, row in rows],
        )

    def resend(self, phone: str, row: int, now: float) -> None:
        """Record the row of ``phone``, answered in an earlier run, as sent again from ``now``."""
        self._begin()
        self._db.execute("UPDATE phones SET sent_at = ? WHERE phone = ?", (now, phone))
        self._db.execute("DELETE FROM outcomes WHERE row = ?", (row,))

    def finish(self, row: int, state: str, contact_id: str | None) -> None:
        """Record the server's answer for ``row``."""
        self._answers.append((row, state, contact_id))
        now = time.monotonic()
        if self._answered_since is None:
            self._answered_since = now
        elif now - self._answered_since >= SAVE_INTERVAL:
            self.save()

    def confirm_grouped(self, rows: Sequence[int]) -> None:
        """Record, durably, that the contacts of ``rows`` are in the group."""
        self._write_answers()
        self._db.executemany(
            "UPDATE outcomes SET grouped = 1 WHERE row = ?", [(row,) for row in rows]
        )
        self.save()

    def save(self) -> None:
        """Commit every change."""
        self._write_answers()
        if self._db.in_transaction:
            self._db.execute("COMMIT")

    def close(self) -> None:
        """Commit, close the database, and delete it if it is temporary."""
        try:
            self.save()
        finally:
            self._db.close()
            _remove(self._temporary_dir)

    def _write_answers(self) -> None:
        if self._answers:
            self._begin()
            self._db.executemany(
                "INSERT OR REPLACE INTO outcomes (row, state, contact_id) VALUES (?, ?, ?)",
                self._answers,
            )
            self._answers.clear()
            self._answered_since = None

    def _begin(self) -> None:
        if not self._db.in_transaction:
            self._db.execute("BEGIN")


def _remove(directory: str | None) -> None:
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)
