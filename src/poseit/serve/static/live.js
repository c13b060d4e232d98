// The live session: frames from a <video> to the server over a WebSocket, one in flight at a time.
const HEADER_BYTES = 12; // uint32 sequence number + float64 capture time (ms), little-endian
const MAX_SIDE = 640; // frames are downscaled to this long side before JPEG encoding

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
  }

  open(exercise, source) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    this.ws = new WebSocket(`${scheme}//${location.host}/ws`);
    this.ws.binaryType = "arraybuffer";
    this.ws.onmessage = (ev) => this.message(JSON.parse(ev.data));
    this.ws.onclose = (ev) => {
      this.running = false;
      this.on.closed(ev.reason || `connection closed (${ev.code})`);
    };
    this.ws.onopen = () => this.ws.send(JSON.stringify({ type: "start", exercise, source }));
    if (this.video.requestVideoFrameCallback) {
      const tick = (_now, meta) => {
        this.presented = meta.presentedFrames;
        this.video.requestVideoFrameCallback(tick);
        this.pump();
      };
      this.video.requestVideoFrameCallback(tick);
    }
  }

  message(msg) {
    if (msg.type === "hello") {
      this.minInterval = msg.limits.max_fps ? 1000 / msg.limits.max_fps : 0;
      this.on.hello(msg);
    } else if (msg.type === "started") {
      this.running = true;
      this.on.started(msg);
      this.pump();
    } else if (msg.type === "result") {
      const sent = this.inflight;
      this.inflight = null;
      this.on.result(msg, sent ? performance.now() - sent.at : NaN);
      this.pump();
    } else if (msg.type === "error") {
      if (this.inflight && msg.seq === this.inflight.seq) this.inflight = null;
      this.on.error(msg);
      this.pump();
    } else if (msg.type === "summary") {
      this.on.summary(msg);
      this.ws.close(1000, "session over");
    }
  }

  async pump() {
    if (!this.running || this.inflight || this.grabbing) return;
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
      this.lastSent = at;
      this.ws.send(new Blob([header.buffer, jpeg]));
    } finally {
      this.grabbing = false;
    }
  }

  stop() {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: "stop" }));
    this.running = false;
  }
}
