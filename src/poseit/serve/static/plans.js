// Workout plans on the live page: the picker, the editor for the user's own plans (stored on the server) and
// how a plan reads ("3 x 10 squats, rest 60 s").
import { el, fetchJson } from "./util.js";

const JSON_HEADERS = { "content-type": "application/json" };

export const listPlans = () => fetchJson("/api/plans");

export function savePlan(plan, id = null) {
  return fetchJson(id === null ? "/api/plans" : `/api/plans/${encodeURIComponent(id)}`, {
    method: id === null ? "POST" : "PUT",
    headers: JSON_HEADERS,
    body: JSON.stringify(plan),
  });
}

export async function deletePlan(id) {
  const res = await fetch(`/api/plans/${encodeURIComponent(id)}`, { method: "DELETE", credentials: "same-origin" });
  if (!res.ok) throw new Error((await res.json().catch(() => ({}))).detail || `${res.status} ${res.statusText}`);
}

export const startRun = (key) =>
  fetchJson("/api/plan-runs", { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ plan: key }) });

export const endRun = (id, status) =>
  fetchJson(`/api/plan-runs/${encodeURIComponent(id)}/end`, {
    method: "POST",
    headers: JSON_HEADERS,
    body: JSON.stringify({ status }),
  });

/** "3 × 10 squats" / "2 × 30 s plank". */
export function describeBlock(b, names) {
  const name = names[b.exercise] || b.exercise;
  const what = b.hold_s ? `${b.hold_s} s ${name}` : `${b.reps} ${name}`;
  return `${b.sets} × ${what}${b.rest_s ? `, rest ${b.rest_s} s` : ""}`;
}

/** The plan's sets in order: {block, set, sets, exercise, reps, hold_s, rest_s, index, total}. */
export function planSteps(plan) {
  const steps = [];
  plan.blocks.forEach((b, block) => {
    for (let set = 1; set <= b.sets; set++) {
      steps.push({ block, set, sets: b.sets, exercise: b.exercise, reps: b.reps, hold_s: b.hold_s, rest_s: b.rest_s });
    }
  });
  steps.forEach((s, i) => Object.assign(s, { index: i, total: steps.length }));
  return steps;
}

/** The form that creates or edits a user plan. */
export class PlanEditor {
  constructor(form, exercises, onSaved) {
    this.form = form;
    this.exercises = exercises.filter((e) => e.id !== "auto" && e.id !== "any"); // a plan names its exercises
    this.holds = new Set(exercises.filter((e) => e.hold).map((e) => e.id));
    this.onSaved = onSaved;
    this.id = null;
    this.blocks = form.querySelector(".blocks");
    form.querySelector(".add-block").onclick = () => this.addBlock({ exercise: "squat", sets: 3, reps: 10, rest_s: 60 });
    form.querySelector(".cancel").onclick = () => this.close();
    form.onsubmit = (ev) => {
      ev.preventDefault();
      this.save();
    };
  }

  open(plan = null) {
    this.id = plan && !plan.builtin ? plan.id : null;
    this.form.elements.name.value = plan ? (plan.builtin ? `${plan.name} (mine)` : plan.name) : "";
    this.form.elements.description.value = plan ? plan.description : "";
    this.blocks.replaceChildren();
    for (const b of plan ? plan.blocks : [{ exercise: "squat", sets: 3, reps: 10, rest_s: 60 }]) this.addBlock(b);
    this.error("");
    this.form.hidden = false;
    this.form.elements.name.focus();
  }

  close() {
    this.form.hidden = true;
  }

  error(text) {
    this.form.querySelector(".error").textContent = text;
  }

  addBlock(b) {
    const n = this.blocks.children.length + 1;
    const num = (name, value, min, max, step, label) =>
      el("label", {}, label, " ", el("input", { type: "number", name, value: value ?? "", min, max, step, required: true }));
    const select = el(
      "select",
      { name: "exercise" },
      ...this.exercises.map((e) => el("option", { value: e.id, selected: e.id === b.exercise }, e.name)),
    );
    const target = num("target", b.hold_s ?? b.reps, 1, 3600, "any", "");
    const unit = el("span", { className: "unit" });
    const sync = () => {
      unit.textContent = this.holds.has(select.value) ? "s hold" : "reps";
    };
    select.onchange = sync;
    sync();
    const row = el(
      "fieldset",
      { className: "block" },
      el("legend", {}, `Block ${n}`),
      el("label", {}, "Exercise ", select),
      num("sets", b.sets, 1, 20, 1, "Sets"),
      el("span", { className: "target" }, target, " ", unit),
      num("rest_s", b.rest_s, 0, 1800, 1, "Rest s"),
      el("button", { type: "button", className: "secondary remove", ariaLabel: `Remove block ${n}` }, "Remove"),
    );
    target.querySelector("input").setAttribute("aria-label", `Block ${n} target (reps, or seconds for a hold)`);
    row.querySelector(".remove").onclick = () => {
      if (this.blocks.children.length > 1) row.remove();
    };
    this.blocks.append(row);
  }

  value() {
    const blocks = [...this.blocks.children].map((row) => {
      const get = (name) => row.querySelector(`[name="${name}"]`).value;
      const exercise = get("exercise");
      const target = Number(get("target"));
      const block = { exercise, sets: Number(get("sets")), rest_s: Number(get("rest_s")) };
      if (this.holds.has(exercise)) block.hold_s = target;
      else block.reps = Math.round(target);
      return block;
    });
    return { name: this.form.elements.name.value, description: this.form.elements.description.value, blocks };
  }

  async save() {
    try {
      const saved = await savePlan(this.value(), this.id);
      this.close();
      this.onSaved(saved);
    } catch (err) {
      this.error(err.message); // the server's one-line reason, e.g. "blocks.0.reps: Input should be ..."
    }
  }
}
