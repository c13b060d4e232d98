"""The rep counter: a streaming detector of complete movement cycles of one driving signal.

A rep is a complete cycle *relative to the person's own range*: the signal leaves the person's rest position,
travels at least `CycleKnobs.turn_share` of their typical range of motion, and comes back at least
`CycleKnobs.return_share` of the way. The typical range starts as the exercise definition's rest->turn span and
is then learned from the person's counted reps (the median of the last `CycleKnobs.memory`), so a phone that
foreshortens a curl, or a person who squats deeper than the definition, is counted on their own scale. How deep
a rep went is feedback on a counted rep, never a reason to drop it; ``strict=True`` brings back
competition-style "no rep" rules: the definition's own rest and turn thresholds must both be reached.

Fed one frame at a time (``update``): the same code counts live and offline. Robust to

- jitter: hysteresis (a rep begins only ``band`` past the rest it left: the definition's rest->leave distance)
  and reps shorter than ``min_rep_s`` are ignored;
- dropped frames, short occlusions, a person briefly out of posture: frames without a value are skipped; only
  a gap longer than ``max_gap_s`` abandons the rep in progress;
- cuts and a person leaving the frame: ``cut=True`` (or a long gap) ends the rep in progress; one that had
  turned is recorded as partial, and counting resumes from the next rest position;
- pauses at the top or bottom: states persist until the signal crosses the next threshold;
- one frame back at rest in the middle of a rep (a pose glitch): a return ends the rep only where the next
  frame with a value stays returned.

A partial rep is an attempt that does not complete the cycle: it turned but the video cut, the person was lost
or the clip ended before the return (``cut``, ``gap``, ``end``), or it came back having travelled less than
``turn_share`` of the typical range but at least ``partial_share`` of it (``shallow``).

The counter reads *depth*: 0 at the definition's rest threshold, 1 at its turn (`Phases.depth`), so one counter
serves every signal.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass, field

from poseit.coach.library import Phases

FRESH, REST, DOWN, TURNED = "fresh", "rest", "down", "turned"
REST_TOLERANCE = 0.1  # depth: frames this close to the most rested one are still "at the top"
START_S = 0.5  # ``rest_from_start``: the first this many seconds of values tell which end the person starts at


@dataclass(frozen=True)
class CycleKnobs:
    """The counter's knobs, in shares of the person's typical range of motion (depth units)."""

    turn_share: float = 0.5  # a rep travels at least this share of the typical range ...
    return_share: float = 0.6  # ... and comes back at least this share of the way it went
    partial_share: float = 0.25  # a shallower attempt than turn_share, but past this, is a partial
    memory: int = 5  # the typical range is the median of the last this many counted reps
    rest_window_s: float = 3.0  # the rest a rep leaves is the most rested depth of the last this many seconds
    min_amplitude: float = 0.5  # never a rep below this (depth units): jitter and shifts of position


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
    extreme: float  # depth at the turn (1 = exactly the definition's turn threshold)
    reason: str = ""  # for partial reps: "shallow", "cut", "gap" or "end"
    amplitude: float = float("nan")  # depth travelled from the rest it left to the turn
    typical: float = float("nan")  # the typical range of motion when the rep ended
    symmetry: float | None = None  # left/right balance of the rep (`poseit.coach.judge.rep_symmetry`), once judged

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def relative_depth(self) -> float:
        """The rep's range as a share of the person's typical range (1 = as deep as usual)."""
        return self.amplitude / self.typical if self.typical > 0 else float("nan")


@dataclass
class _Rep:
    start: tuple[int, float]
    rest: float  # the rest depth it left
    extreme: tuple[int, float, float] = (0, 0.0, -math.inf)  # frame, time, depth

    @property
    def amplitude(self) -> float:
        return self.extreme[2] - self.rest


@dataclass
class RepCounter:
    """Counts reps of one exercise from its depth signal (see the module doc)."""

    phases: Phases
    strict: bool = False
    knobs: CycleKnobs = field(default_factory=CycleKnobs)

    def __post_init__(self) -> None:
        self.band = float(self.phases.depth(self.phases.leave))  # hysteresis: rest -> leave, in depth units
        self.reps: list[RepEvent] = []
        self.partials: list[RepEvent] = []
        self.state = FRESH
        self.amplitudes: list[float] = []  # of the counted reps
        self._last_valid: tuple[int, float] | None = None
        self._rest = math.inf  # the most rested depth of the recent rest frames
        self._recent: deque[tuple[float, float]] = deque()  # (time, depth) of the recent rest frames
        self._rest_at: tuple[int, float] = (0, 0.0)  # last frame at the top of the rest position
        self._rep: _Rep | None = None
        self._pending: tuple[int, float, float] | None = None  # a return waiting for the next frame
        # ``rest_from_start``: the definition's two ends may swap roles (a Romanian deadlift starts and ends
        # standing, a deadlift from the floor on the floor); the first START_S of frames decide, then replay
        self.flipped: bool | None = None if self.phases.rest_from_start else False
        self._start_frames: list[tuple[int, float, float | None, bool, bool]] = []

    # --- the person's range ----------------------------------------------------------------------------------
    @property
    def typical(self) -> float:
        """The person's typical range of motion in depth units: the definition's span (1) until a rep is
        counted, then the median of the last `CycleKnobs.memory` counted reps."""
        if not self.amplitudes:
            return 1.0
        return float(statistics.median(self.amplitudes[-self.knobs.memory :]))

    def turn_at(self) -> float:
        """Depth a rep must travel from its rest to count."""
        return max(self.knobs.min_amplitude, self.knobs.turn_share * self.typical)

    @property
    def count(self) -> int:
        return len(self.reps)

    @property
    def partial_count(self) -> int:
        return len(self.partials)

    # --- frames ----------------------------------------------------------------------------------------------
    def update(
        self, frame: int, time_s: float, depth: float | None, ok: bool = True, cut: bool = False
    ) -> RepEvent | None:
        """Feed one frame; returns the rep (complete or partial) that ended on it, if any. ``depth`` is the
        driving signal as depth (None/NaN when unknown), ``ok`` whether the posture holds, ``cut`` whether a new
        shot starts here."""
        if self.flipped is None:
            return self._decide_rest(frame, time_s, depth, ok, cut)
        if self.flipped and depth is not None:
            depth = 1.0 - depth
        return self._update(frame, time_s, depth, ok, cut)

    def _decide_rest(
        self, frame: int, time_s: float, depth: float | None, ok: bool, cut: bool, end: bool = False
    ) -> RepEvent | None:
        """``rest_from_start``: hold the first frames until `START_S` of values are seen, take the end of the
        range the person starts nearer to as rest, then replay them."""
        if not end:
            self._start_frames.append((frame, time_s, depth, ok, cut))
        values = [(t, d) for _, t, d, good, _ in self._start_frames if good and d is not None and math.isfinite(d)]
        if not end and (len(values) < 2 or values[-1][0] - values[0][0] < START_S):
            return None
        self.flipped = bool(values) and statistics.median(d for _, d in values) > 0.5
        ended = None
        for item in self._start_frames:
            ended = self.update(*item) or ended
        self._start_frames = []
        return ended

    def _update(self, frame: int, time_s: float, depth: float | None, ok: bool, cut: bool) -> RepEvent | None:
        ended = None
        if cut and self.state != FRESH:
            ended = self._abandon("cut")
        valid = ok and depth is not None and math.isfinite(depth)
        if not valid:
            if self._last_valid is not None and time_s - self._last_valid[1] > self.phases.max_gap_s:
                ended = self._abandon("gap") or ended
            return ended
        d = float(depth)  # type: ignore[arg-type]
        self._last_valid = (frame, time_s)
        if self._pending is not None:
            if self._returned(d):  # the return holds: the rep ended on the pending frame
                ended = self._confirm() or ended
            else:  # one frame back in the middle of a rep is a pose glitch: ride over it
                self._pending = None
        if self.state in (FRESH, REST):
            self._at_rest(frame, time_s, d)
            if d >= self._rest + self.band:
                self._rep = _Rep(self._rest_at, self._rest, (frame, time_s, d))
                self.state, self._recent = DOWN, deque()
            return ended
        assert self._rep is not None
        if d > self._rep.extreme[2]:
            self._rep.extreme = (frame, time_s, d)
        if self.state == DOWN and self._turned(self._rep):
            self.state = TURNED
        if self._returned(d):  # back: the rep ends here if the next frame with a value stays back
            self._pending = (frame, time_s, d)
        return ended

    def finish(self) -> RepEvent | None:
        """End of stream: a pending return ends its rep; a rep that turned and did not come back is partial."""
        if self.flipped is None:
            self._decide_rest(0, 0.0, None, False, False, end=True)
        if self._pending is not None:
            return self._confirm()
        return self._abandon("end")

    # --- internals -------------------------------------------------------------------------------------------
    def _at_rest(self, frame: int, time_s: float, d: float) -> None:
        """Follow the rest position: its most rested depth over the last `CycleKnobs.rest_window_s` (a stale
        glitch does not stay the reference), and the last frame near it (where a rep starts)."""
        self.state = REST
        self._recent.append((time_s, d))
        while self._recent and time_s - self._recent[0][0] > self.knobs.rest_window_s:
            self._recent.popleft()
        self._rest = min(v for _, v in self._recent)
        if d <= self._rest + REST_TOLERANCE:
            self._rest_at = (frame, time_s)

    def _turned(self, rep: _Rep) -> bool:
        if self.strict:
            return rep.extreme[2] >= 1.0
        return rep.amplitude >= self.turn_at()

    def _returned(self, d: float) -> bool:
        """Whether ``d`` is back far enough to end the rep in progress (a shallow attempt: back past ``band``)."""
        rep = self._rep
        if rep is None or self.state not in (DOWN, TURNED):
            return False
        if self.strict:
            return d <= 0.0
        if self.state == DOWN:
            return d <= rep.rest + self.band / 2
        return d <= rep.extreme[2] - self.knobs.return_share * rep.amplitude

    def _confirm(self) -> RepEvent | None:
        assert self._pending is not None and self._rep is not None
        frame, time_s, d = self._pending
        self._pending = None
        turned = self.state == TURNED
        rep = self._close(frame, time_s, complete=turned, reason="" if turned else "shallow")
        self.state, self._rep, self._recent = REST, None, deque([(time_s, d)])
        self._rest, self._rest_at = d, (frame, time_s)
        return rep

    def _close(self, frame: int, time_s: float, complete: bool, reason: str) -> RepEvent | None:
        rep = self._rep
        assert rep is not None
        start, start_s = rep.start
        if time_s - start_s < self.phases.min_rep_s:
            return None
        if not complete and reason == "shallow" and rep.amplitude < self.knobs.partial_share * self.typical:
            return None  # a wobble, not an attempt
        turn, turn_s, depth = rep.extreme
        depth = 1.0 - depth if self.flipped else depth  # in the definition's depth, whichever end is rest
        event = RepEvent(start, turn, frame, start_s, turn_s, time_s, complete, depth, reason, rep.amplitude)
        if complete:
            self.amplitudes.append(rep.amplitude)
        event.typical = self.typical
        (self.reps if complete else self.partials).append(event)
        return event

    def _abandon(self, reason: str) -> RepEvent | None:
        if self._pending is not None:  # it was back before the cut or gap: that rep was finished
            rep = self._confirm()
            self.state, self._last_valid, self._recent = FRESH, None, deque()
            return rep
        event = None
        if self.state == TURNED and self._last_valid is not None:
            event = self._close(*self._last_valid, complete=False, reason=reason)
        self.state, self._last_valid, self._rep, self._recent = FRESH, None, None, deque()
        return event
