// The live page: exercise picker, camera / file / demo source, the live overlay, workout plans run hands-free
// (voice, large numbers, keyboard), the phone-as-camera link and "Analyse a recording".
import { clear, drawSkeleton } from "./draw.js";
import { LiveSession } from "./live.js";
import { PlanEditor, deletePlan, describeBlock, endRun, listPlans, startRun } from "./plans.js";
import { PlanRunner } from "./runner.js";
import { el, fetchJson, fillExercises } from "./util.js";
import { Voice } from "./voice.js";

const $ = (id) => document.getElementById(id);
const video = $("video");
const overlay = $("overlay");
const voice = new Voice($("announce"));
let session = null; // the LiveSession in progress
let runner = null; // the PlanRunner in progress
let skeleton = null;
let fileUrl = null;
let frames = [];
let names = {}; // exercise id -> name
let plans = [];
let editor = null;
let heard = { reps: 0, holdTens: 0, feedback: new Set() }; // what the voice has said of this session

function setStatus(text, kind = "") {
  $("status").textContent = text;
  $("status").className = kind;
}

/** What to ask the camera for: about 720p on the long side and no aspect ratio, so the camera keeps its own shape
 *  and nothing is cropped away; the long side is the height where the screen is upright (a phone held upright,
 *  whose browser reports its camera turned), so the whole person stays in the picture. */
function cameraConstraints() {
  const portrait = window.matchMedia("(orientation: portrait)").matches;
  return { facingMode: "user", ...(portrait ? { height: { ideal: 1280 } } : { width: { ideal: 1280 } }) };
}

async function openSource(kind, loop = false) {
  video.srcObject = null;
  video.removeAttribute("src");
  video.loop = loop && kind !== "camera";
  if (kind === "camera") {
    if (!navigator.mediaDevices?.getUserMedia) {
      const why = window.isSecureContext ? "" : " (a camera needs HTTPS off this machine: poseit serve --tls)";
      throw new Error(`this browser gives no camera access here${why}`);
    }
    video.srcObject = await navigator.mediaDevices.getUserMedia({ video: cameraConstraints(), audio: false });
  } else if (kind === "demo") {
    video.src = "/demo.mp4";
  } else {
    const file = $("file").files[0];
    if (!file) throw new Error("choose a video file first");
    if (fileUrl) URL.revokeObjectURL(fileUrl);
    fileUrl = URL.createObjectURL(file);
    video.src = fileUrl;
  }
  await video.play();
}

function closeSource() {
  video.pause();
  if (video.srcObject) for (const track of video.srcObject.getTracks()) track.stop();
  video.srcObject = null;
}

const evidence = new Map(); // "rule@time" -> object URL of the frame the message refers to

/** One feedback message with its measured value and, where the page still has it, the frame it refers to. */
function feedbackItem(f) {
  const measured =
    f.value !== null && f.value !== undefined && f.threshold !== null && f.threshold !== undefined
      ? ` (measured ${f.value.toFixed(1)}${f.uncertainty ? ` ± ${f.uncertainty.toFixed(1)}` : ""}; threshold ${f.threshold})`
      : "";
  const li = el("li", { className: `sev-${f.severity}` }, `${f.severity}: ${f.message}${measured}`);
  const key = `${f.rule}@${f.time_s}`;
  if (!evidence.has(key) && session) {
    const jpeg = session.frameAt(f.time_s);
    if (jpeg) evidence.set(key, URL.createObjectURL(jpeg));
  }
  if (evidence.has(key)) {
    li.append(el("br"), el("img", { src: evidence.get(key), alt: "the moment this refers to", className: "evidence" }));
  }
  return li;
}

