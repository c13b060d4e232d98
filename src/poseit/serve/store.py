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
    # a set of a workout plan's run (schema v2; NULL for a session on its own)
    sa.Column("plan_run_id", sa.Integer),
    sa.Column("plan_block", sa.Integer),  # the plan's block, from 0
    sa.Column("plan_set", sa.Integer),  # the set within the block, from 1
    sa.Column("target_reps", sa.Integer),
    sa.Column("target_hold_s", sa.Float),
    sa.CheckConstraint("status IN ('live', 'ended', 'interrupted')", name="sessions_status"),
    sa.Index("sessions_plan_run", "plan_run_id"),
    sa.Index("sessions_started", "started_at"),
)
PLAN_SESSION_COLUMNS = ("plan_run_id", "plan_block", "plan_set", "target_reps", "target_hold_s")
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
    sa.Column("depth", sa.Float),  # range of motion: depth at the turn (1 = the exercise's turn threshold; v2)
    sa.Column("symmetry", sa.Float),  # left/right balance: 1 = both sides through the same range (front view; v3)
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
plans_t = sa.Table(  # users' own workout plans (the built-in ones are package files)
    "plans",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("blocks", sa.JSON, nullable=False),  # [{exercise, sets, reps | hold_s, rest_s}, ...]
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)
plan_runs_t = sa.Table(
    "plan_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("plan_key", sa.Text, nullable=False),  # builtin:NAME or user:ID
    sa.Column("plan_name", sa.Text, nullable=False),
    sa.Column("plan", sa.JSON, nullable=False),  # the plan as it was when the run started
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("ended_at", sa.Float),
    sa.Column("status", sa.Text, nullable=False, server_default="live"),
    sa.CheckConstraint("status IN ('live', 'ended', 'stopped')", name="plan_runs_status"),
    sa.Index("plan_runs_started", "started_at"),
)
version_t = sa.Table("schema_version", sa.MetaData(), sa.Column("version", sa.Integer, nullable=False))


def _v1(conn: Connection) -> None:
    metadata.create_all(conn, tables=[sessions_t, reps_t, issues_t])


def _v2(conn: Connection) -> None:
    """Workout plans (users' plans, plan runs, each session's place in a run) and each rep's range of motion."""
    metadata.create_all(conn, tables=[plans_t, plan_runs_t])
    inspect = sa.inspect(conn)
    types = {"plan_run_id": "INTEGER", "plan_block": "INTEGER", "plan_set": "INTEGER", "target_reps": "INTEGER"}
    for table, names in (("sessions", PLAN_SESSION_COLUMNS), ("reps", ("depth",))):
        have = {c["name"] for c in inspect.get_columns(table)}
        for name in names:  # (a database made by this version's _v1 has them already)
            if name not in have:
                conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN {name} {types.get(name, 'DOUBLE PRECISION')}"))
    for index in sessions_t.indexes:
        index.create(conn, checkfirst=True)


def _v3(conn: Connection) -> None:
    """Each rep's left/right symmetry."""
    if "symmetry" not in {c["name"] for c in sa.inspect(conn).get_columns("reps")}:
        conn.execute(sa.text("ALTER TABLE reps ADD COLUMN symmetry DOUBLE PRECISION"))


