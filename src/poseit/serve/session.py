"""A live coaching session without any transport: JPEG bytes (or frames) in, a JSON-ready result out.

`CoachSession` owns one person's estimator state (tracker, smoother, through a `PoseEstimator` that shares the
process's compiled models) and a `LiveCoach`, and writes each rep and form issue to the `Store` the moment the
rep completes. The web server (`poseit.serve.routes.ws`) and, later, cluster actors only move bytes to and
from it; calls on one session must not overlap (one frame in flight per client).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache
from typing import Any

import cv2
import numpy as np

from poseit.coach.analysis import ANY, AUTO
from poseit.coach.counter import RepEvent
from poseit.coach.live import LiveCoach
from poseit.coach.report import FEEDBACK_SHOW_S
from poseit.coach.results import FormIssue
from poseit.errors import PoseItError
from poseit.io.sources import Frame
from poseit.pipeline import PoseEstimator, PoseResult
from poseit.serve.store import Store


@cache
def exercise_ids() -> tuple[str, ...]:
    """Every exercise a client may ask for: the library's ids, then ``auto`` and ``any`` (never a path)."""
    from poseit.coach.library import library

    return (*library(), AUTO, ANY)


@cache
def exercise_names() -> dict[str, str]:
    from poseit.coach.library import library

    names = {k: ex.name for k, ex in library().items()}
    return {**names, AUTO: "Recognise automatically", ANY: "Anything that repeats"}


@dataclass(frozen=True)
class EngineOptions:
    """How the server's estimators run (the same for every session of a process)."""

    model: str = "blazepose-full"
    device: str = "CPU"
    precision: str = "f32"
    hint: str = "latency"
    num_threads: int | None = None
    seed: str = "auto"  # what starts a track: the detector where pulled, else the whole frame
    coach_fps: float = 30.0  # the frame rate the coach's buffers are sized for

    def estimator(self) -> PoseEstimator:
        """A tracking estimator with its own state on the process's shared compiled models."""
        return PoseEstimator(
            self.model,
            mode="track",
            device=self.device,
            precision=self.precision,
            hint=self.hint,
            num_threads=self.num_threads,
            seed=self.seed,
            shared=True,
        )


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a JPEG's frame header, read before decoding (no decompression bombs)."""
    if len(data) < 4 or data[:2] != b"\xff\xd8":
        raise PoseItError("frame is not a JPEG image")
    i = 2
    while i + 9 <= len(data):
        if data[i] != 0xFF:
            raise PoseItError("frame is a malformed JPEG")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height = int.from_bytes(data[i + 5 : i + 7], "big")
            width = int.from_bytes(data[i + 7 : i + 9], "big")
            return width, height
        if length < 2:
            raise PoseItError("frame is a malformed JPEG")
        i += 2 + length
    raise PoseItError("frame is a JPEG without a frame header")


def decode_jpeg(data: bytes, max_side: int) -> np.ndarray:
    """A BGR image from JPEG bytes whose sides are at most ``max_side`` pixels."""
    width, height = jpeg_size(data)
    if not (0 < width <= max_side and 0 < height <= max_side):
        raise PoseItError(f"frame is {width}x{height}; sides must be 1 to {max_side} pixels")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.shape[:2] != (height, width):
        raise PoseItError("frame is a JPEG that does not decode")
    return image


