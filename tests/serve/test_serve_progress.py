"""Progress over days: the per-day aggregates and personal records (unit), ``/api/progress`` and its CSV, and the
progress page in a real browser for a user with squat and plank sessions on several days (its screenshot is the
one the README can show: out/serve-progress.png)."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from serve_helpers import NoModelsHub, Server

from live_web import need_browser
from poseit.serve.app import create_app
from poseit.serve.progress import day_of, progress
from poseit.serve.settings import Settings
from poseit.serve.store import Store

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "out" / "serve-progress.png"
DAY = 86400.0
# squats on five days (two sessions on the fourth): reps, seconds per rep, depth at the turn
SQUAT_DAYS = [(8, 2.6, 0.92), (10, 2.5, 0.97), (10, 2.3, 1.02), (6, 2.2, 1.05), (15, 2.0, 1.12)]


def fill(store: Store, now: float) -> dict[str, list[int]]:
    """Squat sessions on five days (and a second one on day 4), planks on two; the sessions' ids."""
    ids: dict[str, list[int]] = {"squat": [], "plank": []}

    def session(exercise: str, started: float, reps: int, rep_s: float, depth: float, hold: float | None) -> None:
        sid = store.start_session(exercise, "blazepose-full", "CPU")
        rows = [
            {"number": n, "complete": 1, "start_s": n * rep_s, "turn_s": n * rep_s + rep_s / 2,
             "end_s": (n + 1) * rep_s, "duration_s": rep_s, "depth": depth + 0.01 * (n % 3),
             "symmetry": min(1.0, depth - 0.1)}
            for n in range(1, reps + 1)
        ]  # fmt: skip
        totals = {"counted_as": exercise, "frames": 300, "reps": reps, "hold_s": hold}
        store.record(sid, totals, rows, ended=True)
        with store.engine.begin() as conn:
            query = "UPDATE sessions SET started_at = ?, ended_at = ? WHERE id = ?"
            conn.exec_driver_sql(query, (started, started + 120, sid))
        ids[exercise].append(sid)

    for i, (reps, rep_s, depth) in enumerate(SQUAT_DAYS):
        session("squat", now - (len(SQUAT_DAYS) - i) * DAY, reps, rep_s, depth, None)
        if i == 3:
            session("squat", now - (len(SQUAT_DAYS) - i) * DAY + 3600, 9, 2.1, 1.06, None)
    session("plank", now - 3 * DAY, 0, 0, 0, 31.5)
    session("plank", now - 1 * DAY, 0, 0, 0, 45.2)
    return ids


def test_progress_per_day_and_records():
    t0 = 1_780_000_000.0  # a fixed instant: 2026-05-28 20:26:40 UTC
    sessions = [
        {"id": 1, "started_at": t0, "reps": 8, "partial_reps": 1, "hold_s": None},
        {"id": 2, "started_at": t0 + 3600, "reps": 12, "partial_reps": 0, "hold_s": None},  # 21:26 UTC
        {"id": 3, "started_at": t0 + DAY, "reps": 10, "partial_reps": 0, "hold_s": None},
    ]
    reps = [{"session_id": 1, "duration_s": 3.0, "depth": 1.0, "symmetry": 0.9}]
    reps += [{"session_id": 1, "duration_s": 2.0, "depth": 0.8, "symmetry": 0.8}]
    reps += [{"session_id": 2, "duration_s": 2.5, "depth": 0.9, "symmetry": None}]
    reps += [{"session_id": 3, "duration_s": 1.5, "depth": 1.2, "symmetry": 0.95}]
    out = progress(sessions, reps)
    assert [(d["day"], d["sessions"], d["reps"], d["best_set"]) for d in out["days"]] == [
        ("2026-05-28", 2, 20, 12),
        ("2026-05-29", 1, 10, 10),
    ]
    assert out["days"][0]["median_rep_s"] == 2.5 and out["days"][0]["mean_depth"] == 0.9
    assert [d["mean_symmetry"] for d in out["days"]] == [0.85, 0.95]  # reps without a symmetry are left out
    records = {r["what"]: r for r in out["records"]}
    assert records["most reps in a session"]["value"] == 12 and records["most reps in a session"]["session"] == 2
    assert records["most reps in a day"]["value"] == 20 and records["most reps in a day"]["day"] == "2026-05-28"
    assert records["quickest reps (median of a day)"]["value"] == 1.5
    assert records["deepest reps (mean of a day)"]["day"] == "2026-05-29"
    assert records["most even left and right (mean of a day)"]["value"] == 0.95
    assert "longest hold" not in records
    # three hours east of UTC (getTimezoneOffset -180), the 21:26 UTC session is on the next day
    assert day_of(t0 + 3600, -180) == "2026-05-29" and day_of(t0 + 3600, 0) == "2026-05-28"
    assert [d["day"] for d in progress(sessions, reps, tz_offset_min=-180)["days"]] == ["2026-05-28", "2026-05-29"]


