"""Session reports: ``summary.json``, a self-contained ``report.html`` and an annotated video.

``summary.json`` schema (times in seconds, frames are 0-based indices into the video; NaN values are null)::

    {
      "video": str, "exercise": str,              # library id, or "any" (periodicity)
      "name": str, "mode": "reps" | "hold",
      "reps": int,                                # complete reps
      "partial_reps": int,                        # attempts that did not reach the turn, or were cut off
      "hold_s": float | null,                     # hold exercises: time in position; null for reps
      "holds": [{"start_s": float, "end_s": float}],
      "duration_s": float, "frames": int, "fps": float,
      "view": "front" | "side" | "oblique" | "unknown",   # the most common view
      "signal": str,                              # the driving signal (see poseit.coach.kinematics)
      "thresholds": {"rest": float, "leave": float, "turn": float} | {"cycles", "period_s", "strength"},
      "rep_events": [{
          "number": int, "complete": true, "start": int, "turn": int, "end": int,
          "start_s": float, "turn_s": float, "end_s": float, "duration_s": float,
          "eccentric_s": float | null, "concentric_s": float | null,
          "min_value": float, "max_value": float, "range_of_motion": float,   # driving signal units
          "view": str, "symmetry": float | null,   # 1 = both sides moved through the same range (front view)
          "partial_reason": "", "issues": [rule id, ...]}],
      "partial_events": [... same fields, "complete": false, "partial_reason": "shallow" | "cut" | "gap" | "end"],
      "form_issues": [{"rep": int, "frame": int, "time_s": float, "rule": str, "message": str,
                       "severity": "info" | "warning" | "error", "value": float | null, "partial": bool}],
      "confidence": float | null,                 # probability that the count is exact (`poseit.coach.confidence`)
      "uncertain": bool,                          # below the threshold chosen on dev: the count is said to be unsure
      "confidence_evidence": {feature: float},    # what the confidence was computed from
      "cuts": [int],                              # frames of shot boundaries (hard cuts, dissolves) in the image
      "recognition": null | {"requested": "auto", "chosen": str, "reason": str, "classes": [...], ...}
      "periodicity": null                         # holds; without image features for exercises
        | {"source": "pose" | "pixels", "pose_count", "pose_confidence", "pixel_count", "pixel_confidence",
           "agree": bool}                         # "any": the two counts and which one was used
        | {"pixel_count", "pixel_strength", "pixel_period_s", "agree": bool}  # exercises: the pixels' check
    }
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np

from poseit.coach.results import Analysis
from poseit.coach.sequence import PoseSequence
from poseit.errors import PoseItError

SEVERITY_COLORS = {"info": "#2f6db5", "warning": "#c77700", "error": "#c0392b"}
FEEDBACK_SHOW_S = 3.0  # how long a piece of feedback stays on the annotated video


def summary_dict(analysis: Analysis, video: str | None = None) -> dict[str, Any]:
    return {"video": video, **analysis.summary()}


def write_summary(analysis: Analysis, path: str | Path, video: str | None = None) -> Path:
    path = Path(path)
    path.write_text(json.dumps(summary_dict(analysis, video), indent=1) + "\n", encoding="utf-8")
    return path


# --- overlay text (annotated video and live view share it) -------------------------------------------------------
def status_lines(name: str, reps: int, partials: int, hold_s: float | None, feedback: list[str]) -> list[str]:
    """The coach's overlay lines: the count (or hold time), then recent feedback."""
    if hold_s is not None:
        head = f"{name}: held {hold_s:.1f} s"
    else:
        head = f"{name}: {reps} rep{'s' if reps != 1 else ''}" + (f"  (+{partials} partial)" if partials else "")
    return [head, *feedback]


def lines_at(analysis: Analysis, frame: int) -> list[str]:
    """The overlay for one frame of an analysed video: reps finished so far and feedback from the last few
    seconds."""
    t = float(analysis.times[frame])
    reps = sum(1 for r in analysis.reps if r.end <= frame)
    partials = sum(1 for r in analysis.partials if r.end <= frame)
    hold = None
    if analysis.hold_s is not None:
        dt = 1.0 / analysis.fps
        hold = float(analysis.active[: frame + 1].sum() * dt)
    shown = []
    for issue in analysis.issues:
        # rep feedback appears when its rep ends (the coach can only judge a finished rep); hold feedback at once
        rep = next(
            (r for r in analysis.reps + analysis.partials if r.number == issue.rep and r.complete != issue.partial),
            None,
        )
        at = float(analysis.times[rep.end]) if rep is not None else issue.time_s
        if at <= t < at + FEEDBACK_SHOW_S:
            shown.append(issue.message)
    return status_lines(analysis.name, reps, partials, hold, shown[-2:])


