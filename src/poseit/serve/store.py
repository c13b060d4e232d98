"""Session history: a row per session, per repetition and per form issue, in SQLite or PostgreSQL.

One schema on SQLAlchemy Core for both databases. ``Store(path)`` is a SQLite file (WAL journal, the default
for one machine); ``Store("postgresql://user@host/db")`` is a PostgreSQL server (through psycopg), for a
cluster whose replicas run on several nodes. Every write is its own transaction: a rep is committed the moment
it completes, so a server killed mid-session keeps every completed rep. The schema is versioned (a
``schema_version`` table, and ``PRAGMA user_version`` on SQLite as before) and created or migrated on first
open. Every statement is built by SQLAlchemy with bound parameters: nothing a client sends becomes SQL text.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from poseit.errors import PoseItError

metadata = sa.MetaData()
sessions_t = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("started_at", sa.Float, nullable=False),  # unix seconds
    sa.Column("ended_at", sa.Float),  # NULL while live, or when the server died first
    sa.Column("status", sa.Text, nullable=False, server_default="live"),
    sa.Column("exercise", sa.Text, nullable=False),  # what was asked for (an exercise id, auto or any)
    sa.Column("counted_as", sa.Text),  # what was counted (auto's choice)
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("device", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False, server_default="camera"),
    sa.Column("frames", sa.Integer, nullable=False, server_default="0"),
    sa.Column("reps", sa.Integer, nullable=False, server_default="0"),
    sa.Column("partial_reps", sa.Integer, nullable=False, server_default="0"),
    sa.Column("hold_s", sa.Float),
    sa.CheckConstraint("status IN ('live', 'ended', 'interrupted')", name="sessions_status"),
)
reps_t = sa.Table(
    "reps",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("session_id", sa.Integer, sa.ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),  # 1, 2, ... among complete reps; a partial carries the next
    sa.Column("complete", sa.Integer, nullable=False),  # 0 for a partial rep
    sa.Column("start_s", sa.Float),  # session seconds (NULL for the periodicity counter)
    sa.Column("turn_s", sa.Float),
    sa.Column("end_s", sa.Float),
    sa.Column("duration_s", sa.Float),
    sa.Column("recorded_at", sa.Float, nullable=False),
    sa.Index("reps_session", "session_id", "number"),
)
issues_t = sa.Table(
    "issues",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("session_id", sa.Integer, sa.ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
    sa.Column("rep", sa.Integer, nullable=False),  # rep number (0: a hold)
    sa.Column("time_s", sa.Float, nullable=False),
    sa.Column("rule", sa.Text, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("severity", sa.Text, nullable=False),
    sa.Column("recorded_at", sa.Float, nullable=False),
    sa.Index("issues_session", "session_id", "rep"),
)
version_t = sa.Table("schema_version", sa.MetaData(), sa.Column("version", sa.Integer, nullable=False))


def _v1(conn: Connection) -> None:
    metadata.create_all(conn, tables=[sessions_t, reps_t, issues_t])


# Each entry migrates the schema from version i to i + 1, on either database.
MIGRATIONS: tuple[Callable[[Connection], None], ...] = (_v1,)
SCHEMA_VERSION = len(MIGRATIONS)
SESSION_COLUMNS = (
    "id, started_at, ended_at, status, exercise, counted_as, model, device, source, frames, reps, partial_reps, hold_s"
)
REP_COLUMNS = ("number", "complete", "start_s", "turn_s", "end_s", "duration_s")
ISSUE_COLUMNS = ("rep", "time_s", "rule", "message", "severity")
_SESSION_COLS = [sessions_t.c[c.strip()] for c in SESSION_COLUMNS.split(",")]


def is_url(db: str | Path) -> bool:
    """Whether ``db`` is a SQLAlchemy URL (``postgresql://...``, ``sqlite:///...``) rather than a file path."""
    return isinstance(db, str) and "://" in db


def make_engine(db: str | Path) -> Engine:
    """An engine for a SQLite file or a database URL (``postgresql://`` uses psycopg)."""
    if is_url(db):
        url = sa.make_url(str(db))
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        if url.get_backend_name() == "postgresql":
            try:
                return sa.create_engine(url, pool_pre_ping=True, pool_size=4, max_overflow=8)
            except ImportError:
                raise PoseItError("PostgreSQL needs its driver: pip install 'poseit[cluster]'") from None
        if url.get_backend_name() != "sqlite":
            raise PoseItError(f"unsupported database {url.get_backend_name()!r}: use a SQLite file or postgresql://")
        path = url.database or ""
    else:
        path = str(db)
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 10.0, "check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy's own BEGIN below, not pysqlite's
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            dbapi_conn.execute(f"PRAGMA {pragma}")  # NORMAL: durable across a killed process (not a power cut)

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # take the write lock up front: no upgrade deadlocks

    return engine


class Store:
    """The history database at ``db``: a SQLite file path, or a SQLAlchemy URL (created with its schema on first
    open). ``interrupt_live``: mark sessions still 'live' as interrupted (they belong to a server that died);
    a cluster's replicas pass False, since other replicas' sessions are live."""

    def __init__(self, db: str | Path, interrupt_live: bool = True) -> None:
        self.url = is_url(db)
        self.path: str | Path = str(db) if self.url else Path(db)
        if not self.url:
            try:
                Path(db).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise PoseItError(f"cannot create the folder for database {db}: {exc.strerror}") from None
        self.engine = make_engine(db)
        self.dialect = self.engine.dialect.name
        self._migrate(interrupt_live)

    @property
    def where(self) -> str:
        """The database for messages (a URL without its password)."""
        return self.engine.url.render_as_string(hide_password=True) if self.url else str(self.path)

    # --- schema ---------------------------------------------------------------------------------------------
    def _version(self, conn: Connection) -> int:
        if sa.inspect(conn).has_table("schema_version"):
            return int(conn.execute(sa.select(sa.func.max(version_t.c.version))).scalar() or 0)
        if self.dialect == "sqlite":  # databases made before the version table kept it here
            return int(conn.exec_driver_sql("PRAGMA user_version").scalar() or 0)
        return 0

    def _migrate(self, interrupt_live: bool) -> None:
        try:
            with self.engine.begin() as conn:
                if self.dialect == "postgresql":  # one migrating process at a time across the cluster
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(7261535)"))
                version = self._version(conn)
                if version > SCHEMA_VERSION:
                    raise PoseItError(
                        f"database {self.where} has schema version {version}; this Pose-It! knows up to "
                        f"{SCHEMA_VERSION} (upgrade Pose-It! or use another --db)"
                    )
                for step in MIGRATIONS[version:]:
                    step(conn)
                version_t.create(conn, checkfirst=True)
                conn.execute(version_t.delete())
                conn.execute(version_t.insert().values(version=SCHEMA_VERSION))
                if self.dialect == "sqlite":
                    conn.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
                if interrupt_live:
                    conn.execute(sessions_t.update().where(sessions_t.c.status == "live").values(status="interrupted"))
        except sa.exc.SQLAlchemyError as exc:
            raise PoseItError(f"cannot use database {self.where}: {exc.__class__.__name__}: {exc.orig}") from None

    def close(self) -> None:
        """Close the pooled connections."""
        self.engine.dispose()

    # --- writes ---------------------------------------------------------------------------------------------
    def start_session(self, exercise: str, model: str, device: str, source: str = "camera") -> int:
        row = {"started_at": time.time(), "exercise": exercise, "model": model, "device": device, "source": source}
        with self.engine.begin() as conn:
            return int(conn.execute(sessions_t.insert().values(**row)).inserted_primary_key[0])

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
        values: dict[str, Any] = {
            "counted_as": totals.get("counted_as"),
            "frames": int(totals.get("frames", 0)),
            "reps": int(totals.get("reps", 0)),
            "partial_reps": int(totals.get("partial_reps", 0)),
            "hold_s": totals.get("hold_s"),
        }
        if ended:
            values.update(ended_at=now, status="ended")
        else:  # a session resumed after its server died is live again
            values.update(status="live")
        own = {"session_id": session_id, "recorded_at": now}
        with self.engine.begin() as conn:
            if reps:
                conn.execute(reps_t.insert(), [{**{c: r.get(c) for c in REP_COLUMNS}, **own} for r in reps])
            if issues:
                conn.execute(issues_t.insert(), [{**{c: i[c] for c in ISSUE_COLUMNS}, **own} for i in issues])
            conn.execute(sessions_t.update().where(sessions_t.c.id == session_id).values(**values))

    # --- reads ----------------------------------------------------------------------------------------------
    def _rows(self, query: sa.Executable) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def sessions(self, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """Sessions, newest first."""
        s = sessions_t.c
        query = sa.select(*_SESSION_COLS).order_by(s.started_at.desc(), s.id.desc())
        return self._rows(query.limit(limit).offset(offset))

    def session(self, session_id: int) -> dict[str, Any] | None:
        """One session with its reps and issues, or None."""
        found = self._rows(sa.select(*_SESSION_COLS).where(sessions_t.c.id == session_id))
        if not found:
            return None
        out = found[0]
        out["rep_events"] = self.reps(session_id)
        i = issues_t.c
        query = sa.select(*(i[c] for c in ISSUE_COLUMNS)).where(i.session_id == session_id).order_by(i.time_s, i.id)
        out["form_issues"] = self._rows(query)
        return out

    def reps(self, session_id: int | None = None) -> list[dict[str, Any]]:
        """Rep rows (with their session id and issue count) of one session, or of all."""
        r, i = reps_t.c, issues_t.c
        issue_count = (
            sa.select(sa.func.count())
            .where(i.session_id == r.session_id, i.rep == r.number, r.complete == 1)
            .scalar_subquery()
            .label("issues")
        )
        query = sa.select(r.session_id, *(r[c] for c in REP_COLUMNS), issue_count)
        if session_id is None:
            query = query.order_by(r.session_id, r.id)
        else:
            query = query.where(r.session_id == session_id).order_by(r.id)
        return self._rows(query)

    def counted(self, session_id: int) -> dict[str, int]:
        """What a session has counted so far (complete and partial reps, issues): where a resumed one goes on."""
        r, i = reps_t.c, issues_t.c
        with self.engine.connect() as conn:
            complete = conn.execute(
                sa.select(sa.func.count()).where(r.session_id == session_id, r.complete == 1)
            ).scalar()
            partial = conn.execute(
                sa.select(sa.func.count()).where(r.session_id == session_id, r.complete == 0)
            ).scalar()
            issues = conn.execute(sa.select(sa.func.count()).where(i.session_id == session_id)).scalar()
        return {"reps": int(complete or 0), "partial_reps": int(partial or 0), "issues": int(issues or 0)}
