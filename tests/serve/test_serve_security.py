"""Security and limits, in process (FastAPI's TestClient on the real app and engine) and through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from poseit.errors import PoseItError
from poseit.serve.app import create_app
from poseit.serve.client import pack_frame
from poseit.serve.settings import Settings

TOKEN = "correct-horse-battery"
WS_TOKEN = "ws://poseit.example:8000/ws"  # (the test client would say Host: testserver for a bare path)
WS_LOCAL = "ws://127.0.0.1:8000/ws"


@pytest.fixture
def open_client(tmp_path, serve_models):
    """Loopback, no token (the default)."""
    app = create_app(Settings(db=tmp_path / "h.db", max_fps=0, max_message_bytes=200_000, max_upload_bytes=50_000))
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        yield client


@pytest.fixture
def token_client(tmp_path, serve_models):
    """Bound to every address, so a token is required."""
    app = create_app(Settings(host="0.0.0.0", db=tmp_path / "h.db", token=TOKEN))
    with TestClient(app, base_url="http://poseit.example:8000") as client:
        yield client


def test_any_address_without_token_refuses_to_start(tmp_path):
    with pytest.raises(PoseItError, match="token"):
        create_app(Settings(host="0.0.0.0", db=tmp_path / "h.db"))
    env = {k: v for k, v in os.environ.items() if k != "POSEIT_TOKEN"}
    proc = subprocess.run(
        [sys.executable, "-m", "poseit.cli", "serve", "--host", "0.0.0.0", "--db", str(tmp_path / "h.db")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 1
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("poseit: error:") and "--token" in lines[0], proc.stderr
    assert not (tmp_path / "h.db").exists()


def test_token_is_required_on_http_and_websocket(token_client):
    c = token_client
    for path in ("/", "/history", "/api/sessions", "/api/sessions/1", "/static/app.js", "/api/nothing-here"):
        r = c.get(path)
        assert r.status_code == 401, path
        assert r.headers["www-authenticate"] == "Bearer"
    assert c.get("/api/sessions", headers={"Authorization": "Bearer wrong-token-xx"}).status_code == 401
    assert c.get("/api/sessions", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    with pytest.raises(WebSocketDisconnect) as refused, c.websocket_connect(WS_TOKEN):
        pass
    assert refused.value.code == 1008
    # the token in the link sets an HttpOnly cookie; the page's own requests then carry it
    r = c.get(f"/?token={TOKEN}")
    assert r.status_code == 200 and "HttpOnly" in r.headers["set-cookie"]
    assert c.get("/api/sessions").status_code == 200
    cookie = {"Cookie": f"poseit_token={TOKEN}", "Origin": "http://poseit.example:8000"}  # as a browser sends it
    with c.websocket_connect(WS_TOKEN, headers=cookie) as ws:
        assert ws.receive_json()["type"] == "hello"


def test_websocket_checks_origin(token_client):
    c = token_client
    headers = {"Authorization": f"Bearer {TOKEN}", "Origin": "http://evil.example"}
    with pytest.raises(WebSocketDisconnect) as refused, c.websocket_connect(WS_TOKEN, headers=headers):
        pass
    assert refused.value.code == 1008
    r = c.post("/api/analyze", content=b"x", headers=headers)
    assert r.status_code == 403


def test_loopback_answers_to_local_names_only(open_client):
    assert open_client.get("/api/sessions").status_code == 200
    assert open_client.get("/api/sessions", headers={"Host": "rebound.example"}).status_code == 403


def test_strict_csp_and_no_third_party_assets(open_client):
    r = open_client.get("/")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    from poseit.serve.routes.pages import STATIC

    names = sorted(f.name for f in STATIC.iterdir() if f.name.endswith((".html", ".js", ".css")))
    assert {"index.html", "app.js", "voice.js", "plans.js", "runner.js"} <= set(names)
    for name in names:
        text = open_client.get(f"/static/{name}").text
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") and "https://" not in text, name
        assert "<script>" not in text and "style=" not in text, name


def jpeg(width: int, height: int) -> bytes:
    return cv2.imencode(".jpg", np.full((height, width, 3), 127, np.uint8))[1].tobytes()


def test_bad_messages_get_an_error_and_the_connection_survives(open_client, pushup_jpegs):
    with open_client.websocket_connect(WS_LOCAL) as ws:
        assert ws.receive_json()["type"] == "hello"
        ws.send_bytes(pack_frame(1, 0.0, pushup_jpegs[0]))
        assert ws.receive_json()["code"] == "not_started"
        for text, code in [
            ("not json", "bad_message"),
            ('{"type": "start", "exercise": "../../etc/passwd.toml"}', "bad_message"),
            ('{"type": "start", "exercise": "squat", "extra": 1}', "bad_message"),
            (json.dumps({"type": "ping", "pad": "x" * 5000}), "too_large"),
            ('{"type": "stop"}', "not_started"),
        ]:
            ws.send_text(text)
            assert ws.receive_json()["code"] == code, text
        ws.send_text('{"type": "start", "exercise": "pushup"}')
        assert ws.receive_json()["type"] == "started"
        for data, code in [
            (b"short", "bad_frame"),
            (pack_frame(1, 10.0, b"GIF89a not a jpeg"), "bad_frame"),
            (pack_frame(2, 20.0, jpeg(4000, 16)), "bad_frame"),  # sides above the limit, refused before decoding
            (pack_frame(3, 30.0, b"\xff\xd8" + os.urandom(3000)), "bad_frame"),
            (pack_frame(4, 40.0, b"\xff\xd8" + b"\0" * 300_000), "too_large"),
        ]:
            ws.send_bytes(data)
            assert ws.receive_json()["code"] == code
        ws.send_bytes(pack_frame(10, 100.0, pushup_jpegs[0]))
        first = ws.receive_json()
        assert first["type"] == "result" and first["seq"] == 10 and len(first["people"]) == 1
        ws.send_bytes(pack_frame(9, 133.0, pushup_jpegs[1]))  # an older sequence number
        assert ws.receive_json()["code"] == "out_of_order"
        ws.send_bytes(pack_frame(11, 90.0, pushup_jpegs[1]))  # time going back
        assert ws.receive_json()["code"] == "out_of_order"
        ws.send_bytes(pack_frame(12, 133.0, pushup_jpegs[1]))
        assert ws.receive_json()["type"] == "result"
        ws.send_text('{"type": "stop"}')
        summary = ws.receive_json()
        assert summary["type"] == "summary" and summary["frames"] == 2


def test_frame_rate_limit_and_idle_timeout(tmp_path, serve_models, pushup_jpegs):
    app = create_app(Settings(db=tmp_path / "h.db", max_fps=2, idle_timeout_s=1.0))
    with TestClient(app, base_url="http://localhost:8000") as c, c.websocket_connect(WS_LOCAL) as ws:
        assert ws.receive_json()["limits"]["max_fps"] == 2
        ws.send_text('{"type": "start", "exercise": "squat"}')
        ws.receive_json()
        ws.send_bytes(pack_frame(1, 0.0, pushup_jpegs[0]))
        assert ws.receive_json()["type"] == "result"
        ws.send_bytes(pack_frame(2, 10.0, pushup_jpegs[1]))
        assert ws.receive_json()["code"] == "too_fast"
        msg = ws.receive_json()  # nothing sent for a second
        assert msg["code"] == "idle"
        with pytest.raises(WebSocketDisconnect):
            ws.receive_json()


def test_upload_limits(open_client):
    assert open_client.post("/api/analyze?exercise=squat", content=b"x" * 60_000).status_code == 413
    assert open_client.post("/api/analyze?exercise=/etc/passwd", content=b"x").status_code == 422
    r = open_client.post("/api/analyze?exercise=squat", content=b"not a video at all")
    assert r.status_code == 422 and "upload" in r.json()["detail"]
