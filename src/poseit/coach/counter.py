"""The rep counter: a streaming state machine over one driving signal, with hysteresis.

Fed one frame at a time (``update``), so the same code counts live and offline. It is robust to:

- jitter: hysteresis between the ``rest`` and ``leave`` thresholds, and reps shorter than ``min_rep_s`` are
  ignored;
- dropped frames, short occlusions, a person briefly out of posture: frames without a value are skipped; only
  a gap longer than ``max_gap_s`` abandons the rep in progress;
- cuts and a person leaving the frame: ``cut=True`` (or a long gap) ends the rep in progress; one that had
  reached its turn is recorded as partial, and counting resumes from the next rest position;
- pauses at the top or bottom: states persist until the signal crosses the next threshold;
- one frame at rest in the middle of a rep (a pose glitch: on a dev pull-up the elbow read 70, 143, 119 deg on
  three frames at the top): a return to rest ends the rep only where the next frame with a value stays on the
  rest side of ``leave`` (the rep's event comes one frame later);
- partial reps (back to rest without reaching ``turn``) are counted separately;
- the clip ending while the person holds still on the way back, past ``leave`` but short of ``rest`` (a
  straight arm that reads a few degrees short), for `END_HOLD_S`: that rep is finished, not cut short.

A clip may start mid-rep: a first value between ``leave`` and ``turn`` joins that rep (it counts if its turn
and return are seen); a first value already past ``turn`` waits for the next rest position.

The counter reads *depth*: 0 at the rest threshold, 1 at the turn threshold (`Phases.depth` maps a signal onto
it), so one counter serves every signal, and a definition may drive it with different signals per view.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from poseit.coach.library import Phases

FRESH, REST, DOWN, TURNED, IDLE = "fresh", "rest", "down", "turned", "idle"
# At the end of the stream, a rep back on the rest side of ``leave`` and still there (within END_HOLD_SPREAD of
# depth) for END_HOLD_S is finished: on a dev push-up clip the person is back at the top and holds it for the
# last 0.3 s at a 3D elbow of 144-146 deg, short of the definition's 150, and was told "Rep not finished".
END_HOLD_S = 0.25
END_HOLD_SPREAD = 0.1


@dataclass
class RepEvent:
    """One rep found by the counter (frame indices into the stream; times in seconds)."""

    start: int
    turn: int
    end: int
    start_s: float
    turn_s: float
    end_s: float
    complete: bool
    extreme: float  # depth at the turn (1 = exactly the turn threshold)
    reason: str = ""  # for partial reps: "shallow", "cut", "gap" or "end"

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


class RepCounter:
    """Counts reps of one exercise from its driving signal (see the module doc)."""

    def __init__(self, phases: Phases) -> None:
        self.phases = phases
        # internally "more rested is higher": x = -depth; rest at 0, the turn at -1
        self._rest, self._leave, self._turn = 0.0, -phases.depth(phases.leave), -1.0
        self.reps: list[RepEvent] = []
        self.partials: list[RepEvent] = []
        self.state = FRESH
        self._last_valid: tuple[int, float] | None = None  # (frame, time) of the last frame with a value
        self._rest_at: tuple[int, float] = (0, 0.0)  # last frame at the top of the rest position: a rep starts here
        self._rest_peak = -math.inf  # the most rested value seen since entering rest
        self._tolerance = 0.1
        self._start: tuple[int, float] = (0, 0.0)
        self._extreme: tuple[int, float, float] = (0, 0.0, math.inf)  # frame, time, value (normalised)
        self._recent: list[tuple[float, float]] = []  # (time, x) of the valid frames of the last END_HOLD_S
        self._pending: tuple[int, float, float] | None = None  # a return to rest waiting for the next frame

    @property
    def count(self) -> int:
        return len(self.reps)

    @property
    def partial_count(self) -> int:
        return len(self.partials)

    def update(
        self, frame: int, time_s: float, depth: float | None, ok: bool = True, cut: bool = False
    ) -> RepEvent | None:
        """Feed one frame; returns the rep (complete or partial) that ended on it, if any. ``depth`` is the
        driving signal as depth (None/NaN when unknown), ``ok`` whether the posture holds, ``cut`` whether a new
        shot starts here."""
        ended = None
        if cut and self.state != FRESH:
            ended = self._abandon("cut")
        valid = ok and depth is not None and math.isfinite(depth)
        if not valid:
            if self._last_valid is not None and time_s - self._last_valid[1] > self.phases.max_gap_s:
                ended = self._abandon("gap") or ended
            return ended
        x = -float(depth)  # type: ignore[arg-type]
        self._last_valid = (frame, time_s)
        self._recent.append((time_s, x))
        while len(self._recent) > 2 and time_s - self._recent[1][0] >= END_HOLD_S:
            self._recent.pop(0)  # keep the last END_HOLD_S and the frame just before it
        if self._pending is not None:
            if x > self._leave:  # the return holds: the rep ended there
                ended = self._confirm() or ended
            else:  # one frame at rest in the middle of a rep is a pose glitch: ride over it
                self._pending = None
        if self.state == FRESH:
            if x > self._leave:
                self._enter_rest(frame, time_s, x)
            elif x > self._turn:  # joined a rep in progress
                self._begin(frame, time_s, x)
            else:
                self.state = IDLE
            return ended
        if self.state == IDLE:
            if x >= self._rest:
                self._enter_rest(frame, time_s, x)
            return ended
        if self.state == REST:
            if x >= self._rest_peak - self._tolerance:  # still at the top of the rest position
                self._rest_at, self._rest_peak = (frame, time_s), max(self._rest_peak, x)
            elif x <= self._leave:
                self._begin(*self._rest_at, x)
                # the deepest frame so far is this one (not the rest frame the rep starts from: a shallow
                # attempt that only just passes leave was reported with the value at the top, "Partial push-up:
                # elbows bent only to 166 deg")
                self._extreme = (frame, time_s, x)
            return ended
        self._track(frame, time_s, x)
        if self.state == DOWN and x <= self._turn:
            self.state = TURNED
        if x >= self._rest:  # back at rest: the rep ends here if the next frame with a value stays there
            self._pending = (frame, time_s, x)
        return ended

    def _confirm(self) -> RepEvent | None:
        assert self._pending is not None
        frame, time_s, x = self._pending
        self._pending = None
        turned = self.state == TURNED
        rep = self._close(frame, time_s, complete=turned, reason="" if turned else "shallow")
        self._enter_rest(frame, time_s, x)
        return rep

    def finish(self) -> RepEvent | None:
        """End of stream: a rep that reached its turn but not rest again is recorded as partial, unless the
        person has come back past ``leave`` and holds still there (see `END_HOLD_S`): then it is complete."""
        if self._pending is not None:
            return self._confirm()
        if self.state == TURNED and self._last_valid is not None and self._holding_back():
            rep = self._close(*self._last_valid, complete=True, reason="")
            self.state, self._last_valid = FRESH, None
            if rep is not None:
                return rep
        return self._abandon("end")

    def _holding_back(self) -> bool:
        if not self._recent or self._recent[-1][0] - self._recent[0][0] < END_HOLD_S - 1e-6:
            return False
        xs = [v for _, v in self._recent]
        return min(xs) > self._leave and max(xs) - min(xs) <= END_HOLD_SPREAD

    # --- internals -----------------------------------------------------------------------------
    def _enter_rest(self, frame: int, time_s: float, x: float) -> None:
        self.state, self._rest_at, self._rest_peak = REST, (frame, time_s), x

    def _begin(self, frame: int, time_s: float, x: float) -> None:
        self.state = DOWN
        self._start = (frame, time_s)
        self._extreme = (frame, time_s, x)

    def _track(self, frame: int, time_s: float, x: float) -> None:
        if x < self._extreme[2]:
            self._extreme = (frame, time_s, x)

    def _close(self, frame: int, time_s: float, complete: bool, reason: str) -> RepEvent | None:
        start, start_s = self._start
        if time_s - start_s < self.phases.min_rep_s:
            return None
        turn, turn_s, x = self._extreme
        rep = RepEvent(start, turn, frame, start_s, turn_s, time_s, complete, -x, reason)
        (self.reps if complete else self.partials).append(rep)
        return rep

    def _abandon(self, reason: str) -> RepEvent | None:
        if self._pending is not None:  # it was back at rest before the cut or gap: that rep was finished
            rep = self._confirm()
            self.state, self._last_valid, self._recent = FRESH, None, []
            return rep
        rep = None
        if self.state == TURNED and self._last_valid is not None:
            rep = self._close(*self._last_valid, complete=False, reason=reason)
        self.state = FRESH
        self._last_valid = None
        self._recent = []
        return rep
