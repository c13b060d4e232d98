// The live session: frames from a <video> to the server over a WebSocket, one in flight at a time.
const HEADER_BYTES = 12; // uint32 sequence number + float64 capture time (ms), little-endian
const MAX_SIDE = 640; // frames are downscaled to this long side before JPEG encoding
const RECONNECT_FOR_MS = 30000; // how long a dropped session tries to reconnect
const EVIDENCE_MS = 12000; // sent frames kept this long, to show the moment a feedback message refers to

export class LiveSession {
  constructor(video, handlers) {
    this.video = video;
    this.on = handlers; // {hello, started, result, error, summary, closed}
    this.canvas = document.createElement("canvas");
    this.seq = 0;
    this.inflight = null;
    this.running = false;
    this.minInterval = 0;
    this.presented = 0; // frames the video has shown (requestVideoFrameCallback)
    this.sentFrame = -1;
    this.retries = 0;
    this.lostAt = null;
    this.stopping = false;
    this.recent = []; // [{at, jpeg}] of the frames sent in the last EVIDENCE_MS
  }

  /** The sent JPEG closest to session time `timeS` (seconds from the first frame), or null. */
  frameAt(timeS) {
    if (!this.resume || this.resume.t0_ms === null || !this.recent.length) return null;
    const want = this.resume.t0_ms + timeS * 1000;
    let best = null;
    for (const f of this.recent) if (!best || Math.abs(f.at - want) < Math.abs(best.at - want)) best = f;
    return best && Math.abs(best.at - want) < 1000 ? best.jpeg : null;
  }

  /** Start a session; `plan` ({run, block, set}): it is that set of a plan run. */
  open(exercise, source, plan = null) {
    this.exercise = exercise;
    this.source = source;
    this.plan = plan;
    this.resume = null; // {session, token, t0_ms} once started: what a dropped connection resumes with
    this.connect();
    if (this.video.requestVideoFrameCallback) {
      const tick = (_now, meta) => {
        this.presented = meta.presentedFrames;
        this.video.requestVideoFrameCallback(tick);
        this.pump();
      };
      this.video.requestVideoFrameCallback(tick);
    }
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}/ws`);
    this.ws = ws;
    ws.binaryType = "arraybuffer";
    ws.onmessage = (ev) => this.message(JSON.parse(ev.data));
    ws.onclose = (ev) => this.dropped(ev);
    ws.onopen = () => {
      const start = { type: "start", exercise: this.exercise, source: this.source };
      if (this.resume) start.resume = this.resume;
      else if (this.plan) start.plan = this.plan;
      ws.send(JSON.stringify(start));
    };
  }

  dropped(ev) {
    // a live session whose server went away (on a cluster: a replica or a node lost) reconnects for a while:
    // the new connection lands on a live server, which goes on with the session from the history
    this.running = false;
    this.inflight = null;
    const lost = this.resume && !this.stopping && ev.code !== 1000 && ev.code !== 1008;
    const now = performance.now();
    if (lost && now - (this.lostAt ??= now) < RECONNECT_FOR_MS) {
      this.on.error({ type: "error", code: "reconnecting", message: "the server went away; reconnecting" });
      this.retry = setTimeout(() => this.connect(), Math.min(2000, 250 * 2 ** this.retries++));
      return;
    }
    this.on.closed(ev.reason || `connection closed (${ev.code})`);
  }

  message(msg) {
    if (msg.type === "hello") {
      this.minInterval = msg.limits.max_fps ? 1000 / msg.limits.max_fps : 0;
      this.on.hello(msg);
    } else if (msg.type === "started") {
      this.running = true;
      this.lostAt = null;
      this.retries = 0;
      this.resume = { session: msg.session, token: msg.resume_token, t0_ms: this.resume?.t0_ms ?? null };
      this.on.started(msg);
      this.pump();
    } else if (msg.type === "result") {
      const sent = this.inflight;
      this.inflight = null;
      this.on.result(msg, sent ? performance.now() - sent.at : NaN);
      this.pump();
    } else if (msg.type === "error") {
      if (msg.code === "cannot_resume") return this.end(msg.message);
      if (this.inflight && msg.seq === this.inflight.seq) this.inflight = null;
      this.on.error(msg);
      this.pump();
    } else if (msg.type === "pong") {
      // keep-alive while paused
    } else if (msg.type === "summary") {
      this.on.summary(msg);
      this.ws.close(1000, "session over");
    }
  }

  /** Stop sending frames for a while (the connection is kept alive), or go on. */
  pause(paused) {
    this.paused = paused;
    clearInterval(this.keepAlive);
    if (paused) {
      this.keepAlive = setInterval(() => {
        if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: "ping" }));
      }, 20000);
    } else {
      this.pump();
    }
  }

  async pump() {
    if (!this.running || this.paused || this.inflight || this.grabbing) return;
    const v = this.video;
    if (v.readyState < 2 || !v.videoWidth) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.pump(), 30);
      return;
    }
    if (v.requestVideoFrameCallback && this.presented === this.sentFrame) return; // no new frame yet
    const wait = this.minInterval - (performance.now() - (this.lastSent || 0));
    if (wait > 0) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.pump(), wait);
      return;
    }
    this.grabbing = true;
    try {
      const scale = Math.min(1, MAX_SIDE / Math.max(v.videoWidth, v.videoHeight));
      const w = Math.round(v.videoWidth * scale), h = Math.round(v.videoHeight * scale);
      if (this.canvas.width !== w || this.canvas.height !== h) {
        this.canvas.width = w;
        this.canvas.height = h;
      }
      this.canvas.getContext("2d").drawImage(v, 0, 0, w, h);
      this.sentFrame = this.presented;
      const jpeg = await new Promise((ok) => this.canvas.toBlob(ok, "image/jpeg", 0.8));
      if (!this.running || !jpeg) return;
      const header = new DataView(new ArrayBuffer(HEADER_BYTES));
      const at = performance.now();
      this.seq += 1;
      header.setUint32(0, this.seq, true);
      header.setFloat64(4, at, true);
      this.inflight = { seq: this.seq, at };
      if (this.resume && this.resume.t0_ms === null) this.resume.t0_ms = at; // the session's time origin
      this.lastSent = at;
      this.recent.push({ at, jpeg });
      while (this.recent.length && at - this.recent[0].at > EVIDENCE_MS) this.recent.shift();
      this.ws.send(new Blob([header.buffer, jpeg]));
    } finally {
      this.grabbing = false;
    }
  }

  stop() {
    this.stopping = true;
    this.running = false;
    clearInterval(this.keepAlive);
    if (this.lostAt) this.end("stopped while reconnecting"); // the session ends with its stored reps
    else if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: "stop" }));
  }

  end(reason) {
    clearTimeout(this.retry);
    this.running = false;
    this.ws.onopen = this.ws.onclose = this.ws.onmessage = null;
    this.ws.close(1000);
    this.on.closed(reason);
  }
}
