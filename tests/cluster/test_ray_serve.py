"""`poseit serve --ray` on a local two-node Ray cluster (head + worker, separate `ray start` processes) with the
history on PostgreSQL: the page and API as the single-process server serves them, the single-process app's
browser test, the same reps for a clip, resuming a dropped session (with its token only), and no completed rep
lost when the replica holding a session (SIGKILL) or the whole worker node (its `ray start` process group,
SIGKILL) dies mid-session: the client reconnects, as the page does, and the session goes on on the other one."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytest.importorskip("ray.serve", reason="Ray Serve not installed (pip install -e '.[cluster]')")
pytest.importorskip("sqlalchemy", reason="the serve extra is not installed (pip install -e '.[serve]')")
pytest.importorskip("websockets", reason="the serve extra is not installed (pip install -e '.[serve]')")

import httpx
from cluster_helpers import RayCluster, RayServe
from websockets.exceptions import WebSocketException

import live_web
from live_web import check_live_page
from poseit.serve.client import LiveClient
from poseit.serve.session import CoachSession, EngineOptions
from poseit.serve.store import Store

pytestmark = pytest.mark.slow
FRAME_MS = 1000 / 30


@pytest.fixture(scope="module")
def app(ray_cluster: RayCluster, pg_server, tmp_path_factory) -> Iterator[RayServe]:
    """The app on the cluster: two replicas of one CPU each on two nodes of one CPU: one on each node (a killed
    replica's successor starts on the same node); the HTTP proxy runs on the head."""
    url = pg_server if isinstance(pg_server, str) else pg_server.database("ray_serve")
    args = ["--max-fps", "0", "--min-replicas", "2", "--max-replicas", "2", "--replica-cpus", "1"]
    try:
        srv = RayServe(ray_cluster.address, url, *args, "--workers", "1", "--threads", "1")
    except RuntimeError as exc:  # once more, as for the cluster (the log says why)
        print(f"poseit serve --ray did not start, once more: {str(exc)[-1500:]}")
        srv = RayServe(ray_cluster.address, url, *args, "--workers", "1", "--threads", "1")
    srv.db = url
    try:
        yield srv
    finally:
        srv.stop()


def stream(client: LiveClient, jpegs: list[bytes], first: int = 0, until=None) -> list[dict]:
    """Send frames one at a time as the page does; every answer (results and errors) in order."""
    answers = []
    for i in range(first, len(jpegs)):
        answers.append(client.frame(jpegs[i], i * FRAME_MS))
        if until is not None and until(answers[-1]):
            break
    return answers


def test_page_and_api_through_ray(app: RayServe) -> None:
    page = httpx.get(app.url + "/")
    assert page.status_code == 200 and "<canvas" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert httpx.get(app.url + "/api/sessions").status_code == 200
    assert httpx.get(app.url + "/api/sessions/999999").status_code == 404
    assert httpx.get(app.url + "/api/exercises", headers={"host": "evil.example"}).status_code == 403


def test_live_page_in_a_browser_through_ray(app: RayServe, pushup_clip, tmp_path) -> None:
    """tests/serve's browser test, against the Ray-served app: the skeleton drawn, the clip's 2 reps counted."""
    check_live_page(app.url, pushup_clip, tmp_path)


def test_same_reps_as_the_single_process_app(app: RayServe, pushup_jpegs: list[bytes]) -> None:
    with LiveClient(app.ws_url) as c:
        session = c.start("pushup")["session"]
        answers = stream(c, pushup_jpegs)
        summary = c.stop()
    results = [a for a in answers if a["type"] == "result"]
    assert len(results) == len(pushup_jpegs), [a for a in answers if a["type"] != "result"][:3]
    assert len({r["replica"] for r in results}) == 1  # pinned to one replica
    local = CoachSession("pushup", EngineOptions(num_threads=1))  # the single-process code path, no transport
    expected = [local.feed_jpeg(j, i * FRAME_MS / 1000)["reps"] for i, j in enumerate(pushup_jpegs)]
    assert [r["reps"] for r in results] == expected and expected[-1] == 2
    assert summary["reps"] == 2
    detail = httpx.get(f"{app.url}/api/sessions/{session}").json()
    assert detail["status"] == "ended" and [r["number"] for r in detail["rep_events"] if r["complete"]] == [1, 2]


def test_sessions_that_arrive_together_spread_over_the_replicas(app: RayServe, pushup_jpegs: list[bytes]) -> None:
    """Four WebSockets opened at once: two on each replica (`SpreadRouter`; Ray's default router put them all on
    the replica beside the proxy, and without that preference often 3+1)."""

    def one(_: int) -> str:
        with LiveClient(app.ws_url) as c:
            c.start("pushup")
            answer = c.frame(pushup_jpegs[0], 0.0)
            time.sleep(1.0)  # all four connections open together
            c.stop()
        return answer["replica"]

    for _ in range(3):
        # arriving at an idle app: the proxy's router learns that a WebSocket closed only once the replica has seen
        # the disconnect, a moment after the client's close returns, so sessions that start at once after others
        # ended are placed by those others' stale counts (3+1 in one run of the module without this pause)
        time.sleep(2.0)
        with ThreadPoolExecutor(4) as pool:
            replicas = list(pool.map(one, range(4)))
        assert sorted(replicas.count(r) for r in set(replicas)) == [2, 2], replicas


def replica_pid(answer: dict) -> int:
    return int(answer["replica"].rsplit(":", 1)[1])


LOST = (WebSocketException, OSError, TimeoutError)  # a dropped connection, a refused or failed reconnect


def reconnect(url: str, started: dict, exercise: str = "pushup", within: float = 30.0) -> LiveClient:
    """What the page does when its WebSocket drops mid-session: open a new one (the proxy gives it to a live
    replica) and resume the session with its token, retrying until it is taken."""
    resume = {"session": started["session"], "token": started["resume_token"], "t0_ms": 0.0}
    deadline = time.monotonic() + within
    while True:
        try:
            c = LiveClient(url, timeout=10.0)
            answer = c.start(exercise, resume=resume)
            assert answer["type"] == "started" and answer["resumed"], answer
            assert answer["session"] == started["session"]
            return c
        except LOST:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)