def test_progress_api_and_csv(tmp_path):
    store = Store(tmp_path / "h.db")
    ids = fill(store, time.time())
    store.close()
    app = create_app(Settings(db=tmp_path / "h.db"), hub_factory=NoModelsHub)
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        latest = c.get("/api/progress").json()
        assert latest["exercise"] == "squat"  # done last
        assert [(e["id"], e["sessions"]) for e in latest["exercises"]] == [("squat", 6), ("plank", 2)]
        squat = c.get("/api/progress?exercise=squat&tz=0").json()
        assert [d["reps"] for d in squat["days"]] == [8, 10, 10, 15, 15]
        assert [d["median_rep_s"] for d in squat["days"]] == [2.6, 2.5, 2.3, 2.1, 2.0]
        depths = [d["mean_depth"] for d in squat["days"]]
        assert depths == sorted(depths) and depths[-1] > 1.1
        balance = [d["mean_symmetry"] for d in squat["days"]]
        assert balance == sorted(balance) and balance[-1] == 1.0
        records = {r["what"]: r for r in squat["records"]}
        assert records["most reps in a session"]["value"] == 15
        assert records["most reps in a session"]["session"] == ids["squat"][-1]
        plank = c.get("/api/progress?exercise=plank").json()
        assert [d["hold_s"] for d in plank["days"]] == [31.5, 45.2]
        assert {r["what"]: r["value"] for r in plank["records"]}["longest hold"] == 45.2
        rows = list(csv.DictReader(io.StringIO(c.get("/api/progress.csv?exercise=squat").text)))
        assert [int(r["reps"]) for r in rows] == [8, 10, 10, 15, 15] and "mean_depth" in rows[0]
        assert c.get("/api/progress?exercise=../../etc").status_code == 422
        assert c.get("/api/progress?tz=5000").status_code == 422
        assert c.get("/api/sessions.csv").text.splitlines()[0].endswith("duration_s,depth,symmetry,issues")


@pytest.mark.slow
def test_progress_page_shows_trends_over_days(tmp_path, serve_models):
    sync_api = need_browser()
    store = Store(tmp_path / "h.db")
    fill(store, time.time())
    store.close()
    srv = Server(tmp_path / "h.db")
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            try:
                page = browser.new_page(viewport={"width": 1100, "height": 900})
                problems: list[str] = []
                page.on("pageerror", lambda e: problems.append(str(e)))
                page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
                page.goto(srv.url + "/progress")
                page.wait_for_selector("body[data-ready='1'][data-exercise='squat']", timeout=30_000)
                assert page.locator("#volume svg rect.bar").count() == len(SQUAT_DAYS)
                assert page.locator("#tempo svg circle.dot").count() == len(SQUAT_DAYS)
                assert page.locator("#rom svg circle.dot").count() == len(SQUAT_DAYS)
                assert page.locator("#days tbody tr").count() == len(SQUAT_DAYS)
                records = page.text_content("#records")
                assert "most reps in a session: 15 reps" in records and "quickest reps" in records
                assert page.get_attribute("#csv", "href").startswith("/api/progress.csv?exercise=squat")
                SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOT), full_page=True)
                page.select_option("#exercise", "plank")
                page.wait_for_selector("body[data-exercise='plank']", timeout=30_000)
                assert "seconds held per day" in page.text_content("#volume")
                assert page.locator("#volume svg rect.bar").count() == 2
                page.set_viewport_size({"width": 390, "height": 844})  # fits a phone
                assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
                assert not [p for p in problems if "Content Security Policy" in p or "Uncaught" in p], problems
            finally:
                browser.close()
    finally:
        srv.stop()
