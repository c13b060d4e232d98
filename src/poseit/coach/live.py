"""The coach, frame by frame: ``poseit run SOURCE --exercise squat``, ``poseit serve`` and ``poseit analyze``.

`LiveCoach` is a `poseit.runner.FrameHook` and the one rep-counting path of the product: it keeps the last
`BUFFER_S` of keypoints, computes the driving signal on them (`poseit.coach.drive`) and feeds the newest
frame's depth to the streaming cycle counter (`RepCounter`); finished reps are judged against the form rules at
once. The offline analysis runs this same coach over a whole sequence (`feed_sequence`), so ``poseit analyze``
and the web app give the same count on the same frames.

``--exercise any`` re-counts the periodicity of the history every half second; ``auto`` watches the first
moving seconds, recognises the exercise, then counts as that exercise (replaying what it has seen).
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from typing import Any

import numpy as np

from poseit.coach.counter import RepCounter, RepEvent
from poseit.coach.drive import Driving, driving_signal, person_jumps, posture_mask, signal_of
from poseit.coach.form import check_rep, uncertainty
from poseit.coach.frames import FrameFeatures, cut_now, frame_features
from poseit.coach.fusion import ANY, AUTO, choose_exercise
from poseit.coach.judge import UNFINISHED, partial_feedback, rep_metrics, rep_symmetry, told_partial
from poseit.coach.kinematics import CORE_SKELETON, Body
from poseit.coach.library import Exercise, get_exercise
from poseit.coach.periodic import PeriodicResult
from poseit.coach.report import FEEDBACK_SHOW_S, status_lines
from poseit.coach.results import Analysis, FormIssue, Rep
from poseit.coach.sequence import PoseSequence, person_arrays, stack_world
from poseit.pipeline import PoseResult
from poseit.skeletons.mapping import convert_arrays

BUFFER_S = 8.0  # seconds of keypoints the live kinematics look back on
AUTO_WATCH_S = 5.0  # seconds of movement ``auto`` watches before choosing
ANY_HISTORY_S = 120.0  # ``any`` counts the periodicity of at most this much history
SUMMARY_MIN_REPS = 3  # a fault on every one of at least this many reps is said once, as a summary
PIXELS_EVERY_S = 10.0  # ``any`` re-measures the pixels' periodicity this often (the pose's every half second)


class LiveCoach:
    """Frame hook for `poseit.runner.run`: returns the overlay lines and a ``coach`` JSON Lines key."""

    def __init__(
        self, exercise: str | Exercise, skeleton: str, fps: float = 30.0, min_score: float = 0.3, strict: bool = False
    ) -> None:
        self.requested = exercise.id if isinstance(exercise, Exercise) else exercise
        self.skeleton, self.fps, self.min_score, self.strict = skeleton, fps, min_score, strict
        self.exercise: Exercise | None = None
        self.mode = self.requested
        # what the counter saw, frame by frame: (frame, time, depth, value, source, ok, cut)
        self.trace: list[tuple[int, float, float, float, int, bool, bool]] = []
        self.judged: list[tuple[RepEvent, list[FormIssue]]] = []  # each rep (complete or partial) and its issues
        self.summaries: list[FormIssue] = []  # faults on every rep, said once at the end (`_summarise_repeated`)
        if isinstance(exercise, Exercise):
            self._start(exercise)
        elif exercise not in (AUTO, ANY):
            self._start(get_exercise(exercise))
        # (frame, time, xy, scores, world, (thumbnail, histogram)) of the last frames, on the core joints: the
        # per-frame kinematics look back `BUFFER_S`; ``any``, ``auto`` and the periodicity check read `ANY_HISTORY_S`
        self._frames: deque[tuple] = deque()
        self._kept: deque[tuple] = deque()
        self.periodicity: dict[str, Any] | None = None  # the periodicity check of a rep exercise (at `close`)
        self.issues: list[tuple[float, FormIssue]] = []  # (time shown from, issue)
        self.hold_s = 0.0
        self._hold_fail: dict[str, float] = {}
        self._periodic_count = 0
        self._pixels: PeriodicResult | None = None  # the last pixel periodicity count (``any``) and
        self._usable = np.ones(0, dtype=bool)  # the frames it could read
        self._seen = 0  # frames seen

    def _start(self, exercise: Exercise) -> None:
        self.exercise, self.mode = exercise, exercise.id
        self.counter = RepCounter(exercise.phases, strict=self.strict) if exercise.phases is not None else None

    # --- per frame ---------------------------------------------------------------------------------------------
    def __call__(self, result: PoseResult) -> tuple[list[str], dict[str, Any]]:
        xy, scores, world = person_arrays(result.poses, self.skeleton, with_world=True)
        features = frame_features(result.frame.image)
        return self.step(result.frame.index, float(result.frame.time_s), xy, scores, world, features)

    def feed_sequence(self, seq: PoseSequence) -> None:
        """Coach a recorded sequence frame by frame, then `close` (what ``poseit analyze`` does)."""
        for i in range(len(seq)):
            world = None if seq.world is None else seq.world[i]
            features = None if seq.frames is None else (seq.frames.thumbs[i], seq.frames.hists[i])
            self.step(i, float(seq.times[i]), seq.xy[i], seq.scores[i], world, features)
        self.close()

    def step(
        self,
        frame: int,
        t: float,
        xy: np.ndarray,
        scores: np.ndarray,
        world: np.ndarray | None = None,
        features: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> tuple[list[str], dict[str, Any]]:
        """One frame: the person's (K, 2) keypoints, (K,) scores, optional (K, 3) world landmarks and image
        features (`frame_features`; None: no shot-boundary detection). Returns the overlay lines and the
        ``coach`` record."""
        self._remember((frame, t, *self._core(xy, scores, world), features))
        self._seen += 1
        event = None
        if self.mode == AUTO:
            self._maybe_choose()
        elif self.mode == ANY:
            if self._seen % max(1, round(self.fps / 2)) == 0:
                self._count_periodic(pixels=self._seen % max(1, round(PIXELS_EVERY_S * self.fps)) == 0)
        elif self.exercise is not None:
            event = self._step_exercise()
        return self._overlay(t), {"coach": self._record(event)}

    def _remember(self, item: tuple) -> None:
        """Add one frame to the kinematics buffer (`BUFFER_S`) and the long history (`ANY_HISTORY_S`)."""
        for buffer, keep_s in ((self._frames, BUFFER_S), (self._kept, ANY_HISTORY_S)):
            buffer.append(item)
            while len(buffer) > 8 and item[1] - buffer[0][1] > keep_s:
                buffer.popleft()

    def _core(
        self, xy: np.ndarray, scores: np.ndarray, world: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """One frame's keypoints on the coach's core joints (`Body` reads only those): mapped once on arrival,
        not again on every frame the buffer holds it."""
        if self.skeleton == CORE_SKELETON:
            return xy, scores, world
        core_xy, core_scores = convert_arrays(xy[None], scores[None], self.skeleton, CORE_SKELETON)
        core_world = (
            None if world is None else convert_arrays(world[None], scores[None], self.skeleton, CORE_SKELETON)[0]
        )
        return core_xy[0], core_scores[0], None if core_world is None else core_world[0]

    def _sequence(self, last_s: float | None = None, kept: bool = False) -> PoseSequence:
        """The buffered frames (the last ``last_s`` seconds; ``kept``: of the long history) as a sequence, at
        the rate they came in (a live client drops frames when the server is busy; a clip comes at its rate)."""
        frames = list(self._kept if kept else self._frames)
        if last_s is not None:
            frames = [f for f in frames if frames[-1][1] - f[1] <= last_s]
        xy = np.stack([f[2] for f in frames])
        scores = np.stack([f[3] for f in frames])
        times = np.array([f[1] for f in frames])
        feats = [f[5] for f in frames]
        images = None if any(f is None for f in feats) else FrameFeatures.stack(feats)
        world = stack_world([f[4] for f in frames], xy.shape[1])  # 3D signals where the model has them
        span = float(times[-1] - times[0]) if len(times) >= 2 else 0.0
        fps = (len(times) - 1) / span if span > 0 and len(times) >= 8 else self.fps
        return PoseSequence(xy, scores, CORE_SKELETON, fps, times, world=world, frames=images)

    def _step_exercise(self) -> RepEvent | None:
        assert self.exercise is not None
        seq = self._sequence(BUFFER_S)
        body = Body.from_sequence(seq, self.min_score)
        first = self._frames[-len(seq)][0]
        frame, t = self._frames[-1][0], self._frames[-1][1]
        if self.exercise.is_hold:
            self._step_hold(body, t)
            return None
        drive = driving_signal(body, self.exercise, body.views())
        ok = bool(posture_mask(body, self.exercise)[-1])
        cut = False
        if seq.frames is not None:
            moved = bool(person_jumps(body)[-1])
            cut = cut_now(seq.frames.slice(max(0, len(seq) - round(2 * seq.fps)), len(seq)), seq.fps, moved)
        depth = float(drive.depth[-1])
        self.trace.append((frame, t, depth, float(drive.value[-1]), int(drive.source[-1]), ok, cut))
        self._drive_names = (drive.names, drive.messages)
        event = self.counter.update(frame, t, depth, ok, cut)
        if event is not None:
            self._judge(body, drive, event, first)
        return event

    def _judge(self, body: Body, drive: Driving, event: RepEvent, first: int) -> None:
        """Form feedback for a rep that just ended (frames shifted into the buffer)."""
        assert self.exercise is not None and self.counter is not None
        number = self.counter.count if event.complete else self.counter.count + 1
        local = replace(
            event, start=max(0, event.start - first), turn=max(0, event.turn - first), end=event.end - first
        )
        found: list[FormIssue] = []
        if not event.complete:
            if told_partial(body, local):
                value, message = partial_feedback(drive, local)
                found.append(
                    FormIssue(number, event.turn, event.turn_s, "partial_rep", message, "warning", value, partial=True)
                )
        else:
            views = body.views()[local.start : local.end + 1]
            known = [v for v in views if v != "unknown"]
            view = max(set(known), key=known.count) if known else "unknown"
            if not drive.source[local.start : local.end + 1].any():  # the main signal (not a view stand-in)
                event.symmetry = rep_symmetry(body, self.exercise, local, view)
            for issue in check_rep(body, self.exercise, local, number, view, body.times, drive.depth):
                issue.frame += first
                found.append(issue)
        self.issues += [(event.end_s, issue) for issue in found]
        self.judged.append((event, found))

    def _step_hold(self, body: Body, t: float) -> None:
        assert self.exercise is not None
        dt = max(0.0, t - self._frames[-2][1]) if len(self._frames) >= 2 else 1.0 / self.fps
        signal = signal_of(body, self.exercise.signal)
        if not (posture_mask(body, self.exercise, unknown_ok=False)[-1] and np.isfinite(signal[-1])):
            self._hold_fail.clear()
            return
        self.hold_s += dt
        view = body.views()[-1]
        for rule in self.exercise.active_rules:
            value = float(signal_of(body, rule.signal)[-1])
            failing = rule.fails(value, uncertainty(rule.signal.name, view)) and (not rule.views or view in rule.views)
            if not failing:
                self._hold_fail.pop(rule.id, None)
                continue
            since = self._hold_fail.setdefault(rule.id, t)
            if t - since >= rule.min_duration_s and not any(i.rule == rule.id and s >= since for s, i in self.issues):
                self.issues.append(
                    (t, FormIssue(0, self._frames[-1][0], t, rule.id, rule.text(value), rule.severity, value))
                )

    def _count_periodic(self, pixels: bool = True) -> None:
        """The pose count every call, fused with the pixels' count (re-measured when ``pixels``; it costs more)."""
        from poseit.coach.frames import cut_mask
        from poseit.coach.periodic import count_periodic, count_pixels, fuse

        seq = self._sequence(kept=True)
        body = Body.from_sequence(seq)
        if pixels and seq.frames is not None:
            cuts = cut_mask(seq.frames, self.fps, len(seq))
            self._pixels, self._usable = count_pixels(seq.frames, self.fps, cuts), ~cuts
        present = np.isfinite(body.mid("hip")).all(axis=1) & np.isfinite(body.torso)
        self._periodic_count = fuse(count_periodic(body), present, self._pixels, self._usable).result.count

    def _maybe_choose(self) -> None:
        seq = self._sequence(kept=True)
        if seq.present.sum() < AUTO_WATCH_S * self.fps:
            return
        body = Body.from_sequence(seq)
        choice, _info = choose_exercise(seq, body)
        if choice == ANY:
            self.mode = ANY
            self._count_periodic()
            return
        self._start(get_exercise(choice))
        history = list(self._kept)
        self._frames, self._kept = deque(), deque()
        for item in history:  # replay what was seen through the chosen exercise's counter
            self._remember(item)
            self._step_exercise()

    # --- output -----------------------------------------------------------------------------------------------
    @property
    def reps(self) -> int:
        if self.mode == ANY:
            return self._periodic_count
        return self.counter.count if self.exercise is not None and self.counter is not None else 0

    @property
    def partial_reps(self) -> int:
        return self.counter.partial_count if self.exercise is not None and self.counter is not None else 0

    def _overlay(self, t: float) -> list[str]:
        if self.mode == AUTO:
            return ["coach: watching to recognise the exercise..."]
        name = self.exercise.name if self.exercise is not None else "Repetitions (any)"
        hold = self.hold_s if self.exercise is not None and self.exercise.is_hold else None
        recent = [i.message for s, i in self.issues if s <= t < s + FEEDBACK_SHOW_S][-2:]
        return status_lines(name, self.reps, self.partial_reps, hold, recent)

    def _record(self, event: RepEvent | None) -> dict[str, Any]:
        rec: dict[str, Any] = {"exercise": self.mode, "reps": self.reps, "partial_reps": self.partial_reps}
        if self.exercise is not None and self.exercise.is_hold:
            rec["hold_s"] = round(self.hold_s, 3)
        if self.exercise is not None and self.counter is not None:
            rec["state"] = self.counter.state
        if event is not None:
            rec["event"] = {"start": event.start, "turn": event.turn, "end": event.end, "complete": event.complete}
        t = self._frames[-1][1]
        new = [i for s, i in self.issues if s == t]
        if new:
            rec["feedback"] = [{"rule": i.rule, "message": i.message, "severity": i.severity} for i in new]
        return rec

    def close(self) -> None:
        """End of the stream: a rep past its turn but unfinished becomes partial; ``any`` counts once more."""
        if self.mode == ANY and self._kept:
            self._count_periodic()
        elif self.exercise is not None and self.counter is not None:
            event = self.counter.finish()
            if event is not None:
                seq = self._sequence(BUFFER_S)
                body = Body.from_sequence(seq, self.min_score)
                drive = driving_signal(body, self.exercise, body.views())
                self._judge(body, drive, event, self._frames[-len(seq)][0])
            self._last_shot_is_the_end()
            self._summarise_repeated()
            if not self.exercise.is_hold and len(self._kept) >= 2:
                from poseit.coach.fusion import periodicity_info

                self.periodicity = periodicity_info(self._sequence(kept=True), len(self.counter.reps), self.min_score)

    def _summarise_repeated(self) -> None:
        """A fault on every counted rep (at least `SUMMARY_MIN_REPS`) is one summary, not one warning per rep:
        "On every rep: ..." with the median value, pointing at the rep that shows the median."""
        reps = [e for e, _ in self.judged if e.complete]
        if len(reps) < SUMMARY_MIN_REPS:
            return
        by_rule: dict[str, list[FormIssue]] = {}
        for event, found in self.judged:
            for issue in found:
                if event.complete and not issue.partial:
                    by_rule.setdefault(issue.rule, []).append(issue)
        for rule, issues in by_rule.items():
            if len({i.rep for i in issues}) < len(reps):
                continue
            ordered = sorted(issues, key=lambda i: 0.0 if i.value is None else i.value)
            middle = ordered[len(ordered) // 2]
            summary = replace(middle, rep=0, message=f"On every rep: {middle.message}")
            self.issues = [(s, i) for s, i in self.issues if i.rule != rule or i.partial] + [
                (self._frames[-1][1], summary)
            ]
            self.judged = [(e, [i for i in f if i.rule != rule or i.partial]) for e, f in self.judged]
            self.summaries.append(summary)

    def _last_shot_is_the_end(self) -> None:
        """A rep dropped at a shot boundary after which the stream lasted less than a rep is the clip ending,
        not a cut (a dev pull-up clip's last frame jumps to another picture while the person is at the top):
        "not finished before the end of the video", never "the video cuts away"."""
        if not self.judged or not self._frames or self.exercise is None or self.exercise.phases is None:
            return
        event, found = self.judged[-1]
        if event.reason != "cut" or self._frames[-1][1] - event.end_s >= self.exercise.phases.min_rep_s:
            return
        event.reason = "end"
        for issue in found:
            if issue.partial:
                issue.message = UNFINISHED["end"]

    def confidence(self) -> tuple[float | None, bool, dict[str, float]]:
        """(confidence, uncertain, evidence) of the count so far (`poseit.coach.confidence`); a rep exercise's
        is computed from the counter's own reps and attempts, as the offline analysis does."""
        from poseit.coach.confidence import Cycle, evidence, probability, uncertain

        if self.exercise is None or self.counter is None:
            return None, False, {}
        cycles = [Cycle(e.complete, e.relative_depth, e.duration_s, e.reason) for e, _ in self.judged]
        reps = [e for e, _ in self.judged if e.complete]
        lost = 0.0
        if reps:
            first, last = min(e.start for e in reps), max(e.end for e in reps)
            usable = [ok and np.isfinite(d) for f, _t, d, _v, _s, ok, _c in self.trace if first <= f <= last]
            lost = 1.0 - float(np.mean(usable)) if usable else 0.0
        found = evidence(cycles, lost, self.periodicity)
        p = probability(found)
        return round(p, 3), uncertain(p), found

    def summary(self) -> dict[str, Any]:
        """Totals at the end of a run."""
        confidence, unsure, _evidence = self.confidence()
        return {
            "exercise": self.mode,
            "reps": self.reps,
            "partial_reps": self.partial_reps,
            "confidence": confidence,
            "uncertain": unsure,
            "hold_s": round(self.hold_s, 3) if self.exercise is not None and self.exercise.is_hold else None,
            "form_issues": [
                {"rep": i.rep, "time_s": round(i.time_s, 3), "message": i.message, "severity": i.severity}
                for _, i in self.issues
            ],
        }

    def analysis(self, body: Body) -> Analysis:
        """The `Analysis` of a rep exercise coached so far; ``body`` is the whole sequence the frames came from
        (per-rep metrics are measured on it; the count, the counter's input and the feedback are this coach's)."""
        ex = self.exercise
        assert ex is not None and ex.phases is not None and self.counter is not None
        n = len(body)
        depth, value = np.full(n, np.nan), np.full(n, np.nan)
        source, ok, cuts = np.zeros(n, dtype=int), np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        for frame, _t, d, v, src, good, cut in self.trace:
            depth[frame], value[frame], source[frame], ok[frame], cuts[frame] = d, v, src, good, cut
        names, messages = getattr(self, "_drive_names", ([ex.signal.name], [ex.partial_message]))
        drive = Driving(depth, value, source, names, messages)
        views = body.views()
        reps: list[Rep] = []
        partials: list[Rep] = []
        for event, found in sorted(self.judged, key=lambda item: item[0].start):
            rep = rep_metrics(body, ex, event, len(reps) + 1, views, drive)
            rep.issues = found
            (reps if event.complete else partials).append(rep)
        ph = ex.phases
        result = Analysis(
            ex.id,
            ex.name,
            ex.mode,
            body.fps,
            body.times,
            ex.signal.name,
            signal_of(body, ex.signal),
            reps,
            partials,
            sorted((i for _, i in self.issues), key=lambda i: i.frame),
            None,
            [],
            views,
            ok & np.isfinite(depth),
            cuts,
            {"rest": ph.rest, "leave": ph.leave, "turn": ph.turn, "typical_range": self.counter.typical},
            depth=depth,
            periodicity=self.periodicity,
        )
        result.confidence, result.uncertain, result.evidence = self.confidence()
        return result
