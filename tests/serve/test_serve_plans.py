"""Workout plans: validation of plan files and bodies, the store's plan tables on SQLite and PostgreSQL (and the
migration of a version-1 history), the ``/api/plans`` and ``/api/plan-runs`` API, and a live session stored as a
set of a plan run."""

from __future__ import annotations

import importlib.util
import json
import os
import pwd
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from serve_helpers import NoModelsHub

from poseit.errors import PoseItError
from poseit.serve.app import create_app
from poseit.serve.client import pack_frame
from poseit.serve.settings import Settings
from poseit.serve.store import SCHEMA_VERSION, Store
from poseit.serve.workout import PlanBody, builtin_plans, load_toml, set_target

LOCAL = "http://127.0.0.1:8000"
SQUATS = {"exercise": "squat", "sets": 3, "reps": 10, "rest_s": 60}
PLANK = {"exercise": "plank", "sets": 2, "hold_s": 30, "rest_s": 30}


# --- validation -----------------------------------------------------------------------------------------------
def test_builtin_plans_load_and_are_valid():
    plans = builtin_plans()
    assert len(plans) >= 3
    assert all(p.builtin and p.key.startswith("builtin:") and p.id is None for p in plans)
    assert len({p.key for p in plans}) == len(plans)
    legs = next(p for p in plans if p.key == "builtin:legs")
    b = legs.blocks[0]
    assert (b.exercise, b.sets, b.reps, b.rest_s) == ("squat", 3, 10, 60)
    assert any(b.hold_s for p in plans for b in p.blocks)  # a hold among them


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('name = "x"\n[[blocks]]\nexercise = "squat"\nsets = 2\n', "blocks.0: squat is counted in reps: give reps"),
        ('name = "x"\n[[blocks]]\nexercise = "squat"\nreps = 5\nhold_s = 3\n', "blocks.0: give either reps or hold_s"),
        ('name = "x"\n[[blocks]]\nexercise = "bungee"\nreps = 5\n', "blocks.0: unknown exercise 'bungee'"),
        ('name = "x"\n[[blocks]]\nexercise = "plank"\nreps = 5\n', "blocks.0: plank is a hold: give hold_s"),
        ('name = "x"\n[[blocks]]\nexercise = "squat"\nhold_s = 20\n', "blocks.0: squat is counted in reps: give reps"),
        ('name = "x"\n[[blocks]]\nexercise = "squat"\nreps = 5\nsets = 0\n', "blocks.0.sets: .*greater than"),
        ('name = "x"\n[[blocks]]\nexercise = "squat"\nreps = 5\nrest_s = -1\n', "blocks.0.rest_s"),
        ('name = "x"\n[[blocks]]\nexercise = "squat"\nreps = 5\ncolour = "red"\n', "blocks.0.colour: Extra"),
        ('name = "x"\nblocks = []\n', "blocks: .*at least 1"),
        ('[[blocks]]\nexercise = "squat"\nreps = 5\n', "name: Field required"),
        ('name = "   "\n[[blocks]]\nexercise = "squat"\nreps = 5\n', "name: .*empty"),
        ("name = \n", "not valid TOML"),
    ],
)
def test_bad_plan_files_end_in_one_line_naming_the_file_and_field(toml: str, message: str):
    with pytest.raises(PoseItError, match=f"plan plans/bad.toml: {message}") as err:
        load_toml(toml, "builtin:bad", "plans/bad.toml")
    assert "\n" not in str(err.value)


def test_plan_body_normalises_the_name_and_targets_of_sets():
    body = PlanBody.model_validate({"name": "  Legs   day ", "blocks": [SQUATS, PLANK]})
    assert body.name == "Legs day"
    snapshot = body.model_dump(mode="json")
    assert set_target(snapshot, 1, 2, "plank") == {"reps": None, "hold_s": 30.0}
    assert set_target(snapshot, 0, 3, "squat") == {"reps": 10, "hold_s": None}
    for block, number, exercise, message in [(2, 1, "squat", "no block 2"), (0, 4, "squat", "3 sets, not set 4")]:
        with pytest.raises(PoseItError, match=message):
            set_target(snapshot, block, number, exercise)
    with pytest.raises(PoseItError, match="is squat, not pushup"):
        set_target(snapshot, 0, 1, "pushup")


