// Spoken cues through the browser's own speech synthesis (nothing leaves the page), and the same cues for screen
// readers through an aria-live region. One cue at a time: the most urgent first (a form error before a count),
// a newer count or countdown replaces one still waiting, form cues have a cooldown so the voice never nags.
const PRIORITY = { form_error: 4, form: 3, count: 2, plan: 2, countdown: 2, info: 1 };
const FORM_GAP_MS = 6000; // at most one form cue this often
const SAME_CUE_MS = 20000; // the same form cue not again before this
const STALE_MS = { form: 4000, form_error: 4000, countdown: 1500 }; // dropped if still waiting this long
const KEY = "poseit.voice.muted";

export class Voice {
  constructor(region) {
    this.region = region; // the aria-live element
    this.synth = typeof window.speechSynthesis === "object" ? window.speechSynthesis : null;
    this.muted = localStorage.getItem(KEY) === "1";
    this.queue = [];
    this.speaking = null;
    this.seq = 0;
    this.lastForm = -Infinity;
    this.lastByKey = new Map();
  }

  get available() {
    return this.synth !== null && typeof window.SpeechSynthesisUtterance === "function";
  }

  setMuted(muted) {
    this.muted = muted;
    localStorage.setItem(KEY, muted ? "1" : "0");
    if (muted) this.clear();
  }

  /** Say `text` (and announce it to screen readers). kind: form_error, form, count, plan, countdown or info;
   *  key: what a form cue is about (its rule), for the cooldown. Returns whether the cue was taken. */
  say(text, kind = "info", key = null) {
    const now = performance.now();
    if (kind === "form" || kind === "form_error") {
      if (now - this.lastForm < FORM_GAP_MS) return false;
      if (key && now - (this.lastByKey.get(key) ?? -Infinity) < SAME_CUE_MS) return false;
      this.lastForm = now;
      if (key) this.lastByKey.set(key, now);
    }
    this.announce(text);
    if (this.muted || !this.available) return true;
    if (kind === "count" || kind === "countdown") this.queue = this.queue.filter((c) => c.kind !== kind);
    this.queue.push({ text, kind, priority: PRIORITY[kind] ?? 1, at: now, seq: this.seq++ });
    this.queue.sort((a, b) => b.priority - a.priority || a.seq - b.seq);
    this.next();
    return true;
  }

  announce(text) {
    // a fresh text node each time, so a screen reader reads a repeated cue again
    this.region.replaceChildren(document.createTextNode(text));
  }

  next() {
    if (this.speaking) return;
    const now = performance.now();
    this.queue = this.queue.filter((c) => !(now - c.at > (STALE_MS[c.kind] ?? Infinity)));
    const cue = this.queue.shift();
    if (!cue) return;
    const u = new SpeechSynthesisUtterance(cue.text);
    u.kind = cue.kind; // (read by tests that watch what is spoken)
    u.lang = document.documentElement.lang || "en";
    u.rate = 1.05;
    this.speaking = u;
    const done = () => {
      if (this.speaking !== u) return;
      clearTimeout(this.fallback);
      this.speaking = null;
      this.next();
    };
    u.onend = done;
    u.onerror = done;
    // some engines never say `end` (or have no voice at all): go on after the time the text would take
    this.fallback = setTimeout(done, 700 + 75 * cue.text.length);
    this.synth.speak(u);
  }

  clear() {
    this.queue = [];
    clearTimeout(this.fallback);
    this.speaking = null;
    if (this.synth) this.synth.cancel();
  }
}
