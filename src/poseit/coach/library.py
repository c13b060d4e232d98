"""The exercise library: one declarative TOML file per exercise in ``poseit/coach/exercises/``.

Code interprets these definitions; there is no per-exercise code path. A definition names:

- ``id``, ``name``, ``mode`` (``reps`` or ``hold``), optional ``labels`` (recognition class names, e.g. Penn Action's);
- ``[signal]``: the driving signal (see `poseit.coach.kinematics`), how the two sides combine, and which end
  of its range is rest (``rest = "high"``: standing tall in a squat, ``"low"``: bar on the floor in a deadlift);
- ``[phases]`` (reps): thresholds on the driving signal with hysteresis. At rest at or beyond ``rest``; a rep
  begins when the signal passes ``leave``; it is complete when it reaches ``turn`` and comes back to ``rest``,
  partial when it comes back without reaching ``turn``. ``first`` says whether leaving rest is the eccentric
  (lowering) or concentric phase; ``min_rep_s`` rejects jitter; ``max_gap_s`` is how long the person may be
  lost (or out of posture) before the rep in progress is abandoned;
- ``[views.<view>]`` (optional): another driving signal for that view (``front``, ``side``, ``oblique``) with
  its own ``rest`` and ``turn``; the counter reads every signal as depth (0 at rest, 1 at the turn);
- ``[posture]``: ranges other signals must lie in for the counter (or the hold timer) to run, e.g. a push-up
  needs a near-horizontal trunk; outside them the coach waits;
- ``[[rules]]``: form rules. Each takes a statistic (``min``, ``max``, ``mean``, ``median``, ``range``) of a
  signal over a window (``rep``: the whole rep; ``turn``: the frames at its turning point, within 0.1 depth
  of the deepest; ``hold``: while holding), compares it (``above`` / ``below``), and yields ``message`` with
  ``severity`` (``info``, ``warning``, ``error``) where it fails; ``views`` limits a rule to the views where
  it can be judged in 2D; a rule on a signal measured in 3D (``world = true`` in ``signals.toml``) applies in
  every view when the model gives world landmarks, and ``only_2d = true`` marks a rule that stands in for a 3D
  measure in 2D only (e.g. hip drop from the front, where the knee angle cannot be seen);
- ``[valid]`` (optional): narrower validity ranges for this exercise than ``signals.toml``'s (a squat never
  leans past 90 deg); frames outside any range are bad poses: skipped by the counter and by the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser as the tomli package, if installed
    import tomli as tomllib  # type: ignore[no-redef]

from poseit.coach.kinematics import COMBINES, SIGNALS, VIEWS, valid_range
from poseit.errors import PoseItError

MODES = ("reps", "hold")
SEVERITIES = ("info", "warning", "error")
STATS = ("min", "max", "mean", "median", "range")
WINDOWS = ("rep", "turn", "hold")


@dataclass(frozen=True)
class SignalSpec:
    """A named kinematic signal and how its two sides combine."""

    name: str
    combine: str = "auto"

    def __post_init__(self) -> None:
        base = self.name.removeprefix("left_").removeprefix("right_")
        if base not in SIGNALS:
            raise PoseItError(f"unknown signal {self.name!r}; known: {', '.join(SIGNALS)}")
        if self.combine not in COMBINES:
            raise PoseItError(f"unknown side combination {self.combine!r}; known: {', '.join(COMBINES)}")


@dataclass(frozen=True)
class Phases:
    """Rep thresholds on the driving signal (see the module doc)."""

    rest: float
    leave: float
    turn: float
    rest_end: str = "high"  # which end of the signal's range is rest
    first: str = "eccentric"  # what leaving rest is: eccentric (lowering) or concentric
    min_rep_s: float = 0.4
    max_gap_s: float = 1.0
    rest_from_start: bool = False  # the rest end is where the person starts (either end: see `RepCounter`)

    def __post_init__(self) -> None:
        if self.rest_end not in ("high", "low"):
            raise PoseItError(f"signal.rest must be 'high' or 'low', got {self.rest_end!r}")
        high = self.rest_end == "high"
        if not ((self.rest > self.leave > self.turn) if high else (self.rest < self.leave < self.turn)):
            word = "rest > leave > turn" if high else "rest < leave < turn"
            raise PoseItError(f"phase thresholds must satisfy {word}, got {self.rest}, {self.leave}, {self.turn}")
        if self.first not in ("eccentric", "concentric"):
            raise PoseItError(f"phases.first must be 'eccentric' or 'concentric', got {self.first!r}")

    def depth(self, value: float | np.ndarray) -> float | np.ndarray:
        """Where ``value`` lies between rest (0) and turn (1); beyond either end it goes past 0 or 1."""
        return (value - self.rest) / (self.turn - self.rest)


@dataclass(frozen=True)
class ViewSignal:
    """Another driving signal for one view (e.g. hip height where the knees are foreshortened from the front),
    with its own rest and turn thresholds; the rep counter reads both as depth."""

    view: str
    signal: SignalSpec
    rest: float
    turn: float
    partial_message: str = ""

    def depth(self, value: float | np.ndarray) -> float | np.ndarray:
        return (value - self.rest) / (self.turn - self.rest)


@dataclass(frozen=True)
class Rule:
    """One form rule: ``stat`` of ``signal`` over ``window`` must not be above/below a threshold."""

    id: str
    message: str
    severity: str
    signal: SignalSpec
    stat: str
    window: str = "rep"
    above: float | None = None
    below: float | None = None
    views: tuple[str, ...] = ()
    min_duration_s: float = 1.0  # hold rules: how long the fault must last
    only_2d: bool = False  # a 2D stand-in, not used where world landmarks give the 3D measure
    enabled: bool = True  # off: measured below the precision bar on dev (``why_off`` says), kept to be measured
    why_off: str = ""
    source: str = ""  # the coaching standard the rule follows

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise PoseItError(f"rule {self.id}: severity must be one of {', '.join(SEVERITIES)}")
        if self.stat not in STATS:
            raise PoseItError(f"rule {self.id}: stat must be one of {', '.join(STATS)}")
        if self.window not in WINDOWS:
            raise PoseItError(f"rule {self.id}: window must be one of {', '.join(WINDOWS)}")
        if (self.above is None) == (self.below is None):
            raise PoseItError(f"rule {self.id}: give exactly one of 'above' or 'below'")
        if any(v not in VIEWS for v in self.views):
            raise PoseItError(f"rule {self.id}: views must be among {', '.join(VIEWS)}")

    def fails(self, value: float, margin: float = 0.0) -> bool:
        """Whether ``value`` (the statistic) breaks the rule by more than ``margin`` (its uncertainty); NaN
        never does (nothing could be judged)."""
        if value != value:  # NaN
            return False
        if self.above is not None:
            return value > self.above + margin
        return value < self.below - margin  # type: ignore[operator]

    def text(self, value: float) -> str:
        try:
            return self.message.format(value=value)
        except (ValueError, KeyError, IndexError):
            return self.message


@dataclass(frozen=True)
class Exercise:
    """One exercise definition (see the module doc)."""

    id: str
    name: str
    mode: str
    signal: SignalSpec
    phases: Phases | None
    posture: dict[str, tuple[float, float]] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    labels: tuple[str, ...] = ()
    partial_message: str = "Partial rep: full range not reached"
    description: str = ""
    view_signals: tuple[ViewSignal, ...] = ()
    valid: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def is_hold(self) -> bool:
        return self.mode == "hold"

    @property
    def active_rules(self) -> tuple[Rule, ...]:
        """The rules that speak (``enabled``)."""
        return tuple(r for r in self.rules if r.enabled)

    def with_all_rules(self) -> Exercise:
        """This definition with its rules that are off by default switched on (to measure them)."""
        return replace(self, rules=tuple(replace(r, enabled=True) for r in self.rules))

    def valid_range(self, name: str) -> tuple[float, float]:
        """The validity range of a signal in this exercise (``[valid]``, else ``signals.toml``)."""
        return self.valid.get(name) or valid_range(name)

    def used_signals(self) -> list[SignalSpec]:
        """Every signal the definition reads (driving, view, posture and rule signals), once each."""
        specs = [self.signal, *(v.signal for v in self.view_signals), *(SignalSpec(n) for n in self.posture)]
        specs += [r.signal for r in self.rules]
        return list(dict.fromkeys(specs))


def _get(table: dict[str, Any], key: str, where: str, kind: type | tuple[type, ...] = str) -> Any:
    if key not in table:
        raise PoseItError(f"{where}: missing '{key}'")
    value = table[key]
    if not isinstance(value, kind):
        raise PoseItError(f"{where}: '{key}' has the wrong type ({type(value).__name__})")
    return value


def parse_exercise(data: dict[str, Any], where: str = "exercise") -> Exercise:
    """Validate one definition (a parsed TOML table) into an `Exercise`."""
    try:
        ex_id = _get(data, "id", where)
        where = f"exercise {ex_id}"
        mode = data.get("mode", "reps")
        if mode not in MODES:
            raise PoseItError(f"{where}: mode must be one of {', '.join(MODES)}")
        sig = _get(data, "signal", where, dict)
        signal = SignalSpec(_get(sig, "name", where), sig.get("combine", "auto"))
        phases = None
        if mode == "reps":
            ph = _get(data, "phases", where, dict)
            phases = Phases(
                rest=float(_get(ph, "rest", where, (int, float))),
                leave=float(_get(ph, "leave", where, (int, float))),
                turn=float(_get(ph, "turn", where, (int, float))),
                rest_end=sig.get("rest", "high"),
                first=ph.get("first", "eccentric"),
                min_rep_s=float(ph.get("min_rep_s", 0.4)),
                max_gap_s=float(ph.get("max_gap_s", 1.0)),
                rest_from_start=bool(ph.get("rest_from_start", False)),
            )
        view_signals = []
        for view, table in data.get("views", {}).items():
            vw = f"{where} views.{view}"
            if view not in VIEWS:
                raise PoseItError(f"{vw}: the view must be one of {', '.join(VIEWS)}")
            rest, turn = float(_get(table, "rest", vw, (int, float))), float(_get(table, "turn", vw, (int, float)))
            if rest == turn:
                raise PoseItError(f"{vw}: rest and turn must differ")
            view_signals.append(
                ViewSignal(
                    view,
                    SignalSpec(_get(table, "signal", vw), table.get("combine", "auto")),
                    rest,
                    turn,
                    table.get("partial_message", ""),
                )
            )
        posture = {}
        for name, bounds in data.get("posture", {}).items():
            SignalSpec(name)
            if not (isinstance(bounds, list) and len(bounds) == 2):
                raise PoseItError(f"{where}: posture.{name} must be [min, max]")
            posture[name] = (float(bounds[0]), float(bounds[1]))
        valid = {}
        for name, bounds in data.get("valid", {}).items():
            SignalSpec(name)
            if not (isinstance(bounds, list) and len(bounds) == 2 and bounds[0] < bounds[1]):
                raise PoseItError(f"{where}: valid.{name} must be [min, max] with min < max")
            valid[name] = (float(bounds[0]), float(bounds[1]))
        rules = []
        for i, r in enumerate(data.get("rules", [])):
            rw = f"{where} rule {r.get('id', i)}"
            rules.append(
                Rule(
                    id=_get(r, "id", rw),
                    message=_get(r, "message", rw),
                    severity=r.get("severity", "warning"),
                    signal=SignalSpec(_get(r, "signal", rw), r.get("combine", "auto")),
                    stat=_get(r, "stat", rw),
                    window=r.get("window", "hold" if mode == "hold" else "rep"),
                    above=None if r.get("above") is None else float(r["above"]),
                    below=None if r.get("below") is None else float(r["below"]),
                    views=tuple(r.get("views", ())),
                    min_duration_s=float(r.get("min_duration_s", 1.0)),
                    only_2d=bool(r.get("only_2d", False)),
                    enabled=bool(r.get("enabled", True)),
                    why_off=str(r.get("why_off", "")),
                    source=str(r.get("source", "")),
                )
            )
        return Exercise(
            id=ex_id,
            name=data.get("name", ex_id),
            mode=mode,
            signal=signal,
            phases=phases,
            posture=posture,
            rules=tuple(rules),
            labels=tuple(data.get("labels", ())),
            partial_message=data.get("partial_message", "Partial rep: full range not reached"),
            description=data.get("description", ""),
            view_signals=tuple(view_signals),
            valid=valid,
        )
    except (TypeError, ValueError) as exc:
        raise PoseItError(f"{where}: {exc}") from None


def load_exercise_file(path: str | Path) -> Exercise:
    """Read one definition from a TOML file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PoseItError(f"cannot read exercise definition {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PoseItError(f"{path}: not valid TOML ({exc})") from None
    return parse_exercise(data, str(path))


@cache
def library() -> dict[str, Exercise]:
    """All packaged definitions by id, in file-name order."""
    folder = resources.files("poseit.coach") / "exercises"
    out: dict[str, Exercise] = {}
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".toml"):
            data = tomllib.loads(item.read_text(encoding="utf-8"))
            ex = parse_exercise(data, item.name)
            out[ex.id] = ex
    return out


def get_exercise(name: str) -> Exercise:
    """A packaged definition by id, or a definition file by path."""
    if name.endswith(".toml"):
        return load_exercise_file(name)
    exercises = library()
    if name not in exercises:
        raise PoseItError(f"unknown exercise {name!r}; known: {', '.join(exercises)}, auto, any")
    return exercises[name]