# --- the store, on both databases ------------------------------------------------------------------------------
def _pg_url(tmp_path: Path) -> str:
    """A throwaway PostgreSQL database (the cluster tests' server helper), or skip with the reason."""
    url = os.environ.get("POSEIT_TEST_PG_URL")
    if url:
        return url
    if importlib.util.find_spec("psycopg") is None:
        pytest.skip("psycopg not installed (pip install -e '.[cluster]')")
    spec = importlib.util.spec_from_file_location(
        "cluster_helpers", Path(__file__).resolve().parents[1] / "cluster" / "cluster_helpers.py"
    )
    helpers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(helpers)
    if helpers.pg_bin() is None:
        pytest.skip("no PostgreSQL server programs (apt-get install postgresql) and no $POSEIT_TEST_PG_URL")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root without a postgres system user to run the server as")
    return helpers.PgServer()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "sqlite":
        yield tmp_path / "history.db"
        return
    server = _pg_url(tmp_path)
    if isinstance(server, str):
        yield server
        return
    try:
        yield server.database("plans")
    finally:
        server.stop()


def test_store_keeps_plans_and_runs_with_their_sets(db):
    store = Store(db)
    body = PlanBody.model_validate({"name": "Mine", "blocks": [SQUATS]}).model_dump(mode="json")
    pid = store.add_plan(body["name"], "", body["blocks"])
    assert store.plan(pid)["blocks"] == body["blocks"]
    assert store.update_plan(pid, "Mine too", "d", body["blocks"]) and store.plans()[0]["name"] == "Mine too"
    assert not store.update_plan(pid + 100, "x", "", body["blocks"])
    run = store.start_plan_run(f"user:{pid}", "Mine too", body)
    place = {"plan_run_id": run, "plan_block": 0, "plan_set": 1, "target_reps": 10}
    first = store.start_session("squat", "blazepose-full", "CPU", "camera", place)
    store.record(first, {"reps": 10}, ended=True)
    second = store.start_session("squat", "blazepose-full", "CPU", "camera", {**place, "plan_set": 2})
    alone = store.start_session("squat", "blazepose-full", "CPU")
    assert store.delete_plan(pid) and store.plans() == [] and not store.delete_plan(pid)
    got = store.plan_run(run)  # the run keeps its copy of the deleted plan
    assert got["status"] == "live" and got["plan"] == body and got["plan_key"] == f"user:{pid}"
    assert [(s["id"], s["plan_set"], s["target_reps"], s["reps"]) for s in got["sets"]] == [
        (first, 1, 10, 10),
        (second, 2, 10, 0),
    ]
    assert store.end_plan_run(run, "stopped") and not store.end_plan_run(run)
    assert store.plan_runs()[0]["status"] == "stopped" and store.plan_runs()[0]["ended_at"] is not None
    assert store.session(alone)["plan_run_id"] is None
    store.close()


def test_a_version_1_history_is_migrated(tmp_path: Path):
    path = tmp_path / "old.db"
    store = Store(path)
    sid = store.start_session("squat", "blazepose-full", "CPU")
    store.close()
    with sqlite3.connect(path) as conn:  # back to version 1: no plan tables or columns
        conn.execute("DROP INDEX sessions_plan_run")
        conn.execute("DROP INDEX sessions_started")
        conn.execute("ALTER TABLE reps DROP COLUMN depth")
        conn.execute("ALTER TABLE reps DROP COLUMN symmetry")
        for column in ("plan_run_id", "plan_block", "plan_set", "target_reps", "target_hold_s"):
            conn.execute(f"ALTER TABLE sessions DROP COLUMN {column}")
        conn.execute("DROP TABLE plans")
        conn.execute("DROP TABLE plan_runs")
        conn.execute("UPDATE schema_version SET version = 1")
        conn.execute("PRAGMA user_version = 1")
    store = Store(path)
    assert store.session(sid)["plan_run_id"] is None and store.plans() == []
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version FROM schema_version").scalar() == SCHEMA_VERSION == 3
        assert "symmetry" in {r[1] for r in conn.exec_driver_sql("PRAGMA table_info(reps)")}
    store.close()