# Each entry migrates the schema from version i to i + 1, on either database.
MIGRATIONS: tuple[Callable[[Connection], None], ...] = (_v1, _v2, _v3)
SCHEMA_VERSION = len(MIGRATIONS)
SESSION_COLUMNS = (
    "id, started_at, ended_at, status, exercise, counted_as, model, device, source, frames, reps, partial_reps, "
    "hold_s, " + ", ".join(PLAN_SESSION_COLUMNS)
)
REP_COLUMNS = ("number", "complete", "start_s", "turn_s", "end_s", "duration_s", "depth", "symmetry")
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
    def start_session(
        self, exercise: str, model: str, device: str, source: str = "camera", plan: dict[str, Any] | None = None
    ) -> int:
        """A new live session; ``plan``: its place in a plan run (``PLAN_SESSION_COLUMNS``)."""
        row = {"started_at": time.time(), "exercise": exercise, "model": model, "device": device, "source": source}
        row.update({c: (plan or {}).get(c) for c in PLAN_SESSION_COLUMNS})
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

    # --- workout plans --------------------------------------------------------------------------------------
    def plans(self) -> list[dict[str, Any]]:
        """Users' plans, oldest first (``id``, ``name``, ``description``, ``blocks``)."""
        p = plans_t.c
        return self._rows(sa.select(p.id, p.name, p.description, p.blocks).order_by(p.id))

    def plan(self, plan_id: int) -> dict[str, Any] | None:
        p = plans_t.c
        found = self._rows(sa.select(p.id, p.name, p.description, p.blocks).where(p.id == plan_id))
        return found[0] if found else None

    def add_plan(self, name: str, description: str, blocks: list[dict[str, Any]]) -> int:
        now = time.time()
        row = {"name": name, "description": description, "blocks": blocks, "created_at": now, "updated_at": now}
        with self.engine.begin() as conn:
            return int(conn.execute(plans_t.insert().values(**row)).inserted_primary_key[0])

    def update_plan(self, plan_id: int, name: str, description: str, blocks: list[dict[str, Any]]) -> bool:
        """Replace a plan's content; False if there is no such plan."""
        values = {"name": name, "description": description, "blocks": blocks, "updated_at": time.time()}
        with self.engine.begin() as conn:
            return conn.execute(plans_t.update().where(plans_t.c.id == plan_id).values(**values)).rowcount > 0

    def delete_plan(self, plan_id: int) -> bool:
        """Delete a plan (its runs keep their copy of it); False if there is no such plan."""
        with self.engine.begin() as conn:
            return conn.execute(plans_t.delete().where(plans_t.c.id == plan_id)).rowcount > 0

    def start_plan_run(self, plan_key: str, plan_name: str, plan: dict[str, Any]) -> int:
        row = {"plan_key": plan_key, "plan_name": plan_name, "plan": plan, "started_at": time.time()}
        with self.engine.begin() as conn:
            return int(conn.execute(plan_runs_t.insert().values(**row)).inserted_primary_key[0])

    def end_plan_run(self, run_id: int, status: str = "ended") -> bool:
        """Mark a live run ended (all its sets done) or stopped; False if there is no such live run."""
        r = plan_runs_t.c
        with self.engine.begin() as conn:
            query = plan_runs_t.update().where(r.id == run_id, r.status == "live")
            return conn.execute(query.values(status=status, ended_at=time.time())).rowcount > 0

    def plan_runs(self, limit: int = 50, offset: int = 0, run_id: int | None = None) -> list[dict[str, Any]]:
        """Plan runs, newest first, each with its sets (the linked sessions, in the order they were done)."""
        r = plan_runs_t.c
        query = sa.select(r.id, r.plan_key, r.plan_name, r.plan, r.started_at, r.ended_at, r.status)
        if run_id is not None:
            query = query.where(r.id == run_id)
        runs = self._rows(query.order_by(r.started_at.desc(), r.id.desc()).limit(limit).offset(offset))
        if not runs:
            return runs
        s = sessions_t.c
        sets = self._rows(
            sa.select(*_SESSION_COLS).where(s.plan_run_id.in_([run["id"] for run in runs])).order_by(s.started_at, s.id)
        )
        by_run: dict[int, list[dict[str, Any]]] = {run["id"]: [] for run in runs}
        for row in sets:
            by_run[row["plan_run_id"]].append(row)
        for run in runs:
            run["sets"] = by_run[run["id"]]
        return runs

    def plan_run(self, run_id: int) -> dict[str, Any] | None:
        found = self.plan_runs(1, 0, run_id)
        return found[0] if found else None

    # --- progress -------------------------------------------------------------------------------------------
    def progress_rows(self, exercise: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The sessions that counted ``exercise`` (oldest first), and their complete reps."""
        s, r = sessions_t.c, reps_t.c
        counted = sa.func.coalesce(s.counted_as, s.exercise)
        sessions = self._rows(
            sa.select(s.id, s.started_at, s.ended_at, s.reps, s.partial_reps, s.hold_s)
            .where(counted == exercise, s.frames > 0)
            .order_by(s.started_at, s.id)
        )
        reps = self._rows(
            sa.select(r.session_id, r.duration_s, r.depth, r.symmetry)
            .join(sessions_t, sessions_t.c.id == r.session_id)
            .where(counted == exercise, r.complete == 1)
            .order_by(r.session_id, r.id)
        )
        return sessions, reps

    def exercises_done(self) -> list[dict[str, Any]]:
        """Each exercise counted in some session: its sessions and when it was last done (latest first)."""
        s = sessions_t.c
        counted = sa.func.coalesce(s.counted_as, s.exercise).label("exercise")
        query = (
            sa.select(counted, sa.func.count().label("sessions"), sa.func.max(s.started_at).label("last"))
            .where(s.frames > 0)
            .group_by(counted)
            .order_by(sa.func.max(s.started_at).desc())
        )
        return self._rows(query)