def write_annotated_video(video: str | Path, seq: PoseSequence, analysis: Analysis, path: str | Path) -> Path:
    """Re-read ``video`` and write it with the skeleton, the rep counter and live feedback drawn on each frame."""
    from poseit.io.draw import draw_poses, put_text
    from poseit.io.sinks import VideoSink
    from poseit.io.sources import open_source
    from poseit.keypoints import Poses

    source = open_source(str(video))
    sink = VideoSink(path, source.fps)
    try:
        with source:
            for frame in source:
                i = frame.index
                if i >= len(seq):
                    break
                image = frame.image.copy()
                if seq.present[i]:
                    draw_poses(image, Poses(seq.xy[i][None], seq.scores[i][None], seq.skeleton))
                put_text(image, lines_at(analysis, i))
                sink.write_image(image)
    except PoseItError:
        if len(seq) == 0:
            raise
    finally:
        sink.close()
    return Path(path)


# --- HTML -------------------------------------------------------------------------------------------------------
def _svg_plot(analysis: Analysis, width: int = 960, height: int = 260) -> str:
    """An inline SVG of the driving signal over time, reps shaded (green complete, orange partial),
    thresholds dashed, cuts marked."""
    t, y = analysis.times, analysis.signal
    finite = np.isfinite(y)
    if len(t) < 2 or not finite.any():
        return "<p>No signal to plot (no person found).</p>"
    pad_l, pad_r, pad_t, pad_b = 52, 12, 12, 30
    lo, hi = float(np.nanmin(y)), float(np.nanmax(y))
    for v in analysis.thresholds.values() if analysis.exercise != "any" else []:
        if np.isfinite(v):
            lo, hi = min(lo, v), max(hi, v)
    if hi - lo < 1e-6:
        lo, hi = lo - 1, hi + 1
    span = hi - lo
    lo, hi = lo - 0.05 * span, hi + 0.05 * span
    t0, t1 = float(t[0]), float(t[-1]) if t[-1] > t[0] else float(t[0]) + 1

    def sx(v: float) -> float:
        return pad_l + (v - t0) / (t1 - t0) * (width - pad_l - pad_r)

    def sy(v: float) -> float:
        return pad_t + (hi - v) / (hi - lo) * (height - pad_t - pad_b)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'style="max-width:{width}px;font:11px sans-serif">'
    ]
    for rep in analysis.reps + analysis.partials:
        color = "#2e9e4f" if rep.complete else "#e08a00"
        x0, x1 = sx(rep.start_s), sx(rep.end_s)
        parts.append(
            f'<rect x="{x0:.1f}" y="{pad_t}" width="{max(1.0, x1 - x0):.1f}" '
            f'height="{height - pad_t - pad_b}" fill="{color}" opacity="0.15"/>'
        )
        parts.append(
            f'<line x1="{sx(rep.turn_s):.1f}" x2="{sx(rep.turn_s):.1f}" y1="{pad_t}" '
            f'y2="{height - pad_b}" stroke="{color}" stroke-width="1" opacity="0.6"/>'
        )
        label = str(rep.number) if rep.complete else "p"
        parts.append(f'<text x="{sx(rep.turn_s) + 2:.1f}" y="{pad_t + 11}" fill="{color}">{label}</text>')
    if analysis.exercise != "any":
        for name, v in analysis.thresholds.items():
            if np.isfinite(v):
                parts.append(
                    f'<line x1="{pad_l}" x2="{width - pad_r}" y1="{sy(v):.1f}" y2="{sy(v):.1f}" '
                    f'stroke="#777" stroke-dasharray="4 3"/><text x="{width - pad_r - 30}" '
                    f'y="{sy(v) - 2:.1f}" fill="#555">{name}</text>'
                )
    for c in np.flatnonzero(analysis.cuts):
        parts.append(
            f'<line x1="{sx(t[c]):.1f}" x2="{sx(t[c]):.1f}" y1="{pad_t}" y2="{height - pad_b}" '
            f'stroke="#8e44ad" stroke-dasharray="2 2"/>'
        )
    # the signal, broken where unknown
    segment: list[str] = []
    paths = []
    for ti, yi, ok in zip(t, y, finite, strict=True):
        if ok:
            segment.append(f"{sx(ti):.1f},{sy(yi):.1f}")
        elif segment:
            paths.append(segment)
            segment = []
    if segment:
        paths.append(segment)
    for seg in paths:
        parts.append(f'<polyline points="{" ".join(seg)}" fill="none" stroke="#1f4e99" stroke-width="1.4"/>')
    # axes
    parts.append(f'<line x1="{pad_l}" x2="{pad_l}" y1="{pad_t}" y2="{height - pad_b}" stroke="#333"/>')
    parts.append(f'<line x1="{pad_l}" x2="{width - pad_r}" y1="{height - pad_b}" y2="{height - pad_b}" stroke="#333"/>')
    for v in np.linspace(lo, hi, 5):
        parts.append(f'<text x="{pad_l - 4}" y="{sy(v) + 4:.1f}" text-anchor="end">{v:.3g}</text>')
    step = max(1.0, round((t1 - t0) / 10))
    for v in np.arange(np.ceil(t0), t1 + 1e-9, step):
        parts.append(f'<text x="{sx(v):.1f}" y="{height - pad_b + 14}" text-anchor="middle">{v:.0f}</text>')
    parts.append(f'<text x="{(width + pad_l) / 2:.0f}" y="{height - 3}" text-anchor="middle">time (s)</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _fmt(v: Any, digits: int = 2) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return html.escape(str(v))


def evidence_thumbnails(video: str | Path, frames: list[int], height: int = 160) -> dict[int, str]:
    """frame -> a small JPEG of that frame of ``video`` as a data URI (the evidence beside each message); frames
    that cannot be read are left out."""
    import base64

    import cv2

    out: dict[int, str] = {}
    cap = cv2.VideoCapture(str(video))
    try:
        for frame in sorted(set(frames)):
            cap.set(cv2.CAP_PROP_POS_FRAMES, frame)
            ok, image = cap.read()
            if not ok:
                continue
            scale = height / image.shape[0]
            small = cv2.resize(image, (round(image.shape[1] * scale), height), interpolation=cv2.INTER_AREA)
            data = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()
            out[frame] = "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")
    finally:
        cap.release()
    return out


