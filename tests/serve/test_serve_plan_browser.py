"""A workout plan run hands-free in a real browser (Debian's chromium, headless, its fake camera fed from a real
push-up clip): two sets of two push-ups with a rest between. Each set ends at its target by itself, the rest
timer counts down, the page's spoken cues (captured by wrapping ``speechSynthesis.speak``) come in order with
every spoken count equal to the count on the screen, and the history shows the run with both sets."""

from __future__ import annotations

import time

import httpx
import pytest

from live_web import LAST_FRAME, camera_clip, launch, need_browser, reps_reach

pytestmark = pytest.mark.slow
REPS, REST_S = 2, 4

# every utterance the page hands to the speech synthesis, with what the screen showed at that moment
CAPTURE = """
window.__spoken = [];
if (window.speechSynthesis) {
  const speak = window.speechSynthesis.speak.bind(window.speechSynthesis);
  window.speechSynthesis.speak = (u) => {
    const reps = document.getElementById("reps");
    window.__spoken.push({
      text: u.text, kind: u.kind || null, reps: reps ? reps.textContent : null,
      plan: document.body.dataset.plan || null, set: document.body.dataset.planSet || null,
    });
    return speak(u);
  };
}
"""


def wait_for(page, selector: str, within: float) -> None:
    page.wait_for_selector(selector, timeout=within * 1000, state="attached")


def test_two_set_plan_with_voice_rest_timer_and_history(tmp_path, server, pushup_clip):
    sync_api = need_browser()
    y4m = tmp_path / "clip.y4m"
    camera_clip(pushup_clip, y4m, last=LAST_FRAME)
    plan = {"name": "Two sets", "blocks": [{"exercise": "pushup", "sets": 2, "reps": REPS, "rest_s": REST_S}]}
    key = httpx.post(server.url + "/api/plans", json=plan).json()["key"]

    with sync_api.sync_playwright() as playwright:
        context = launch(playwright, y4m, tmp_path / "profile")
        try:
            page = context.pages[0] if context.pages else context.new_page()
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.add_init_script(CAPTURE)
            page.goto(server.url + "/")
            wait_for(page, "body[data-ready='1']", 30)
            assert page.evaluate("typeof window.speechSynthesis") == "object", "no speech synthesis in this chromium"
            assert page.get_attribute("#mute", "aria-pressed") == "false"
            page.select_option("#source", "camera")
            page.select_option("#plan", key)
            page.fill("#ready-s", "1")
            page.focus("#plan-start")  # keyboard, not a click
            page.keyboard.press("Enter")

            wait_for(page, "body[data-plan='set'][data-plan-set='1']", 30)
            assert page.text_content("#plan-step").startswith("set 1 of 2")
            assert page.text_content("#target") == f" / {REPS}"
            # the rest timer: it appears by itself once set 1 reaches its target, and counts down
            wait_for(page, "body[data-plan='rest']", 120)
            assert page.text_content("#reps") == str(REPS)
            seen = set()
            while page.get_attribute("body", "data-plan") == "rest":
                seen.add(page.text_content("#rest-left"))
                time.sleep(0.2)
            assert {"3", "2", "1"} <= seen, seen
            wait_for(page, "body[data-plan='set'][data-plan-set='2']", 10)
            wait_for(page, "body[data-plan='ended']", 120)
            assert page.text_content("#reps") == str(REPS)
            assert "2 of 2 sets done" in page.text_content("#summary-text")
            spoken = page.evaluate("window.__spoken")
            # screen readers hear the same cues (an aria-live region); the last one is the end of the workout
            assert page.get_attribute("#announce", "aria-live") == "polite"
            assert page.text_content("#announce") == spoken[-1]["text"]
            history_link = page.get_attribute("#summary-link", "href")

            texts = [s["text"] for s in spoken]
            print("spoken:", texts)
            order = []  # the plan's cues and the counts, in the order spoken
            for s in spoken:
                if s["kind"] == "count":
                    assert s["text"] == s["reps"], f"said {s['text']!r} while the screen showed {s['reps']}"
                    assert s["plan"] == "set", s
                    order.append(("count", s["set"], int(s["text"])))
                elif s["kind"] == "countdown":
                    order.append(("countdown", s["plan"], s["text"]))
                elif s["kind"] == "plan":
                    order.append(("plan", s["set"], s["text"]))
            for n in ("1", "2"):  # counts rise within a set and end at its target
                counts = [c for kind, where, c in order if kind == "count" and where == n]
                assert counts == sorted(set(counts)) and counts[-1] == REPS, (n, counts)
            plan_cues = [t for kind, _, t in order if kind == "plan"]
            assert "Get ready" in plan_cues[0]
            assert plan_cues[1].startswith("Push-up, set 1 of 2: 2 reps")
            assert plan_cues[2].startswith("Set done: 2 reps. Rest 4 seconds. Next: Push-up, set 2 of 2")
            assert plan_cues[3].startswith("Push-up, set 2 of 2")
            assert plan_cues[4].startswith("Workout complete: 2 sets, 4 reps")
            rest = [t for kind, where, t in order if kind == "countdown" and where == "rest"]
            assert rest == ["3", "2", "1"], order

            def at(text: str) -> int:
                return next(i for i, o in enumerate(order) if o[0] == "plan" and o[2] == text)

            go1, done1, go2, end = (at(t) for t in plan_cues[1:5])
            set1 = [i for i, o in enumerate(order) if o[0] == "count" and o[1] == "1"]
            set2 = [i for i, o in enumerate(order) if o[0] == "count" and o[1] == "2"]
            rest_at = [i for i, o in enumerate(order) if o[0] == "countdown" and o[1] == "rest"]
            assert go1 < min(set1) and max(set1) < done1 < min(rest_at) and max(rest_at) < go2
            assert go2 < min(set2) and max(set2) < end

            # the history: the run with both sets at their target, each a session
            page.goto(server.url + history_link)
            wait_for(page, "#run-sets tbody tr", 30)
            rows = page.locator("#run-sets tbody tr")
            assert rows.count() == 2
            for i in range(2):
                cells = rows.nth(i).locator("td").all_text_contents()
                assert cells[0] == f"1.{i + 1} of 2" and cells[2] == f"{REPS} reps" and cells[3] == f"{REPS} reps"
            assert page.text_content("#run-total").startswith("2 of 2 sets done, 2 at their target; 4 of 4 reps")
            assert page.locator("#runs tbody tr").count() >= 1
            page.locator("#run-sets tbody tr a").first.click()
            wait_for(page, "#reps tbody tr", 30)
            assert not [p for p in problems if "Content Security Policy" in p or "Uncaught" in p], problems
        finally:
            context.close()


