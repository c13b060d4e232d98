// The live page: exercise picker, camera / file / demo source, the live overlay and "Analyse a recording".
import { clear, drawSkeleton } from "./draw.js";
import { LiveSession } from "./live.js";
import { el, fetchJson, fillExercises } from "./util.js";

const $ = (id) => document.getElementById(id);
const video = $("video");
const overlay = $("overlay");
let session = null;
let skeleton = null;
let fileUrl = null;
let frames = [];

function setStatus(text, kind = "") {
  $("status").textContent = text;
  $("status").className = kind;
}

async function openSource(kind) {
  video.srcObject = null;
  video.removeAttribute("src");
  video.loop = false;
  if (kind === "camera") {
    if (!navigator.mediaDevices?.getUserMedia) throw new Error("this browser gives no camera access here");
    video.srcObject = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: "user" },
      audio: false,
    });
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

async function start() {
  $("start").disabled = true;
  $("summary").hidden = true;
  frames = [];
  const kind = $("source").value;
  try {
    await openSource(kind);
  } catch (err) {
    setStatus(`Cannot open the ${kind}: ${err.message}`, "error");
    $("start").disabled = false;
    return;
  }
  session = new LiveSession(video, {
    hello: (msg) => (skeleton = msg.skeleton),
    started: () => {
      setStatus("Live", "ok");
      $("stop").disabled = false;
    },
    result: (msg, latency) => {
      if ($("status").className === "warn") setStatus("Live", "ok"); // back after a reconnect
      showResult(msg, latency);
    },
    error: (msg) => {
      // on a cluster, a session whose server went away goes on on another one after a short "reconnecting"
      if (msg.code === "reconnecting") setStatus("Reconnecting…", "warn");
      else if (msg.code !== "too_fast" && msg.code !== "dropped") setStatus(`${msg.code}: ${msg.message}`, "error");
    },
    summary: showSummary,
    closed: (reason) => {
      closeSource();
      setStatus(reason === "session over" ? "Done" : `Stopped: ${reason}`);
      $("start").disabled = false;
      $("stop").disabled = true;
    },
  });
  session.open($("exercise").value, kind);
  video.onended = () => session && session.stop();
}

function stop() {
  $("stop").disabled = true;
  if (session) session.stop();
  video.pause();
}

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
  clear(overlay);
  document.body.dataset.ready = "1";
}

init().catch((err) => setStatus(err.message, "error"));