def _measured(i: dict[str, Any]) -> str:
    """``measured 112 ± 4 (threshold 100)`` for a rule message that carries its value."""
    if i.get("value") is None or i.get("threshold") is None:
        return ""
    pm = f" ± {_fmt(i['uncertainty'], 2)}" if i.get("uncertainty") else ""
    return f' <span class="muted">(measured {_fmt(i["value"], 2)}{pm}; threshold {_fmt(i["threshold"], 2)})</span>'


def render_html(analysis: Analysis, video: str | None = None, thumbs: dict[int, str] | None = None) -> str:
    """The report page: headline numbers, the driving-signal plot with rep boundaries, the per-rep table and
    the feedback list. Self-contained (inline CSS and SVG, no scripts or external files)."""
    s = analysis.summary()
    title = f"Pose-It! report: {s['name']}" + (f" – {Path(video).name}" if video else "")
    if s["mode"] == "hold":
        headline = f"Held for <b>{_fmt(s['hold_s'], 1)} s</b> in {len(s['holds'])} hold(s)"
    else:
        headline = f"<b>{s['reps']}</b> complete reps, <b>{s['partial_reps']}</b> partial"
        if s.get("uncertain"):
            headline += (
                f' <span class="uncertain">(uncertain count: confidence {_fmt(s["confidence"])}; please check)</span>'
            )
    rows = []
    for r in sorted(s["rep_events"] + s["partial_events"], key=lambda r: r["start"]):
        issues = ", ".join(r["issues"]) or "–"
        rows.append(
            "<tr>"
            + "".join(
                f"<td>{c}</td>"
                for c in (
                    r["number"] if r["complete"] else f"({r['number']}) partial: {r['partial_reason']}",
                    f"{r['start']}–{r['turn']}–{r['end']}",
                    _fmt(r["start_s"]),
                    _fmt(r["duration_s"]),
                    _fmt(r["eccentric_s"]),
                    _fmt(r["concentric_s"]),
                    _fmt(r["min_value"], 1),
                    _fmt(r["max_value"], 1),
                    _fmt(r["range_of_motion"], 1),
                    _fmt(r["symmetry"]),
                    html.escape(r["view"]),
                    html.escape(issues),
                )
            )
            + "</tr>"
        )
    feedback = []
    for i in s["form_issues"]:
        color = SEVERITY_COLORS.get(i["severity"], "#333")
        rep = f"rep {i['rep']}" if i["rep"] else ("all reps" if s["mode"] == "reps" else "hold")
        thumb = (thumbs or {}).get(i["frame"])
        img = f'<br><img src="{thumb}" alt="frame {i["frame"]}" class="evidence">' if thumb else ""
        feedback.append(
            f'<li><span style="color:{color};font-weight:bold">{html.escape(i["severity"])}</span> '
            f"{rep} at {_fmt(i['time_s'], 1)} s (frame {i['frame']}): {html.escape(i['message'])}"
            f"{_measured(i)}{img}</li>"
        )
    recog = ""
    if s.get("recognition"):
        rec = s["recognition"]
        classes = ", ".join(f"{c['class']} {c['p']:.2f}" for c in rec.get("classes", []))
        listed = f" (classes: {html.escape(classes)})" if classes else ""
        how = "chosen automatically" if rec.get("requested") == "auto" else "counted as"
        recog = (
            f"<p>Exercise {how}: <b>{html.escape(str(rec.get('chosen')))}</b> – "
            f"{html.escape(str(rec.get('reason', '')))}{listed}</p>"
        )
    table = ""
    if rows:
        head = (
            "#",
            "frames start–turn–end",
            "start (s)",
            "duration (s)",
            "eccentric (s)",
            "concentric (s)",
            f"min {s['signal']}",
            f"max {s['signal']}",
            "range",
            "symmetry",
            "view",
            "issues",
        )
        table = (
            "<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>" + "\n".join(rows) + "</table>"
        )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }}