def test_voice_large_numbers_and_keys_are_remembered(tmp_path, server):
    """Every control works from the keyboard; mute and large numbers are kept across visits (localStorage)."""
    sync_api = need_browser()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 760})
            page.goto(server.url + "/")
            wait_for(page, "body[data-ready='1']", 30)
            assert page.get_attribute("#mute", "aria-pressed") == "false"
            page.keyboard.press("m")
            page.keyboard.press("l")
            assert page.get_attribute("#mute", "aria-pressed") == "true" and page.text_content("#mute") == "Voice off"
            assert "large" in page.get_attribute("body", "class")
            page.reload()
            wait_for(page, "body[data-ready='1']", 30)
            assert page.get_attribute("#mute", "aria-pressed") == "true"
            assert page.get_attribute("#large", "aria-pressed") == "true"
            assert "large" in page.get_attribute("body", "class")
            page.focus("#mute")
            page.keyboard.press("Enter")  # a button, so Enter and Space work on it
            assert page.get_attribute("#mute", "aria-pressed") == "false"
            # Tab reaches every enabled button of the page
            visible = "bs => bs.filter(b => b.offsetParent).map(b => b.id || b.textContent)"
            buttons = set(page.eval_on_selector_all("button:not([disabled])", visible))
            reached = set()
            for _ in range(60):
                page.keyboard.press("Tab")
                reached.add(page.evaluate("() => document.activeElement.id || document.activeElement.textContent"))
            assert buttons <= reached, buttons - reached
        finally:
            browser.close()


def test_end_set_pause_skip_and_stop_by_key(tmp_path, server, pushup_clip):
    """A set ended by hand (n) keeps its reps; a paused rest timer stands still (p); skip ends the rest (n); Esc
    stops the plan, which is then stored as stopped with the sets done."""
    sync_api = need_browser()
    y4m = tmp_path / "clip.y4m"
    camera_clip(pushup_clip, y4m, last=LAST_FRAME)
    plan = {"name": "Long sets", "blocks": [{"exercise": "pushup", "sets": 3, "reps": 50, "rest_s": 60}]}
    key = httpx.post(server.url + "/api/plans", json=plan).json()["key"]
    with sync_api.sync_playwright() as playwright:
        context = launch(playwright, y4m, tmp_path / "profile")
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.goto(server.url + "/")
            wait_for(page, "body[data-ready='1']", 30)
            page.select_option("#plan", key)
            page.fill("#ready-s", "1")
            page.click("#plan-start")
            wait_for(page, "body[data-plan='set'][data-plan-set='1']", 30)
            assert page.text_content("#plan-skip") == "End set"
            assert reps_reach(page, 1, within=60) >= 1
            page.keyboard.press("n")  # end the set now
            wait_for(page, "body[data-plan='rest']", 30)
            page.keyboard.press("p")
            assert page.get_attribute("#plan-pause", "aria-pressed") == "true"
            frozen = page.text_content("#rest-left")
            time.sleep(2.5)
            assert page.text_content("#rest-left") == frozen and page.text_content("#plan-pause") == "Resume"
            page.keyboard.press("p")
            page.keyboard.press("n")  # skip the rest
            wait_for(page, "body[data-plan='set'][data-plan-set='2']", 10)
            assert int(frozen) > 50  # (the 60 s rest was skipped, not waited out)
            page.keyboard.press("Escape")
            wait_for(page, "body[data-plan='stopped']", 30)
            assert page.text_content("#summary-text").startswith("Long sets: 2 of 3 sets done before you stopped")
        finally:
            context.close()
    run = httpx.get(server.url + "/api/plan-runs").json()[0]
    assert run["plan_name"] == "Long sets" and run["status"] == "stopped"
    assert [(s["plan_set"], s["status"]) for s in run["sets"]] == [(1, "ended"), (2, "ended")]
    assert run["sets"][0]["reps"] >= 1


