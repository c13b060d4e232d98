"""The history store on both databases: SQLite (a file, WAL) and PostgreSQL (a throwaway server), with the same
schema, migrations and answers; a real live session gives the same history on both."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy", reason="SQLAlchemy not installed (pip install -e '.[serve]')")

from poseit.errors import PoseItError
from poseit.serve.store import SCHEMA_VERSION, Store

BACKENDS = ["sqlite", "postgresql"]
REP = {"number": 1, "complete": 1, "start_s": 0.1, "turn_s": 0.6, "end_s": 1.2, "duration_s": 1.1}
ISSUE = {"rep": 1, "time_s": 0.7, "rule": "depth", "message": "Go lower", "severity": "warning"}


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """A fresh database of each kind: a SQLite file, or a PostgreSQL URL."""
    if request.param == "sqlite":
        return tmp_path / "sub" / "history.db"
    return request.getfixturevalue("pg_url")


def test_schema_created_versioned_and_reopened(db: str | Path) -> None:
    store = Store(db)
    assert store.sessions() == []
    sid = store.start_session("squat", "blazepose-full", "CPU", "file")
    store.close()
    again = Store(db)  # a second open migrates nothing and keeps the rows
    assert [s["id"] for s in again.sessions()] == [sid]
    with again.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version FROM schema_version").scalar() == SCHEMA_VERSION
    again.close()


def test_a_newer_schema_is_refused(db: str | Path) -> None:
    store = Store(db)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE schema_version SET version = 99")
    store.close()
    with pytest.raises(PoseItError, match="schema version 99"):
        Store(db)


def test_writes_reads_and_interrupted_sessions(db: str | Path) -> None:
    store = Store(db)
    sid = store.start_session("pushup", "blazepose-full", "CPU")
    store.record(sid, {"counted_as": "pushup", "frames": 40, "reps": 1}, [REP], [ISSUE])
    partial = {**REP, "number": 2, "complete": 0, "start_s": 2.0, "turn_s": 2.4, "end_s": 2.9}
    store.record(sid, {"counted_as": "pushup", "frames": 90, "reps": 1, "partial_reps": 1}, [partial], ended=True)
    other = store.start_session("plank", "blazepose-full", "CPU")
    got = store.session(sid)
    assert got["status"] == "ended" and got["ended_at"] >= got["started_at"] and got["frames"] == 90
    assert [(r["number"], r["complete"], r["issues"]) for r in got["rep_events"]] == [(1, 1, 1), (2, 0, 0)]
    assert got["form_issues"] == [ISSUE]
    assert store.counted(sid) == {"reps": 1, "partial_reps": 1, "issues": 1}
    assert [s["id"] for s in store.sessions()] == [other, sid]  # newest first
    assert [s["id"] for s in store.sessions(limit=1, offset=1)] == [sid]
    assert [r["session_id"] for r in store.reps()] == [sid, sid]
    assert store.session(10**6) is None
    store.close()
    # a replica of a cluster leaves others' live sessions alone; a restarted server marks them interrupted
    assert Store(db, interrupt_live=False).session(other)["status"] == "live"
    assert Store(db).session(other)["status"] == "interrupted"
    resumed = Store(db, interrupt_live=False)
    resumed.record(other, {"frames": 5})  # a session taken over by another replica is live again
    assert resumed.session(other)["status"] == "live"


def test_client_text_is_data_not_sql(db: str | Path) -> None:
    store = Store(db)
    evil = "squat'); DROP TABLE sessions; --"
    sid = store.start_session(evil, "m", "CPU")
    store.record(sid, {"counted_as": evil}, issues=[{**ISSUE, "message": evil}])
    assert store.session(sid)["exercise"] == evil and store.session(sid)["form_issues"][0]["message"] == evil


def test_sqlite_is_wal_and_opens_a_database_of_the_first_version(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    store = Store(path)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.start_session("squat", "m", "CPU")
    store.close()
    with sqlite3.connect(path) as conn:  # as the first release left it: user_version only
        conn.execute("DROP TABLE schema_version")
        conn.execute("PRAGMA user_version = 1")
    assert len(Store(path).sessions()) == 1


def test_unknown_database_kind_is_one_line() -> None:
    with pytest.raises(PoseItError, match="unsupported database"):
        Store("mysql://u@127.0.0.1/x")


def test_a_live_session_gives_the_same_history_on_both(tmp_path: Path, pg_url: str, serve_models, pushup_jpegs):
    """The real engine coaches the same clip into each database: the histories agree but for timestamps."""
    from poseit.serve.session import CoachSession, EngineOptions

    engine = EngineOptions(num_threads=1)
    histories = []
    for db in (tmp_path / "h.db", pg_url):
        store = Store(db)
        session = CoachSession("pushup", engine, store, source="file")
        for i, jpeg in enumerate(pushup_jpegs):
            session.feed_jpeg(jpeg, i / 30)
        session.close()
        got = store.session(session.id)
        store.close()
        for key in ("id", "started_at", "ended_at"):
            got.pop(key)
        histories.append(got)
    sqlite_h, pg_h = histories
    assert sqlite_h["reps"] == 2 and [r["number"] for r in sqlite_h["rep_events"] if r["complete"]] == [1, 2]
    for rep in (*sqlite_h["rep_events"], *pg_h["rep_events"]):
        rep.pop("session_id")
    assert sqlite_h == pg_h