table {{ border-collapse: collapse; font-size: 12px; }} td, th {{ border: 1px solid #ccc; padding: 3px 6px; }}
th {{ background: #f2f2f2; }} .muted {{ color: #666; }} .uncertain {{ color: #b45309; }}
img.evidence {{ border: 1px solid #ccc; margin: 4px 0 10px; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>{headline}. View: {html.escape(s["view"])}. Duration {_fmt(s["duration_s"], 1)} s, {s["frames"]} frames at
{_fmt(s["fps"], 2)} fps.</p>
{recog}
<h2>{html.escape(s["signal"])} over time</h2>
<p class="muted">Green: complete reps (number at the turn), orange: partial reps, dashed grey: phase thresholds,
dotted purple: cuts between shots.</p>
{_svg_plot(analysis)}
<h2>Reps</h2>
{table or "<p>No reps.</p>"}
<h2>Feedback</h2>
{"<ul>" + "".join(feedback) + "</ul>" if feedback else "<p>No form issues found.</p>"}
<p class="muted">Generated by Pose-It! (poseit analyze). Angles in degrees; heights and offsets in torso lengths.</p>
</body></html>
"""


def write_report(
    analysis: Analysis, seq: PoseSequence, video: str | Path, out_dir: str | Path, annotated: bool = True
) -> dict[str, Path]:
    """Write summary.json, report.html and (optionally) annotated.mp4 into ``out_dir``."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PoseItError(f"cannot create report folder {out}: {exc.strerror}") from None
    paths = {"summary": write_summary(analysis, out / "summary.json", str(video))}
    thumbs = evidence_thumbnails(video, [i.frame for i in analysis.issues])
    (out / "report.html").write_text(render_html(analysis, str(video), thumbs), encoding="utf-8")
    paths["html"] = out / "report.html"
    if annotated:
        paths["video"] = write_annotated_video(video, seq, analysis, out / "annotated.mp4")
    return paths
