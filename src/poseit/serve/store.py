"""Session history in SQLite: a row per session, per repetition and per form issue.

WAL journal, one connection per thread, every write its own transaction: a rep is committed the moment it
completes, so a server killed mid-session keeps every completed rep. The schema is versioned with
``PRAGMA user_version`` and created (or migrated) on first open. Every statement is a constant with ``?``
parameters: nothing a client sends becomes SQL text.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from poseit.errors import PoseItError

# Each entry migrates the schema from version i to i + 1.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        started_at REAL NOT NULL,          -- unix seconds
        ended_at REAL,                     -- NULL while live, or when the server died first
        status TEXT NOT NULL DEFAULT 'live' CHECK (status IN ('live', 'ended', 'interrupted')),
        exercise TEXT NOT NULL,            -- what was asked for (an exercise id, auto or any)
        counted_as TEXT,                   -- what was counted (auto's choice)
        model TEXT NOT NULL,
        device TEXT NOT NULL,
        source TEXT NOT NULL DEFAULT 'camera',
        frames INTEGER NOT NULL DEFAULT 0,
        reps INTEGER NOT NULL DEFAULT 0,
        partial_reps INTEGER NOT NULL DEFAULT 0,
        hold_s REAL
    );
    CREATE TABLE reps (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        number INTEGER NOT NULL,           -- 1, 2, ... among complete reps, a partial rep carries the next number
        complete INTEGER NOT NULL,         -- 0 for a partial rep
        start_s REAL, turn_s REAL, end_s REAL,   -- session seconds (NULL for the periodicity counter)
        duration_s REAL,
        recorded_at REAL NOT NULL
    );
    CREATE INDEX reps_session ON reps(session_id, number);
    CREATE TABLE issues (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        rep INTEGER NOT NULL,              -- rep number (0: a hold)
        time_s REAL NOT NULL,
        rule TEXT NOT NULL,
        message TEXT NOT NULL,
        severity TEXT NOT NULL,
        recorded_at REAL NOT NULL
    );
    CREATE INDEX issues_session ON issues(session_id, rep);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
SESSION_COLUMNS = (
    "id, started_at, ended_at, status, exercise, counted_as, model, device, source, frames, reps, partial_reps, hold_s"
)
REP_COLUMNS = ("number", "complete", "start_s", "turn_s", "end_s", "duration_s")
ISSUE_COLUMNS = ("rep", "time_s", "rule", "message", "severity")


class Store:
    """The history database at ``path`` (created with its schema on first open)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PoseItError(f"cannot create the folder for database {self.path}: {exc.strerror}") from None
        self._local = threading.local()
        self._migrate()

    # --- connections ----------------------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
                conn.row_factory = sqlite3.Row
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")  # durable across a killed process (not a power cut)
                conn.execute("PRAGMA foreign_keys=ON")
            except sqlite3.Error as exc:
                raise PoseItError(f"cannot open database {self.path}: {exc}") from None
            self._local.conn = conn
        return conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _migrate(self) -> None:
        try:
            with self._tx() as conn:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise PoseItError(
                        f"database {self.path} has schema version {version}; this Pose-It! knows up to "
                        f"{SCHEMA_VERSION} (upgrade Pose-It! or use another --db)"
                    )
                for step in MIGRATIONS[version:]:
                    for statement in step.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
                # sessions still 'live' belong to a server that died: they are over
                conn.execute("UPDATE sessions SET status = 'interrupted' WHERE status = 'live'")
        except sqlite3.DatabaseError as exc:
            raise PoseItError(f"cannot use database {self.path}: {exc}") from None

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # --- writes ---------------------------------------------------------------------------------------------
    def start_session(self, exercise: str, model: str, device: str, source: str = "camera") -> int:
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT INTO sessions (started_at, exercise, model, device, source) VALUES (?, ?, ?, ?, ?)",
                (time.time(), exercise, model, device, source),
            )
            return int(cur.lastrowid)

    def record(
        self,
        session_id: int,
        totals: dict[str, Any],
        reps: Sequence[dict[str, Any]] = (),
        issues: Sequence[dict[str, Any]] = (),
        ended: bool = False,
    ) -> None:
        """New reps and form issues with the session's running totals, in one transaction."""
        now = time.time()
        with self._tx() as conn:
            conn.executemany(
                "INSERT INTO reps (session_id, number, complete, start_s, turn_s, end_s, duration_s, recorded_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(session_id, *(r.get(c) for c in REP_COLUMNS), now) for r in reps],
            )
            conn.executemany(
                "INSERT INTO issues (session_id, rep, time_s, rule, message, severity, recorded_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(session_id, *(i[c] for c in ISSUE_COLUMNS), now) for i in issues],
            )
            conn.execute(
                "UPDATE sessions SET counted_as = ?, frames = ?, reps = ?, partial_reps = ?, hold_s = ?, "
                "ended_at = CASE WHEN ? THEN ? ELSE ended_at END, "
                "status = CASE WHEN ? THEN 'ended' ELSE status END WHERE id = ?",
                (
                    totals.get("counted_as"),
                    int(totals.get("frames", 0)),
                    int(totals.get("reps", 0)),
                    int(totals.get("partial_reps", 0)),
                    totals.get("hold_s"),
                    ended,
                    now,
                    ended,
                    session_id,
                ),
            )

    # --- reads ----------------------------------------------------------------------------------------------
    def sessions(self, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """Sessions, newest first."""
        rows = self._conn().execute(
            f"SELECT {SESSION_COLUMNS} FROM sessions ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [dict(r) for r in rows]

    def session(self, session_id: int) -> dict[str, Any] | None:
        """One session with its reps and issues, or None."""
        conn = self._conn()
        row = conn.execute(f"SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            return None
        out = dict(row)
        out["rep_events"] = self.reps(session_id)
        out["form_issues"] = [
            dict(r)
            for r in conn.execute(
                f"SELECT {', '.join(ISSUE_COLUMNS)} FROM issues WHERE session_id = ? ORDER BY time_s, id",
                (session_id,),
            )
        ]
        return out

    def reps(self, session_id: int | None = None) -> list[dict[str, Any]]:
        """Rep rows (with their session id and issue count) of one session, or of all."""
        query = (
            f"SELECT r.session_id, {', '.join('r.' + c for c in REP_COLUMNS)}, "
            "(SELECT COUNT(*) FROM issues i WHERE i.session_id = r.session_id AND i.rep = r.number "
            "AND r.complete = 1) AS issues FROM reps r "
        )
        if session_id is None:
            rows = self._conn().execute(query + "ORDER BY r.session_id, r.id")
        else:
            rows = self._conn().execute(query + "WHERE r.session_id = ? ORDER BY r.id", (session_id,))
        return [dict(r) for r in rows]
