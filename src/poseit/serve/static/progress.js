// The progress page: one exercise over days (volume, tempo, range of motion) as small inline SVG charts, the
// personal records and the days as a table; CSV per day.
import { el, fetchJson, svg } from "./util.js";

const $ = (id) => document.getElementById(id);
const TZ = new Date().getTimezoneOffset();
const short = (day) => new Date(`${day}T12:00:00`).toLocaleDateString(undefined, { month: "short", day: "numeric" });
const fmt = (v, d = 2) => (v === null || v === undefined ? "–" : Number(v).toFixed(d));

/** A small chart of one value per day: bars (volume) or a line with dots (tempo, range of motion); days without
 *  a value are gaps. `lowerIsBetter` only changes the caption. */
function chart(container, days, key, title, { kind = "line", digits = 1, note = "" } = {}) {
  const w = 640, h = 190, padL = 40, padR = 12, padT = 26, padB = 30;
  const points = days.map((d, i) => ({ i, day: d.day, v: d[key] })).filter((p) => p.v !== null && p.v !== undefined);
  const root = svg("svg", { viewBox: `0 0 ${w} ${h}`, role: "img", "aria-label": `${title}${note ? `, ${note}` : ""}` });
  root.dataset.points = String(points.length);
  root.append(svg("text", { x: padL, y: 15, class: "chart-title" }, title + (note ? ` (${note})` : "")));
  if (!points.length) {
    root.append(svg("text", { x: padL, y: h / 2, class: "tick" }, "no data yet"));
    container.replaceChildren(root);
    return;
  }
  const vals = points.map((p) => p.v);
  const lo = kind === "bar" ? 0 : Math.min(...vals) * 0.9;
  const hi = Math.max(...vals) * (kind === "bar" ? 1 : 1.1) || 1;
  const step = (w - padL - padR) / Math.max(1, days.length);
  const x = (i) => padL + step * (i + 0.5);
  const y = (v) => h - padB - ((h - padT - padB) * (v - lo)) / (hi - lo || 1);
  root.append(svg("line", { x1: padL, y1: h - padB, x2: w - padR, y2: h - padB, class: "axis" }));
  root.append(svg("text", { x: 2, y: padT + 4, class: "tick" }, fmt(hi, digits)));
  root.append(svg("text", { x: 2, y: h - padB, class: "tick" }, fmt(lo, digits)));
  if (kind === "bar") {
    for (const p of points) {
      const bar = svg("rect", { x: x(p.i) - step * 0.35, y: y(p.v), width: step * 0.7, height: h - padB - y(p.v), class: "bar" });
      bar.append(svg("title", {}, `${short(p.day)}: ${fmt(p.v, digits)}`));
      root.append(bar);
    }
  } else {
    root.append(svg("polyline", { points: points.map((p) => `${x(p.i)},${y(p.v)}`).join(" "), class: "trend" }));
    for (const p of points) {
      const dot = svg("circle", { cx: x(p.i), cy: y(p.v), r: 4, class: "dot" });
      dot.append(svg("title", {}, `${short(p.day)}: ${fmt(p.v, digits)}`));
      root.append(dot);
    }
  }
  const every = Math.max(1, Math.ceil(days.length / 10));
  days.forEach((d, i) => {
    if (i % every === 0) root.append(svg("text", { x: x(i), y: h - padB + 16, class: "tick", "text-anchor": "middle" }, short(d.day)));
  });
  container.replaceChildren(root);
}

async function show(exercise) {
  const q = `exercise=${encodeURIComponent(exercise)}&tz=${TZ}`;
  const p = await fetchJson(`/api/progress?${q}`);
  $("csv").href = `/api/progress.csv?${q}`;
  const hold = p.days.some((d) => d.hold_s !== null) && p.days.every((d) => d.reps === 0);
  chart($("volume"), p.days, hold ? "hold_s" : "reps", hold ? "seconds held per day" : "reps per day", { kind: "bar", digits: 0 });
  chart($("tempo"), p.days, "median_rep_s", "seconds per rep (median of the day)", { note: "tempo" });
  chart($("rom"), p.days, "mean_depth", "depth at the turn (mean of the day)", {
    digits: 2,
    note: "range of motion; 1 = the exercise's turn threshold",
  });
  chart($("symmetry"), p.days, "mean_symmetry", "left/right symmetry (mean of the day)", {
    digits: 2,
    note: "1 = both sides through the same range; reps seen from the front",
  });
  $("records").replaceChildren(
    ...p.records.map((r) => {
      const when = el("a", { href: r.session ? `/history#${r.session}` : "/history" }, short(r.day));
      return el("li", {}, el("b", {}, `${r.what}: `), `${fmt(r.value, r.unit === "reps" ? 0 : r.unit === "s" ? 1 : 2)} ${r.unit}, `, when);
    }),
  );
  $("days").tBodies[0].replaceChildren(
    ...[...p.days].reverse().map((d) =>
      el(
        "tr",
        {},
        ...[d.day, d.sessions, d.reps, d.best_set, fmt(d.hold_s, 1), fmt(d.median_rep_s), fmt(d.mean_depth), fmt(d.mean_symmetry)].map((v) =>
          el("td", {}, String(v)),
        ),
      ),
    ),
  );
  document.body.dataset.exercise = exercise;
}

async function init() {
  const first = await fetchJson(`/api/progress?tz=${TZ}`);
  $("empty").hidden = first.exercises.length > 0;
  $("exercise").replaceChildren(...first.exercises.map((e) => el("option", { value: e.id }, `${e.name} (${e.sessions})`)));
  $("exercise").onchange = () => show($("exercise").value);
  const wanted = new URLSearchParams(location.search).get("exercise");
  if (wanted && first.exercises.some((e) => e.id === wanted)) $("exercise").value = wanted;
  if (first.exercises.length) await show($("exercise").value);
  document.body.dataset.ready = "1";
}

init().catch((err) => {
  $("empty").hidden = false;
  $("empty").textContent = err.message;
});