function showResult(msg, latency) {
  drawSkeleton(overlay, skeleton, msg);
  $("reps").textContent = msg.reps;
  $("partial").textContent = msg.partial_reps;
  $("phase").textContent = msg.phase;
  $("exercise-name").textContent = msg.exercise_name;
  $("hold-line").hidden = msg.hold_s === null || msg.hold_s === undefined;
  if (msg.hold_s !== null && msg.hold_s !== undefined) $("hold").textContent = msg.hold_s.toFixed(1);
  $("feedback").replaceChildren(...msg.feedback.map(feedbackItem));
  const now = performance.now();
  frames.push(now);
  while (frames.length && now - frames[0] > 2000) frames.shift();
  const fps = frames.length > 1 ? ((frames.length - 1) * 1000) / (now - frames[0]) : 0;
  $("fps").textContent = fps.toFixed(1);
  if (Number.isFinite(latency)) $("latency").textContent = latency.toFixed(0);
  overlay.dataset.people = String(msg.people.length);
  document.body.dataset.reps = String(msg.reps);
}

/** The voice's part of a result: new form cues first (an error outranks a count), then the count as a rep
 *  ends, or every 10 s of a hold. */
function speakResult(msg) {
  for (const f of msg.feedback) {
    const key = `${f.rule}@${f.time_s}`;
    if (heard.feedback.has(key)) continue;
    heard.feedback.add(key);
    if (f.severity !== "info") voice.say(f.message, f.severity === "error" ? "form_error" : "form", f.rule);
  }
  if (msg.reps > heard.reps) voice.say(String(msg.reps), "count");
  heard.reps = Math.max(heard.reps, msg.reps);
  if (msg.hold_s !== null && msg.hold_s !== undefined) {
    const tens = Math.floor(msg.hold_s / 10);
    if (tens > heard.holdTens) voice.say(`${tens * 10} seconds`, "count");
    heard.holdTens = Math.max(heard.holdTens, tens);
  }
}

function showSummary(msg) {
  const hold = msg.hold_s !== null && msg.hold_s !== undefined ? `, held ${msg.hold_s.toFixed(1)} s` : "";
  $("summary-text").textContent =
    `${msg.exercise}: ${msg.reps} reps${msg.uncertain ? ` (uncertain count: confidence ${msg.confidence.toFixed(2)}; please check)` : ""}, ` +
    `${msg.partial_reps ?? 0} partial${hold} over ${msg.frames} frames.`;
  $("summary-issues").replaceChildren(
    ...msg.form_issues.map((i) =>
      el("li", { className: `sev-${i.severity}` }, `${i.rep ? `rep ${i.rep}` : "hold"}: ${i.message}`),
    ),
  );
  $("summary-link").href = msg.session ? `/history#${msg.session}` : "/history";
  $("summary").hidden = false;
}

/** A live session on the open source until it ends: resolves with {summary (or null), reason}. */
function liveSession(exercise, kind, plan = null) {
  frames = [];
  heard = { reps: 0, holdTens: 0, feedback: new Set() };
  return new Promise((resolve) => {
    let summary = null;
    const s = new LiveSession(video, {
      hello: (msg) => (skeleton = msg.skeleton),
      started: () => {
        setStatus("Live", "ok");
        $("stop").disabled = false;
      },
      result: (msg, latency) => {
        if ($("status").className === "warn") setStatus("Live", "ok"); // back after a reconnect
        showResult(msg, latency);
        speakResult(msg);
        if (runner) runner.result(msg);
      },
      error: (msg) => {
        // on a cluster, a session whose server went away goes on on another one after a short "reconnecting"
        if (msg.code === "reconnecting") setStatus("Reconnecting…", "warn");
        else if (msg.code === "bad_plan") s.end(msg.message);
        else if (msg.code !== "too_fast" && msg.code !== "dropped") setStatus(`${msg.code}: ${msg.message}`, "error");
      },
      summary: (msg) => (summary = msg),
      closed: (reason) => {
        if (session === s) session = null;
        $("stop").disabled = true;
        resolve({ summary, reason });
      },
    });
    session = s;
    s.open(exercise, kind, plan);
  });
}