class CoachSession:
    """One person coached live: feed frames in time order, read results, `close` at the end."""

    def __init__(
        self,
        exercise: str,
        engine: EngineOptions,
        store: Store | None = None,
        source: str = "camera",
        max_side: int = 1280,
        resume: int | None = None,
        t0: float | None = None,
        plan: dict[str, Any] | None = None,
    ) -> None:
        """``resume``: go on with that stored session (its reps so far counted from the database, as after a
        cluster replica died); ``t0``: the session's time origin (default: its first frame's time); ``plan``:
        the session is a set of a plan run (its place and target, `Store.start_session`)."""
        if exercise not in exercise_ids():
            raise PoseItError(f"unknown exercise {exercise!r}; choose one of {', '.join(exercise_ids())}")
        self.engine, self.store, self.max_side = engine, store, max_side
        self.estimator = engine.estimator()
        self.coach = LiveCoach(exercise, self.estimator.skeleton, engine.coach_fps)
        self.exercise = exercise
        self.frames = 0
        self._t0: float | None = t0
        self._last_t = -np.inf
        self._saved_reps = self._saved_partials = self._saved_issues = 0
        self._saved_hold = 0.0
        self.closed = False
        self.base = {"reps": 0, "partial_reps": 0}  # counted before a resume
        if resume is not None and store is not None:
            self.id: int | None = resume
            self.base = {k: v for k, v in store.counted(resume).items() if k in self.base}
        else:
            self.id = store.start_session(exercise, engine.model, engine.device, source, plan) if store else None

    # --- frames -----------------------------------------------------------------------------------------------
    def feed_jpeg(self, data: bytes, time_s: float) -> dict[str, Any]:
        """Decode a JPEG frame and `feed` it."""
        return self.feed(decode_jpeg(data, self.max_side), time_s)

    def feed(self, image: np.ndarray, time_s: float) -> dict[str, Any]:
        """Track and coach one BGR frame taken at ``time_s`` (seconds, any origin, increasing)."""
        if self.closed:
            raise PoseItError("session is over")
        if not time_s > self._last_t:
            raise PoseItError("frame times must increase")
        start = time.perf_counter()
        self._last_t = time_s
        if self._t0 is None:
            self._t0 = time_s
        t = time_s - self._t0
        poses = self.estimator(image, t)
        self.estimator.times.clear()  # per-stage timings are not kept for a live session
        result = PoseResult(Frame(image, self.frames, t), poses, self.estimator.detected)
        self.frames += 1
        held = self.coach.hold_s
        _lines, extra = self.coach(result)
        self._persist()
        out = self._result(result, extra["coach"], t, holding=self.coach.hold_s > held)
        out["server_ms"] = round((time.perf_counter() - start) * 1000, 1)
        return out

    def _result(self, result: PoseResult, record: dict[str, Any], t: float, holding: bool) -> dict[str, Any]:
        h, w = result.frame.image.shape[:2]
        poses = result.poses
        people = []
        if len(poses):
            kp = np.concatenate([poses.xy[0], poses.scores[0][:, None]], axis=1)
            kp = np.where(np.isfinite(kp), kp, -1.0).round(1)
            people.append({"keypoints": kp.tolist(), "score": round(float(poses.confidence[0]), 3)})
        coach = self.coach
        recent = [i for s, i in coach.issues if s <= t < s + FEEDBACK_SHOW_S][-3:]
        return {
            "type": "result",
            "time_s": round(t, 3),
            "width": w,
            "height": h,
            "people": people,
            "exercise": coach.mode,
            "exercise_name": coach.exercise.name if coach.exercise is not None else exercise_names()[coach.mode],
            "reps": self.base["reps"] + coach.reps,
            "partial_reps": self.base["partial_reps"] + coach.partial_reps,
            "phase": self._phase(record, holding),
            "hold_s": record.get("hold_s"),
            "feedback": [feedback_item(i) for i in recent],
        }

    def _phase(self, record: dict[str, Any], holding: bool) -> str:
        """``watching`` (auto), ``counting`` (any), ``holding``/``not holding`` (holds), else the counter's
        state: ``fresh``, ``idle`` (not in position), ``rest``, ``down`` (leaving rest), ``turned``."""
        coach = self.coach
        if coach.mode in (AUTO, ANY):
            return "watching" if coach.mode == AUTO else "counting"
        if coach.exercise is not None and coach.exercise.is_hold:
            return "holding" if holding else "not holding"
        return str(record.get("state", "-"))

    # --- persistence ----------------------------------------------------------------------------------------
    def totals(self) -> dict[str, Any]:
        coach = self.coach
        hold = round(coach.hold_s, 3) if coach.exercise is not None and coach.exercise.is_hold else None
        return {
            "counted_as": coach.mode,
            "frames": self.frames,
            "reps": self.base["reps"] + coach.reps,
            "partial_reps": self.base["partial_reps"] + coach.partial_reps,
            "hold_s": hold,
        }

    def _persist(self, ended: bool = False) -> None:
        """Write reps and issues that are new since the last call (one transaction)."""
        coach = self.coach
        counter = getattr(coach, "counter", None) if coach.exercise is not None else None
        reps: list[dict[str, Any]] = []
        if counter is not None:
            for n, ev in enumerate(counter.reps[self._saved_reps :], start=self._saved_reps + 1):
                reps.append(_rep_row(n, True, ev))
            for ev in counter.partials[self._saved_partials :]:
                number = sum(1 for r in counter.reps if r.end <= ev.end) + 1
                reps.append(_rep_row(number, False, ev))
            self._saved_reps, self._saved_partials = len(counter.reps), len(counter.partials)
        elif coach.reps > self._saved_reps:  # the periodicity counter gives a count, not rep boundaries
            reps = [{"number": n, "complete": 1} for n in range(self._saved_reps + 1, coach.reps + 1)]
            self._saved_reps = coach.reps
        issues = [
            {"rep": i.rep, "time_s": i.time_s, "rule": i.rule, "message": i.message, "severity": i.severity}
            for _, i in coach.issues[self._saved_issues :]
        ]
        self._saved_issues = len(coach.issues)
        if self.base["reps"]:  # rep numbers go on from the resumed count (an issue's rep 0 is a hold)
            for rep in reps:
                rep["number"] += self.base["reps"]
            for issue in issues:
                issue["rep"] += self.base["reps"] if issue["rep"] else 0
        hold_moved = coach.hold_s - self._saved_hold >= 1.0
        if self.store is not None and self.id is not None and (reps or issues or hold_moved or ended):
            self._saved_hold = coach.hold_s
            self.store.record(self.id, self.totals(), reps, issues, ended=ended)

    def close(self) -> dict[str, Any]:
        """End the session (a rep past its turn becomes partial) and return its summary."""
        if not self.closed:
            self.closed = True
            if self.frames:
                self.coach.close()
            self._persist(ended=True)
        summary = self.coach.summary() if self.frames else {"exercise": self.coach.mode, "reps": 0, "form_issues": []}
        summary["reps"] += self.base["reps"]
        if "partial_reps" in summary:
            summary["partial_reps"] += self.base["partial_reps"]
        return {"type": "summary", "session": self.id, "frames": self.frames, **summary}


def feedback_item(issue: FormIssue) -> dict[str, Any]:
    """A feedback message for the page, with its evidence: the session time of the frame it refers to, the
    measured value, the rule's threshold and the value's uncertainty (None where not a measured rule)."""

    def num(v: float | None) -> float | None:
        return None if v is None or v != v else round(float(v), 3)

    return {
        "rep": issue.rep,
        "rule": issue.rule,
        "message": issue.message,
        "severity": issue.severity,
        "time_s": round(issue.time_s, 3),
        "value": num(issue.value) if issue.threshold is not None else None,
        "threshold": num(issue.threshold),
        "uncertainty": num(issue.uncertainty),
    }


def _rep_row(number: int, complete: bool, ev: RepEvent) -> dict[str, Any]:
    return {
        "number": number,
        "complete": int(complete),
        "start_s": round(ev.start_s, 3),
        "turn_s": round(ev.turn_s, 3),
        "end_s": round(ev.end_s, 3),
        "duration_s": round(ev.duration_s, 3),
        "depth": round(float(ev.extreme), 3) if np.isfinite(ev.extreme) else None,
        "symmetry": None if ev.symmetry is None else round(float(ev.symmetry), 3),
    }