VOICE_SCRIPT = """async () => {
  const { Voice } = await import("/static/voice.js");
  localStorage.removeItem("poseit.voice.muted");
  const region = document.createElement("div");
  const v = new Voice(region);
  const said = [];
  v.synth = { speak: (u) => said.push(u.text), cancel: () => {} };  // (a stand-in that never ends by itself)
  const end = () => v.speaking && v.speaking.onend();
  const out = {};
  v.say("Set 1: go", "plan");                     // speaking now
  v.say("1", "count");
  v.say("2", "count");                            // replaces the waiting 1
  out.formFirst = v.say("Knees out", "form", "knees");
  out.cooldown = v.say("Back straight", "form", "back");   // within 6 s of the last form cue: not taken
  out.announced = region.textContent;
  end(); end(); end();
  out.said = said.slice();
  v.setMuted(true);
  out.mutedTaken = v.say("3", "count");
  out.mutedAnnounced = region.textContent;
  out.stored = localStorage.getItem("poseit.voice.muted");
  out.saidAfterMute = said.length;
  return out;
}"""


def test_voice_one_cue_at_a_time_by_priority_with_cooldown(server):
    """The voice module on its own: a waiting count is replaced by a newer one, a form cue goes before a count,
    a second form cue within the cooldown is dropped, and muted it only announces (to screen readers)."""
    sync_api = need_browser()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(server.url + "/")
            wait_for(page, "body[data-ready='1']", 30)
            out = page.evaluate(VOICE_SCRIPT)
        finally:
            browser.close()
    assert out["said"] == ["Set 1: go", "Knees out", "2"], out
    assert out["formFirst"] is True and out["cooldown"] is False and out["announced"] == "Knees out"
    assert out["mutedTaken"] is True and out["mutedAnnounced"] == "3" and out["saidAfterMute"] == 3
    assert out["stored"] == "1"


def test_plan_editor_creates_edits_and_deletes(server):
    """The user's own plan made in the page (a hold block shows seconds), edited, then deleted; built-in plans
    are copied, never changed."""
    sync_api = need_browser()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(server.url + "/")
            wait_for(page, "body[data-ready='1']", 30)
            page.click("#plan-new")
            page.fill("#plan-editor [name=name]", "Evening core")
            page.click("#plan-editor .add-block")
            blocks = page.locator("#plan-editor fieldset.block")
            blocks.nth(1).locator("[name=exercise]").select_option("plank")
            assert blocks.nth(1).locator(".unit").text_content() == "s hold"
            blocks.nth(1).locator("[name=target]").fill("40")
            blocks.nth(1).locator("[name=sets]").fill("2")
            page.click("#plan-editor button[type=submit]")
            wait_for(page, "#plan-editor[hidden]", 10)
            mine = next(p for p in httpx.get(server.url + "/api/plans").json() if p["name"] == "Evening core")
            assert [(b["exercise"], b["sets"], b.get("reps"), b.get("hold_s")) for b in mine["blocks"]] == [
                ("squat", 3, 10, None),
                ("plank", 2, None, 40.0),
            ]
            assert page.eval_on_selector("#plan", "s => s.value") == mine["key"]
            assert "2 × 40 s Plank" in page.text_content("#plan-text")
            page.click("#plan-edit")
            page.fill("#plan-editor [name=name]", "Evening core, shorter")
            page.locator("#plan-editor fieldset.block").nth(0).locator(".remove").click()
            page.click("#plan-editor button[type=submit]")
            wait_for(page, "#plan-editor[hidden]", 10)
            edited = next(p for p in httpx.get(server.url + "/api/plans").json() if p["key"] == mine["key"])
            assert edited["name"] == "Evening core, shorter" and len(edited["blocks"]) == 1
            page.click("#plan-delete")
            for _ in range(50):
                if mine["key"] not in {p["key"] for p in httpx.get(server.url + "/api/plans").json()}:
                    break
                time.sleep(0.1)
            else:
                raise AssertionError("the plan was not deleted")
            page.select_option("#plan", "builtin:legs")
            assert page.is_disabled("#plan-delete") and page.text_content("#plan-edit") == "Copy and edit"
        finally:
            browser.close()