def kill_after_rep_1(url: str, jpegs: list[bytes], kill, where=lambda pid: True) -> dict:
    """A session streams the clip; right after rep 1, with a frame in flight, ``kill(replica pid)`` kills the
    replica holding it (the first session whose replica then passes ``where``: Serve spreads new WebSockets over
    the replicas, and one started in place of a killed one takes a while to join). As the page does, the client
    reconnects when its connection drops, resumes the session and goes on to the end. What happened, for the
    checks of `assert_no_rep_lost`."""
    for _ in range(30):
        c = LiveClient(url, timeout=10.0)
        started = c.start("pushup")
        before = stream(c, jpegs, until=lambda a: a.get("reps") == 1)
        if before[-1].get("reps") == 1 and where(replica_pid(before[-1])):
            break
        c.stop()
        c.close()
        time.sleep(1.0)
    else:
        pytest.fail("no session was on the replica wanted at rep 1 in 30 tries")
    killed = before[-1]["replica"]
    assert before[-1]["reps"] == 1 and len(before) < len(jpegs)
    i = len(before)
    c.send_frame(jpegs[i], i * FRAME_MS)  # a frame in flight when its replica dies
    kill(replica_pid(before[-1]))
    lost_at = time.monotonic()
    after, reconnects, back_in, sent = [], 0, None, True
    before_reconnect = 0  # answers read on the killed replica's connection (the frame in flight, if it finished)
    while i < len(jpegs):
        try:
            if not sent:
                c.send_frame(jpegs[i], i * FRAME_MS)
            answer, sent = c.receive(), False
        except LOST:
            with contextlib.suppress(*LOST):
                c.close()
            c, sent = reconnect(url, started), False  # the frame in flight is sent again
            reconnects += 1
            continue
        after.append(answer)
        before_reconnect += not reconnects
        if answer["type"] == "result" and back_in is None and reconnects:
            back_in = time.monotonic() - lost_at
        i += 1
    summary = c.stop()
    c.close()
    return {
        "session": started["session"],
        "killed": killed,
        "after": after,
        "before_reconnect": before_reconnect,
        "reconnects": reconnects,
        "back_in": back_in,
        "summary": summary,
    }


def assert_no_rep_lost(app: RayServe, run: dict) -> list[dict]:
    """The connection dropped and the client reconnected (as the page does, showing "reconnecting"); results
    came back from another replica within a few seconds, the count going on from the database, rep 1 stored
    once; the results after the loss."""
    errors = [a for a in run["after"] if a["type"] != "result"]
    assert not errors, errors
    assert run["reconnects"] >= 1  # the killed replica held the WebSocket
    results = [a for a in run["after"] if a["type"] == "result"]
    assert results and run["back_in"] is not None and run["back_in"] < 8.0, run["back_in"]
    # the frame in flight may have been answered before the SIGKILL landed (delivered through the proxy after it):
    # at most that one answer, read before the reconnect, comes from the killed replica; none after
    assert run["before_reconnect"] <= 1, run["before_reconnect"]
    assert run["killed"] not in {r["replica"] for r in run["after"][run["before_reconnect"] :]}
    assert all(r["reps"] >= 1 for r in results)  # the count goes on from the database
    store = Store(app.db, interrupt_live=False)
    detail = store.session(run["session"])
    store.close()
    complete = [r["number"] for r in detail["rep_events"] if r["complete"]]
    assert complete == list(range(1, len(complete) + 1)) and len(complete) >= 1  # rep 1 kept, none twice
    assert detail["reps"] == run["summary"]["reps"] == results[-1]["reps"] == len(complete)
    assert detail["status"] == "ended"
    print(
        f"replica {run['killed']} lost after rep 1; {run['reconnects']} reconnect(s); back on "
        f"{results[0]['replica']} in {run['back_in']:.2f} s (then on {sorted({r['replica'] for r in results})}); "
        f"{run['summary']['reps']} reps in the end"
    )
    return results