/** The stage as wide as it can be while the whole picture (landscape or portrait) fits the screen's height. */
function fitStage() {
  if (video.videoWidth && video.videoHeight) {
    $("stage").style.maxWidth = `calc(78vh * ${(video.videoWidth / video.videoHeight).toFixed(4)})`;
  }
}

function busy(on) {
  for (const id of ["start", "plan-start", "plan-new", "plan-edit", "plan-delete", "exercise", "source", "plan"]) {
    $(id).disabled = on;
  }
  if (!on) planPicked();
}

async function start() {
  busy(true);
  $("summary").hidden = true;
  const kind = $("source").value;
  try {
    await openSource(kind);
  } catch (err) {
    setStatus(`Cannot open the ${kind}: ${err.message}`, "error");
    busy(false);
    return;
  }
  video.onended = () => session && session.stop();
  const { summary, reason } = await liveSession($("exercise").value, kind);
  video.onended = null;
  closeSource();
  if (summary) showSummary(summary);
  setStatus(reason === "session over" ? "Done" : `Stopped: ${reason}`);
  busy(false);
}

function stop() {
  if (runner) {
    runner.stop();
    return;
  }
  $("stop").disabled = true;
  if (session) session.stop();
  video.pause();
}

// --- workout plans ----------------------------------------------------------------------------------------
function selectedPlan() {
  return plans.find((p) => p.key === $("plan").value) || null;
}

function planPicked() {
  const plan = selectedPlan();
  $("plan-text").textContent = plan
    ? `${plan.description ? `${plan.description} ` : ""}${plan.blocks.map((b) => describeBlock(b, names)).join("; ")}.`
    : "";
  $("plan-edit").textContent = plan && plan.builtin ? "Copy and edit" : "Edit";
  $("plan-delete").disabled = !plan || plan.builtin || !!runner;
}

async function loadPlans(chosen = null) {
  plans = await listPlans();
  const group = (label, list) =>
    el("optgroup", { label }, ...list.map((p) => el("option", { value: p.key, selected: p.key === chosen }, p.name)));
  const mine = plans.filter((p) => !p.builtin);
  $("plan").replaceChildren(group("Built in", plans.filter((p) => p.builtin)), ...(mine.length ? [group("My plans", mine)] : []));
  planPicked();
}

function showPlanState(state) {
  const step = state.step;
  document.body.dataset.plan = state.phase;
  document.body.dataset.planSet = step ? String(step.index + 1) : "";
  const inSet = state.phase === "set";
  const over = state.phase === "ended" || state.phase === "stopped";
  $("plan-step").hidden = over;
  $("plan-controls").hidden = over;
  if (step && !over) {
    const name = names[step.exercise] || step.exercise;
    const what = step.hold_s ? `hold ${step.hold_s} s` : `${step.reps} reps`;
    const prefix = inSet ? "" : "Next: ";
    $("plan-step").textContent = `${prefix}set ${step.index + 1} of ${step.total} · ${name} · ${what}`;
    $("target").textContent = step.hold_s ? "" : ` / ${step.reps}`;
  }
  $("rest").hidden = !(state.phase === "rest" || state.phase === "ready");
  $("rest-label").textContent = state.phase === "ready" ? "Get ready" : "Rest";
  if (state.left !== undefined) $("rest-left").textContent = String(state.left);
  $("plan-pause").textContent = state.paused ? "Resume" : "Pause";
  $("plan-pause").setAttribute("aria-pressed", String(state.paused));
  $("plan-skip").textContent = inSet ? "End set" : state.phase === "ready" ? "Start now" : "Skip rest";
}

