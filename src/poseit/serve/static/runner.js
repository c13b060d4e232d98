// Running a workout plan hands-free: get ready, each set as its own live session that ends at its target (or on
// a tap), the rest timer with a spoken countdown, then the next set; pause, skip and stop.
import { planSteps } from "./plans.js";

const tick = () => new Promise((ok) => setTimeout(ok, 100));

export class PlanRunner {
  /** run: the server's plan run ({id, plan}); hooks: {runSet(step) -> Promise<summary|null>, endSet(),
   *  pauseSet(paused), say(text, kind), show(state)}; names: exercise id -> name; readyS: get-ready seconds. */
  constructor(run, hooks, names, readyS = 10) {
    this.run = run;
    this.hooks = hooks;
    this.names = names;
    this.readyS = readyS;
    this.steps = planSteps(run.plan);
    this.phase = "ready";
    this.paused = false;
    this.skipping = false;
    this.stopped = false;
    this.done = []; // [{step, summary}]
  }

  name(step) {
    return this.names[step.exercise] || step.exercise;
  }

  target(step) {
    return step.hold_s ? `hold ${step.hold_s} seconds` : `${step.reps} reps`;
  }

  state(extra = {}) {
    this.hooks.show({ phase: this.phase, paused: this.paused, step: this.current, steps: this.steps, ...extra });
  }

  /** Runs the whole plan; resolves with "ended" (every set done) or "stopped". */
  async start() {
    const first = this.steps[0];
    this.current = first;
    this.hooks.say(`${this.run.plan.name}. First: ${this.name(first)}, ${this.target(first)}. Get ready.`, "plan");
    await this.countdown("ready", this.readyS);
    for (const step of this.steps) {
      if (this.stopped) break;
      this.current = step;
      this.phase = "set";
      this.state();
      const of = step.sets > 1 ? `, set ${step.set} of ${step.sets}` : "";
      this.hooks.say(`${this.name(step)}${of}: ${this.target(step)}. Go!`, "plan");
      const summary = await this.hooks.runSet(step);
      this.ending = false;
      this.done.push({ step, summary });
      if (this.stopped) break;
      const next = this.steps[step.index + 1];
      if (!next) break;
      const got = summary ? (step.hold_s ? `${(summary.hold_s ?? 0).toFixed(0)} seconds` : `${summary.reps} reps`) : "";
      const rest = step.rest_s > 0 ? ` Rest ${step.rest_s} seconds.` : "";
      const nextOf = next.sets > 1 ? `, set ${next.set} of ${next.sets}` : "";
      this.hooks.say(`Set done${got ? `: ${got}` : ""}.${rest} Next: ${this.name(next)}${nextOf}.`, "plan");
      this.current = next;
      if (step.rest_s > 0) await this.countdown("rest", step.rest_s);
    }
    const status = this.stopped ? "stopped" : "ended";
    const reps = this.done.reduce((n, d) => n + (d.summary?.reps ?? 0), 0);
    this.phase = status;
    this.state();
    this.hooks.say(
      status === "ended"
        ? `Workout complete: ${this.done.length} sets, ${reps} reps. Well done!`
        : `Workout stopped after ${this.done.length} sets.`,
      "plan",
    );
    return status;
  }

  /** The get-ready or rest timer: counts down (frozen while paused), says 3, 2, 1; skip ends it at once. */
  async countdown(phase, seconds) {
    this.phase = phase;
    let left = seconds * 1000;
    let last = performance.now();
    let spoken = Math.ceil(left / 1000) + 1;
    this.skipping = false;
    while (left > 0 && !this.skipping && !this.stopped) {
      const whole = Math.ceil(left / 1000);
      this.state({ left: whole });
      if (whole <= 3 && whole < spoken) {
        spoken = whole;
        this.hooks.say(String(whole), "countdown");
      } else if (whole === 10 && seconds > 15 && whole < spoken) {
        spoken = whole;
        this.hooks.say("10 seconds", "countdown");
      }
      await tick();
      const now = performance.now();
      if (!this.paused) left -= now - last;
      last = now;
    }
    this.skipping = false;
  }

  /** Called with each live result of the set in progress: ends the set at its target. */
  result(msg) {
    const step = this.current;
    if (this.phase !== "set" || !step) return;
    const reached = step.hold_s ? (msg.hold_s ?? 0) >= step.hold_s : msg.reps >= step.reps;
    if (reached && !this.ending) {
      this.ending = true;
      this.hooks.endSet();
    }
  }

  pause() {
    this.paused = !this.paused;
    if (this.phase === "set") this.hooks.pauseSet(this.paused);
    this.hooks.say(this.paused ? "Paused." : "Go on.", "plan");
    this.state();
  }

  /** Skip: ends the set in progress (what was done is kept), or the rest. */
  skip() {
    if (this.paused) this.pause();
    if (this.phase === "set") {
      if (!this.ending) {
        this.ending = true;
        this.hooks.endSet();
      }
    } else {
      this.skipping = true;
    }
  }

  stop() {
    if (this.stopped) return;
    this.stopped = true;
    if (this.phase === "set") this.hooks.endSet();
  }
}