def test_a_dropped_session_resumes_only_with_its_token(app: RayServe, pushup_jpegs: list[bytes]) -> None:
    """A connection closed mid-session resumes on a new one with its token: the count goes on (here on the same
    or the other replica); a wrong token, an unknown session or another exercise is refused."""
    with LiveClient(app.ws_url) as c:
        started = c.start("pushup")
        first = stream(c, pushup_jpegs, until=lambda a: a.get("reps") == 1)
    assert first[-1]["reps"] == 1 and started["resume_token"]
    resume = {"session": started["session"], "token": started["resume_token"], "t0_ms": 0.0}
    for bad in (
        {**resume, "token": "0" * 32},
        {**resume, "session": started["session"] + 1000},
    ):
        with LiveClient(app.ws_url) as c:
            assert c.start("pushup", resume=bad)["code"] == "cannot_resume"
    with LiveClient(app.ws_url) as c:
        assert c.start("squat", resume=resume)["code"] == "cannot_resume"
    with LiveClient(app.ws_url) as c:
        again = c.start("pushup", resume=resume)
        assert again["type"] == "started" and again["resumed"] and again["session"] == started["session"]
        rest = stream(c, pushup_jpegs, first=len(first))
        summary = c.stop()
    results = [a for a in rest if a["type"] == "result"]
    assert results[0]["reps"] == 1 and results[0]["time_s"] == pytest.approx(len(first) * FRAME_MS / 1000, abs=1e-3)
    assert summary["reps"] == results[-1]["reps"] == 2
    detail = httpx.get(f"{app.url}/api/sessions/{started['session']}").json()
    assert detail["status"] == "ended" and [r["number"] for r in detail["rep_events"] if r["complete"]] == [1, 2]


def test_the_page_reconnects_when_its_replica_dies(app: RayServe, pushup_clip, tmp_path) -> None:
    """The page's own reconnect (`live.js`): the replica holding its session is SIGKILLed once the page shows
    rep 1; the page shows "Reconnecting…", resumes the session on the other replica and counts the clip's 2
    reps."""
    if not Path(live_web.CHROMIUM).is_file():
        pytest.skip(f"{live_web.CHROMIUM} not found (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (dev extra)")
    frames = live_web.read_frames(pushup_clip, width=640)[: live_web.LAST_FRAME + 1]
    frames += [frames[-1]] * live_web.FPS
    y4m = tmp_path / "clip.y4m"
    live_web.write_y4m(frames, y4m, live_web.FPS)
    replicas: list[str] = []  # the replica of each result the page got

    def watch(ws) -> None:
        ws.on("framereceived", lambda data: replicas.extend(_replica_of(data)))

    with sync_api.sync_playwright() as playwright:
        context = live_web.launch(playwright, y4m, tmp_path / "profile")
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.on("websocket", watch)
            page.goto(app.url + "/")
            page.wait_for_selector("body[data-ready='1']", timeout=30_000)
            page.evaluate(
                """() => { window.statuses = []; const s = document.getElementById("status");
                  new MutationObserver(() => window.statuses.push(s.textContent))
                    .observe(s, {childList: true, characterData: true, subtree: true}); }"""
            )
            page.select_option("#exercise", "pushup")
            page.select_option("#source", "camera")
            page.click("#start")
            page.wait_for_selector("#status.ok", timeout=30_000)
            assert live_web.reps_reach(page, 1) == 1
            killed = replicas[-1]
            os.kill(int(killed.rsplit(":", 1)[1]), signal.SIGKILL)
            assert live_web.reps_reach(page, 2) == 2, page.text_content("#status")
            statuses = page.evaluate("window.statuses")
            after = list(replicas)
        finally:
            context.close()
    assert "Reconnecting…" in statuses and statuses[-1] == "Live", statuses
    assert statuses.index("Reconnecting…") < len(statuses) - 1
    assert any(r != killed for r in after), "no result from another replica"


def _replica_of(data: str | bytes) -> list[str]:
    """The replica a result message names, if it is one."""
    if isinstance(data, bytes) or '"replica"' not in data:
        return []
    return [json.loads(data)["replica"]]


def test_replica_killed_mid_session_loses_no_rep(app: RayServe, pushup_jpegs: list[bytes]) -> None:
    run = kill_after_rep_1(app.ws_url, pushup_jpegs, lambda pid: os.kill(pid, signal.SIGKILL))
    # the session may move once more, onto the replica Serve starts in place of the killed one
    assert_no_rep_lost(app, run)


def test_worker_node_killed_mid_session_loses_no_rep(app: RayServe, ray_cluster: RayCluster, pushup_jpegs) -> None:
    """The worker node dies (every process of its `ray start`) while its replica holds the session; the
    session goes on on the head's replica. Runs last: the cluster has one node afterwards."""
    on_worker = lambda pid: ray_cluster.node_of(pid) == 1  # noqa: E731
    run = kill_after_rep_1(app.ws_url, pushup_jpegs, lambda pid: ray_cluster.kill_node(1), where=on_worker)
    results = assert_no_rep_lost(app, run)
    assert {ray_cluster.node_of(replica_pid(r)) for r in results} == {0}  # on the head's replica