function showPlanSummary(run, status, done) {
  const total = run.plan.blocks.reduce((n, b) => n + b.sets, 0);
  $("summary-text").textContent = `${run.plan.name}: ${done.length} of ${total} sets ${status === "ended" ? "done" : "done before you stopped"}.`;
  $("summary-issues").replaceChildren(
    ...done.map(({ step, summary }) => {
      const name = names[step.exercise] || step.exercise;
      const got = step.hold_s
        ? `${(summary?.hold_s ?? 0).toFixed(1)} of ${step.hold_s} s`
        : `${summary?.reps ?? 0} of ${step.reps} reps`;
      return el("li", {}, `Set ${step.index + 1}: ${name}, ${got}`);
    }),
  );
  $("summary-link").href = `/history#plan-${run.id}`;
  $("summary").hidden = false;
}

async function startPlan() {
  const plan = selectedPlan();
  if (!plan) return;
  busy(true);
  $("summary").hidden = true;
  const kind = $("source").value;
  let run;
  try {
    await openSource(kind, true);
    run = await startRun(plan.key);
  } catch (err) {
    setStatus(`Cannot start the plan: ${err.message}`, "error");
    closeSource();
    busy(false);
    return;
  }
  const readyS = Math.max(0, Number($("ready-s").value) || 0);
  localStorage.setItem("poseit.ready_s", String(readyS));
  runner = new PlanRunner(
    run,
    {
      runSet: async (step) => {
        $("reps").textContent = "0";
        document.body.dataset.reps = "0";
        const { summary, reason } = await liveSession(step.exercise, kind, { run: run.id, block: step.block, set: step.set });
        clear(overlay); // the rest shows no stale skeleton
        if (!summary && runner && !runner.stopped) {
          setStatus(`The set ended early: ${reason}`, "error");
          runner.stop();
        }
        return summary;
      },
      endSet: () => session && session.stop(),
      pauseSet: (paused) => {
        if (session) session.pause(paused);
        if (kind !== "camera" && paused) video.pause();
        else if (kind !== "camera") video.play().catch(() => {});
      },
      say: (text, kind) => voice.say(text, kind),
      show: showPlanState,
    },
    names,
    readyS,
  );
  setStatus(`Plan: ${plan.name}`, "ok");
  document.body.classList.add("running");
  $("live").scrollIntoView({ block: "start" });
  $("stop").disabled = false;
  const status = await runner.start();
  const done = runner.done;
  runner = null;
  document.body.classList.remove("running");
  clear(overlay);
  await endRun(run.id, status).catch((err) => setStatus(err.message, "error"));
  closeSource();
  $("target").textContent = "";
  showPlanSummary(run, status, done);
  if ($("status").className !== "error") setStatus(status === "ended" ? "Plan done" : "Plan stopped");
  $("stop").disabled = true;
  busy(false);
  $("summary").focus();
}

// --- voice, large numbers, keyboard -------------------------------------------------------------------------
function showMute() {
  $("mute").setAttribute("aria-pressed", String(voice.muted));
  $("mute").textContent = voice.muted ? "Voice off" : "Voice on";
  if (!voice.available) {
    $("mute").disabled = true;
    $("mute").textContent = "No voice in this browser";
  }
}

function toggleMute() {
  voice.setMuted(!voice.muted);
  showMute();
}

function setLarge(on) {
  document.body.classList.toggle("large", on);
  $("large").setAttribute("aria-pressed", String(on));
  localStorage.setItem("poseit.large", on ? "1" : "0");
}

