// The history page: sessions over time (chart + table), and one session's reps and form issues.
import { el, fetchJson, svg } from "./util.js";

const $ = (id) => document.getElementById(id);
const fmt = (v, d = 2) => (v === null || v === undefined ? "–" : Number(v).toFixed(d));
const when = (t) => new Date(t * 1000).toLocaleString();

function barChart(container, values, labels, title) {
  const w = 640, h = 180, pad = 28;
  const max = Math.max(1, ...values);
  const bw = (w - pad * 2) / Math.max(1, values.length);
  const chart = svg("svg", { viewBox: `0 0 ${w} ${h}`, role: "img", "aria-label": title });
  chart.append(svg("text", { x: pad, y: 14, class: "chart-title" }, title));
  chart.append(svg("line", { x1: pad, y1: h - pad, x2: w - pad, y2: h - pad, class: "axis" }));
  chart.append(svg("text", { x: 2, y: pad + 4, class: "tick" }, String(max)));
  values.forEach((v, i) => {
    const bh = ((h - pad * 2) * v) / max;
    const bar = svg("rect", { x: pad + i * bw + 2, y: h - pad - bh, width: Math.max(1, bw - 4), height: bh, class: "bar" });
    bar.append(svg("title", {}, `${labels[i]}: ${v}`));
    chart.append(bar);
    if (values.length <= 20) {
      chart.append(svg("text", { x: pad + i * bw + bw / 2, y: h - pad + 14, class: "tick", "text-anchor": "middle" }, labels[i]));
    }
  });
  container.replaceChildren(chart);
}

async function showSession(id) {
  const s = await fetchJson(`/api/sessions/${encodeURIComponent(id)}`);
  $("detail").hidden = false;
  const name = s.counted_as && s.counted_as !== s.exercise ? `${s.exercise} → ${s.counted_as}` : s.exercise;
  $("detail-title").textContent = `Session ${s.id}: ${name}, ${when(s.started_at)}`;
  $("detail-csv").href = `/api/sessions/${s.id}/reps.csv`;
  const complete = s.rep_events.filter((r) => r.complete);
  barChart(
    $("rep-chart"),
    complete.map((r) => Number(fmt(r.duration_s, 1)) || 0),
    complete.map((r) => String(r.number)),
    "seconds per rep",
  );
  $("reps").tBodies[0].replaceChildren(
    ...s.rep_events.map((r) =>
      el(
        "tr",
        {},
        ...[
          r.number,
          r.complete ? "yes" : "partial",
          fmt(r.start_s),
          fmt(r.turn_s),
          fmt(r.end_s),
          fmt(r.duration_s),
          fmt(r.depth, 2),
          fmt(r.symmetry, 2),
          r.issues,
        ].map(
          (v) => el("td", {}, String(v)),
        ),
      ),
    ),
  );
  $("issues").replaceChildren(
    ...s.form_issues.map((i) =>
      el("li", { className: `sev-${i.severity}` }, `${i.rep ? `rep ${i.rep}` : "hold"} at ${fmt(i.time_s, 1)} s, ${i.severity}: ${i.message}`),
    ),
  );
}

const target = (s) => (s.target_hold_s ? `${fmt(s.target_hold_s, 0)} s` : s.target_reps ? `${s.target_reps} reps` : "–");
const done = (s) => (s.target_hold_s ? `${fmt(s.hold_s, 1)} s` : `${s.reps} reps`);