# --- the API ---------------------------------------------------------------------------------------------------
@pytest.fixture
def api(tmp_path: Path):
    app = create_app(Settings(db=tmp_path / "h.db"), hub_factory=NoModelsHub)
    with TestClient(app, base_url=LOCAL) as client:
        yield client


def test_plans_api_lists_creates_edits_and_deletes(api):
    listed = api.get("/api/plans").json()
    assert [p["key"] for p in listed] == [p.key for p in builtin_plans()]
    r = api.post("/api/plans", json={"name": "Two sets", "blocks": [SQUATS, PLANK]})
    assert r.status_code == 201, r.text
    mine = r.json()
    assert mine["key"] == f"user:{mine['id']}" and not mine["builtin"] and mine["blocks"][1]["hold_s"] == 30
    assert api.get("/api/plans").json()[-1] == mine
    r = api.put(f"/api/plans/{mine['id']}", json={"name": "One set", "blocks": [{**SQUATS, "sets": 1}]})
    assert r.status_code == 200 and r.json()["name"] == "One set"
    assert api.get("/api/plans").json()[-1]["blocks"][0]["sets"] == 1
    assert api.put("/api/plans/999", json={"name": "x", "blocks": [SQUATS]}).status_code == 404
    assert api.delete("/api/plans/999").status_code == 404
    assert api.delete("/api/plans/builtin:legs").status_code == 422  # built-in plans are not the user's
    assert api.delete(f"/api/plans/{mine['id']}").status_code == 204
    assert len(api.get("/api/plans").json()) == len(builtin_plans())


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"name": "x", "blocks": [{**SQUATS, "exercise": "../../etc/passwd"}]}, "blocks.0: unknown exercise"),
        ({"name": "x", "blocks": [{**SQUATS, "reps": 0}]}, "blocks.0.reps: Input should be greater than"),
        ({"name": "x", "blocks": [{**PLANK, "hold_s": None}]}, "blocks.0: plank is a hold"),
        ({"name": "x", "blocks": []}, "blocks: List should have at least 1 item"),
        ({"name": "x" * 81, "blocks": [SQUATS]}, "name: String should have at most 80 characters"),
        ({"name": "x", "blocks": [SQUATS], "owner": "me"}, "owner: Extra inputs are not permitted"),
    ],
)
def test_bad_plans_get_a_readable_422(api, body, detail):
    r = api.post("/api/plans", json=body)
    assert r.status_code == 422
    assert r.json()["detail"].startswith(detail), r.json()
    assert api.get("/api/plans").status_code == 200  # and nothing was stored
    assert len(api.get("/api/plans").json()) == len(builtin_plans())


def test_plan_runs_api(api):
    assert api.post("/api/plan-runs", json={"plan": "builtin:nothing"}).status_code == 404
    assert api.post("/api/plan-runs", json={"plan": "user:12"}).status_code == 404
    run = api.post("/api/plan-runs", json={"plan": "builtin:legs"}).json()
    assert run["status"] == "live" and run["plan_name"] == "Legs: three sets of ten" and run["sets"] == []
    assert run["plan"]["blocks"][0]["exercise"] == "squat"
    assert api.get(f"/api/plan-runs/{run['id']}").json() == run
    assert api.post(f"/api/plan-runs/{run['id']}/end", json={"status": "paused"}).status_code == 422
    ended = api.post(f"/api/plan-runs/{run['id']}/end", json={"status": "ended"}).json()
    assert ended["status"] == "ended" and ended["ended_at"] is not None
    assert api.post(f"/api/plan-runs/{run['id']}/end", json={}).status_code == 404  # not live any more
    assert api.get("/api/plan-runs").json()[0]["id"] == run["id"]
    assert api.get("/api/plan-runs/999").status_code == 404