function onKey(ev) {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const tag = ev.target.tagName;
  if (ev.key !== "Escape" && (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA")) return;
  const key = ev.key.toLowerCase();
  if (key === "m" && voice.available) toggleMute();
  else if (key === "l") setLarge(!document.body.classList.contains("large"));
  else if (key === "p" && runner) runner.pause();
  else if (key === "n" && runner) runner.skip();
  else if (ev.key === "Escape" && (runner || session)) stop();
  else return;
  ev.preventDefault();
}

// --- a phone as the camera ----------------------------------------------------------------------------------
async function togglePhone() {
  const panel = $("phone-panel");
  panel.hidden = !panel.hidden;
  $("phone").setAttribute("aria-expanded", String(!panel.hidden));
  if (panel.hidden) return;
  try {
    const info = await fetchJson("/api/phone");
    $("phone-text").textContent = info.note;
    $("phone-url").textContent = info.url || "";
    $("phone-url").href = info.url || "#";
    $("phone-url").hidden = !info.url;
    $("phone-qr").replaceChildren(
      ...(info.url ? [el("img", { src: `/api/phone.svg?v=${Date.now()}`, alt: `QR code of ${info.url}`, width: 240, height: 240 })] : []),
    );
  } catch (err) {
    $("phone-text").textContent = err.message;
  }
}

// --- analyse a recording ------------------------------------------------------------------------------------
async function analyse() {
  const file = $("upload").files[0];
  if (!file) return;
  $("analyse-go").disabled = true;
  $("analyse-status").textContent = "Analysing… (the server runs the whole video)";
  try {
    const exercise = encodeURIComponent($("upload-exercise").value);
    const res = await fetchJson(`/api/analyze?exercise=${exercise}`, {
      method: "POST",
      body: file,
      headers: { "content-type": "application/octet-stream" },
    });
    const s = res.summary;
    const what = s.mode === "hold" ? `held ${s.hold_s.toFixed(1)} s` : `${s.reps} reps, ${s.partial_reps} partial`;
    $("analyse-summary").textContent = `${s.name}: ${what}; ${s.form_issues.length} form notes.`;
    $("report").src = res.report;
    $("analyse-result").hidden = false;
    $("analyse-status").textContent = "";
  } catch (err) {
    $("analyse-status").textContent = err.message;
  } finally {
    $("analyse-go").disabled = false;
  }
}

async function init() {
  const exercises = await fetchJson("/api/exercises");
  names = Object.fromEntries(exercises.map((e) => [e.id, e.name]));
  fillExercises($("exercise"), exercises, "squat");
  fillExercises($("upload-exercise"), exercises, "auto");
  const demo = await fetchJson("/api/demo");
  const demoOption = $("source").querySelector('option[value="demo"]');
  demoOption.hidden = !demo.available;
  $("source").onchange = () => {
    if ($("source").value === "file") $("file").click();
  };
  $("start").onclick = start;
  $("stop").onclick = stop;
  $("upload").onchange = () => ($("analyse-go").disabled = !$("upload").files.length);
  $("analyse-go").onclick = analyse;

  editor = new PlanEditor($("plan-editor"), exercises, (saved) => {
    loadPlans(saved.key).then(() => setStatus(`Saved plan “${saved.name}”`, "ok"));
  });
  await loadPlans();
  $("plan").onchange = planPicked;
  $("plan-start").onclick = startPlan;
  $("plan-new").onclick = () => editor.open();
  $("plan-edit").onclick = () => editor.open(selectedPlan());
  $("plan-delete").onclick = async () => {
    const plan = selectedPlan();
    if (!plan || plan.builtin) return;
    try {
      await deletePlan(plan.id);
      await loadPlans();
      setStatus(`Deleted plan “${plan.name}”`);
    } catch (err) {
      setStatus(err.message, "error");
    }
  };
  $("plan-pause").onclick = () => runner && runner.pause();
  $("plan-skip").onclick = () => runner && runner.skip();
  $("plan-stop").onclick = () => runner && runner.stop();
  const ready = localStorage.getItem("poseit.ready_s");
  if (ready !== null) $("ready-s").value = ready;

  $("mute").onclick = toggleMute;
  showMute();
  $("large").onclick = () => setLarge(!document.body.classList.contains("large"));
  setLarge(localStorage.getItem("poseit.large") === "1");
  $("phone").onclick = togglePhone;
  video.addEventListener("loadedmetadata", fitStage);
  video.addEventListener("resize", fitStage);
  document.addEventListener("keydown", onKey);
  clear(overlay);
  document.body.dataset.ready = "1";
}

init().catch((err) => setStatus(err.message, "error"));