/** A plan run's sets against their targets, and its totals. */
async function showRun(id) {
  const run = await fetchJson(`/api/plan-runs/${encodeURIComponent(id)}`);
  $("run-detail").hidden = false;
  $("detail").hidden = true;
  $("run-title").textContent = `Workout ${run.id}: ${run.plan_name}, ${when(run.started_at)}`;
  const planned = run.plan.blocks.reduce((n, b) => n + b.sets, 0);
  const reps = run.sets.reduce((n, s) => n + s.reps, 0);
  const goal = run.plan.blocks.reduce((n, b) => n + (b.reps ? b.reps * b.sets : 0), 0);
  const met = run.sets.filter((s) => (s.target_hold_s ? (s.hold_s ?? 0) >= s.target_hold_s : s.reps >= s.target_reps));
  const minutes = run.ended_at ? `, ${fmt((run.ended_at - run.started_at) / 60, 1)} minutes` : "";
  $("run-total").textContent =
    `${run.sets.length} of ${planned} sets done, ${met.length} at their target; ${reps} of ${goal} reps${minutes} (${run.status}).`;
  $("run-sets").tBodies[0].replaceChildren(
    ...run.sets.map((s) => {
      const block = run.plan.blocks[s.plan_block] || { sets: "?" };
      const seconds = s.ended_at ? fmt(s.ended_at - s.started_at, 0) : "–";
      const link = el("a", { href: `#${s.id}` }, `#${s.id}`);
      const cells = [`${s.plan_block + 1}.${s.plan_set} of ${block.sets}`, s.counted_as || s.exercise, target(s), done(s), s.partial_reps, seconds];
      return el("tr", {}, ...cells.map((v) => el("td", {}, String(v))), el("td", {}, link));
    }),
  );
}

async function showRuns() {
  const runs = await fetchJson("/api/plan-runs?limit=100");
  $("runs-empty").hidden = runs.length > 0;
  $("runs").tBodies[0].replaceChildren(
    ...runs.map((r) => {
      const planned = r.plan.blocks.reduce((n, b) => n + b.sets, 0);
      const minutes = r.ended_at ? (r.ended_at - r.started_at) / 60 : null;
      const reps = r.sets.reduce((n, s) => n + s.reps, 0);
      const cells = [r.id, when(r.started_at), r.plan_name, `${r.sets.length} / ${planned}`, reps, fmt(minutes, 1), r.status];
      const row = el("tr", { tabIndex: 0, className: "link" }, ...cells.map((v) => el("td", {}, String(v))));
      const open = () => {
        location.hash = `plan-${r.id}`;
      };
      row.onclick = open;
      row.onkeydown = (ev) => ev.key === "Enter" && open();
      return row;
    }),
  );
}

async function init() {
  await showRuns();
  const sessions = await fetchJson("/api/sessions?limit=200");
  $("empty").hidden = sessions.length > 0;
  const ordered = [...sessions].reverse();
  barChart(
    $("chart"),
    ordered.map((s) => s.reps),
    ordered.map((s) => new Date(s.started_at * 1000).toLocaleDateString(undefined, { month: "short", day: "numeric" })),
    "reps per session",
  );
  $("sessions").tBodies[0].replaceChildren(
    ...sessions.map((s) => {
      const minutes = s.ended_at ? (s.ended_at - s.started_at) / 60 : null;
      const row = el(
        "tr",
        { tabIndex: 0, className: "link" },
        ...[s.id, when(s.started_at), s.counted_as || s.exercise, s.reps, s.partial_reps, fmt(s.hold_s, 1), fmt(minutes, 1), s.status].map(
          (v) => el("td", {}, String(v)),
        ),
      );
      const open = () => {
        location.hash = String(s.id);
      };
      row.onclick = open;
      row.onkeydown = (ev) => ev.key === "Enter" && open();
      return row;
    }),
  );
  const fromHash = () => {
    const id = location.hash.slice(1);
    if (/^\d+$/.test(id)) {
      $("run-detail").hidden = true;
      showSession(id).catch((err) => ($("detail-title").textContent = err.message));
    } else if (/^plan-\d+$/.test(id)) {
      showRun(id.slice(5)).catch((err) => ($("run-title").textContent = err.message));
    }
  };
  window.onhashchange = fromHash;
  fromHash();
}

init().catch((err) => {
  $("empty").hidden = false;
  $("empty").textContent = err.message;
});
