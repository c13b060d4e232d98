"""The JSON and CSV history API after a real live session, and "Analyse a recording" on a real clip."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from poseit.serve.app import create_app
from poseit.serve.client import pack_frame
from poseit.serve.settings import Settings

LOCAL = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def client(tmp_path_factory, serve_models):
    db = tmp_path_factory.mktemp("api") / "h.db"
    with TestClient(create_app(Settings(db=db, max_fps=0)), base_url=LOCAL) as c:
        yield c


def test_live_session_lands_in_the_history(client, pushup_jpegs):
    with client.websocket_connect("ws://127.0.0.1:8000/ws") as ws:
        hello = ws.receive_json()
        assert {e["id"] for e in hello["exercises"]} >= {"squat", "pushup", "plank", "auto", "any"}
        assert len(hello["skeleton"]["joints"]) == 33
        ws.send_text('{"type": "start", "exercise": "pushup"}')
        session = ws.receive_json()["session"]
        for i, jpeg in enumerate(pushup_jpegs):
            ws.send_bytes(pack_frame(i + 1, i * 1000 / 30, jpeg))
            result = ws.receive_json()
        assert result["reps"] == 2 and result["exercise"] == "pushup"
        ws.send_text('{"type": "stop"}')
        assert ws.receive_json()["reps"] == 2

    sessions = client.get("/api/sessions").json()
    assert sessions[0]["id"] == session and sessions[0]["status"] == "ended" and sessions[0]["reps"] == 2
    detail = client.get(f"/api/sessions/{session}").json()
    assert [r["number"] for r in detail["rep_events"] if r["complete"]] == [1, 2]
    assert detail["frames"] == len(pushup_jpegs) and detail["model"] == "blazepose-full"
    assert client.get("/api/sessions/999999").status_code == 404
    assert client.get("/api/sessions/not-a-number").status_code == 422
    assert client.get("/api/sessions?limit=0").status_code == 422
    rows = list(csv.DictReader(io.StringIO(client.get(f"/api/sessions/{session}/reps.csv").text)))
    assert [int(r["number"]) for r in rows if r["complete"] == "1"] == [1, 2]
    assert client.get("/api/sessions.csv").headers["content-type"].startswith("text/csv")


def test_analyse_a_recording(client, pushup_clip):
    r = client.post(
        "/api/analyze?exercise=pushup", content=pushup_clip.read_bytes(), headers={"content-type": "video/mp4"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["summary"]["reps"] == 2
    report = client.get(body["report"])
    assert report.status_code == 200 and "<svg" in report.text
    assert "sandbox" in report.headers["content-security-policy"]
    assert client.get("/api/reports/0123456789abcdef").status_code == 404
    assert client.get("/api/reports/..%2F..%2Fetc").status_code == 404