def test_a_foreign_origin_cannot_change_plans(tmp_path: Path):
    app = create_app(Settings(host="0.0.0.0", token="t" * 16, db=tmp_path / "h.db"), hub_factory=NoModelsHub)
    with TestClient(app, base_url="http://poseit.example:8000") as c:
        auth = {"Authorization": "Bearer " + "t" * 16}
        assert c.get("/api/plans").status_code == 401
        assert c.post("/api/plans", json={"name": "x", "blocks": [SQUATS]}).status_code == 401
        evil = {**auth, "Origin": "http://evil.example"}
        assert c.post("/api/plans", json={"name": "x", "blocks": [SQUATS]}, headers=evil).status_code == 403
        assert c.delete("/api/plans/1", headers=evil).status_code == 403
        assert c.get("/api/plans", headers=auth).status_code == 200


# --- a live session as a set of a plan run (real engine) ------------------------------------------------------
def test_a_live_session_is_stored_as_a_set_of_the_run(tmp_path, serve_models, pushup_jpegs):
    app = create_app(Settings(db=tmp_path / "h.db", max_fps=0))
    with TestClient(app, base_url=LOCAL) as c:
        plan = {"name": "Push", "blocks": [{"exercise": "pushup", "sets": 2, "reps": 2, "rest_s": 5}]}
        key = c.post("/api/plans", json=plan).json()["key"]
        run = c.post("/api/plan-runs", json={"plan": key}).json()
        with c.websocket_connect("ws://127.0.0.1:8000/ws") as ws:
            ws.receive_json()
            for bad, message in [
                ({"run": run["id"], "block": 0, "set": 3}, "2 sets, not set 3"),
                ({"run": run["id"], "block": 1, "set": 1}, "no block 1"),
                ({"run": 999, "block": 0, "set": 1}, "no live plan run 999"),
            ]:
                ws.send_text(json.dumps({"type": "start", "exercise": "pushup", "plan": bad}))
                answer = ws.receive_json()
                assert answer["code"] == "bad_plan" and message in answer["message"], answer
            ws.send_text(
                json.dumps({"type": "start", "exercise": "squat", "plan": {"run": run["id"], "block": 0, "set": 1}})
            )
            assert "is pushup, not squat" in ws.receive_json()["message"]
            for number in (1, 2):  # each set its own session, on the same connection
                place = {"run": run["id"], "block": 0, "set": number}
                ws.send_text(json.dumps({"type": "start", "exercise": "pushup", "plan": place}))
                started = ws.receive_json()
                assert started["type"] == "started" and started["plan"] == place
                for i, jpeg in enumerate(pushup_jpegs[:40]):
                    ws.send_bytes(pack_frame(i + 1, i * 1000 / 30, jpeg))
                    assert ws.receive_json()["type"] == "result"
                ws.send_text('{"type": "stop"}')
                assert ws.receive_json()["type"] == "summary"
        got = c.get(f"/api/plan-runs/{run['id']}").json()
        assert [(s["plan_block"], s["plan_set"], s["target_reps"], s["status"]) for s in got["sets"]] == [
            (0, 1, 2, "ended"),
            (0, 2, 2, "ended"),
        ]
        assert all(s["frames"] == 40 for s in got["sets"])
        sessions = c.get("/api/sessions").json()
        assert {s["plan_run_id"] for s in sessions} == {run["id"]}


def test_live_client_start_with_a_plan_is_refused_for_an_ended_run(tmp_path, serve_models):
    app = create_app(Settings(db=tmp_path / "h.db"))
    with TestClient(app, base_url=LOCAL) as c:
        run = c.post("/api/plan-runs", json={"plan": "builtin:legs"}).json()
        c.post(f"/api/plan-runs/{run['id']}/end", json={"status": "stopped"})
        with c.websocket_connect("ws://127.0.0.1:8000/ws") as ws:
            ws.receive_json()
            ws.send_text(
                json.dumps({"type": "start", "exercise": "squat", "plan": {"run": run["id"], "block": 0, "set": 1}})
            )
            assert ws.receive_json()["code"] == "bad_plan"
            ws.send_text('{"type": "start", "exercise": "squat"}')  # the connection survives
            assert ws.receive_json()["type"] == "started"
