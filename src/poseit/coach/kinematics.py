"""Kinematics from any skeleton, by joint name: joint angles, trunk lean, hip line, view, body size.

Every skeleton is first mapped onto the shared core of 13 joints (head, shoulders, elbows, wrists, hips,
knees, ankles; the ``penn13`` layout), so the same code serves BlazePose-33 from video, MPII-16 from the
hourglass models and Penn-13 labels. All signals are (T,) float arrays, NaN where the joints they need are
unknown or scored below ``min_score``:

- angles in degrees: ``knee_angle`` (hip-knee-ankle, 180 = straight leg), ``hip_angle`` (shoulder-hip-knee),
  ``elbow_angle`` (shoulder-elbow-wrist), ``shoulder_angle`` (hip-shoulder-elbow: 0 = arm along the trunk,
  180 = overhead), ``trunk_lean`` (hips->shoulders against image vertical: 0 upright, 90 horizontal);
- lengths in torso lengths (body-size normalised): ``wrist_height`` (wrist above the shoulder),
  ``hip_height`` (hips above the ankles), ``leg_extension`` (hips above the ankles in leg lengths: about 1
  standing, 0.5 in a deep squat, from any view), ``hip_offset`` (hip's distance from the shoulder-knee line,
  positive = hips above it: piking; negative = sagging), ``ankle_spread`` and ``wrist_spread`` (horizontal
  distance between the two ankles / wrists), ``knee_ratio`` (knee separation / ankle separation: below 1 the
  knees cave in), ``elbow_forward`` (elbow ahead of the shoulder along the facing direction);
- ``shoulder_height``: the shoulder above the wrist (image vertical) in upper-arm lengths (the arm's running
  90th-percentile length over 10 s, its length when seen side on or straight): about 1.8 with straight arms
  under the shoulders, about 0.9 (the forearm) at a 90 deg elbow, below that with the chest near the floor.
  A push-up's depth without BlazePose's 3D elbow angle, which reads 90-100 deg at chest-to-floor depth.

With world landmarks (BlazePose: metres, y down, origin between the hips) the angles and ``trunk_lean`` are
measured in 3D (``world = true`` in ``signals.toml``): one signal in every view, in one unit. Trunk lean is
then taken against gravity, estimated per clip from the legs of the standing frames (`Body.up`), so a camera
tilted up or down does not read as leaning. Every signal has a validity range (``signals.toml``,
`valid_range`): values outside it come from a bad pose, not a body.

Per-side signals exist as ``left_knee_angle`` / ``right_knee_angle``; the plain name combines the sides:
``mean`` in front view, the better-seen side in side view (``auto``), or ``min`` / ``max`` / ``best`` / ``mean``
on request. Views: ``front`` (shoulder width >= 0.5 torso), ``side`` (< 0.3), ``oblique`` between.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import numpy as np

from poseit.coach.sequence import PoseSequence
from poseit.errors import PoseItError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

CORE_SKELETON = "penn13"
SIDES = ("left", "right")
COMBINES = ("auto", "mean", "best", "min", "max", "left", "right")
VIEWS = ("front", "side", "oblique")

# Per-side signals: name -> function of one side's joints (dict of (T, 2) arrays) and the body scale.
SIDED_SIGNALS = (
    "knee_angle",
    "hip_angle",
    "elbow_angle",
    "shoulder_angle",
    "wrist_height",
    "hip_offset",
    "elbow_forward",
    "body_angle",
    "shoulder_height",
)
MIDLINE_SIGNALS = (
    "trunk_lean",
    "hip_height",
    "leg_extension",
    "ankle_spread",
    "wrist_spread",
    "knee_ratio",
    "shoulder_width",
)
SIGNALS = SIDED_SIGNALS + MIDLINE_SIGNALS
SIDE_JOINTS = ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")
# gravity from the legs: frames whose knees and hips are this straight (3D, degrees) count as standing, and
# their hip->ankle direction as vertical when it lies within UP_MAX_TILT of the camera's down axis
STRAIGHT_DEG = 165.0
UP_MAX_TILT = 35.0
CAMERA_DOWN = np.array([0.0, 1.0, 0.0])


@cache
def signal_table() -> dict[str, dict]:
    """``signals.toml``: unit, validity range and 3D flag of every signal."""
    text = (resources.files("poseit.coach") / "signals.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def base_name(name: str) -> str:
    """A signal's name without its side prefix."""
    for side in SIDES:
        if name.startswith(side + "_") and name[len(side) + 1 :] in SIDED_SIGNALS:
            return name[len(side) + 1 :]
    return name


def valid_range(name: str) -> tuple[float, float]:
    """The values a body can produce for ``name`` (see ``signals.toml``)."""
    lo, hi = signal_table()[base_name(name)]["valid"]
    return float(lo), float(hi)


def is_world_signal(name: str) -> bool:
    """Whether ``name`` is measured in 3D when world landmarks are present."""
    return bool(signal_table()[base_name(name)].get("world", False))


def unit_of(name: str) -> str:
    return str(signal_table()[base_name(name)]["unit"])


def angle_deg(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Angle ABC in degrees for (T, 2) points (NaN where any point is unknown or two coincide)."""
    u, v = a - b, c - b
    nu, nv = np.linalg.norm(u, axis=-1), np.linalg.norm(v, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.sum(u * v, axis=-1) / (nu * nv)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def tilt_deg(vectors: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Angle in degrees between (T, 3) vectors and the unit vector ``up``: 0 along it, 90 across."""
    norm = np.linalg.norm(vectors, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = vectors @ up / norm
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def lean_deg(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Angle between the segment lower->upper and image up (y down): 0 vertical, 90 horizontal."""
    d = upper - lower
    return np.degrees(np.arctan2(np.abs(d[..., 0]), -d[..., 1]))


def signed_offset(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance of p from line ab, positive when p lies above it in the image (smaller y)."""
    d = b - a
    length = np.linalg.norm(d, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cross = (d[..., 0] * (p[..., 1] - a[..., 1]) - d[..., 1] * (p[..., 0] - a[..., 0])) / length
    # cross > 0 means p is to the right of a->b; orient so "up" (negative y) is positive whatever the direction
    return np.where(d[..., 0] >= 0, -cross, cross)


def running_quantile(values: np.ndarray, window: int, q: float) -> np.ndarray:
    """Causal ``q``-quantile (0..1) of the finite values among the last ``window`` (NaN until one is seen)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return values.copy()
    padded = np.concatenate([np.full(window - 1, np.nan), values])
    windows = np.sort(np.lib.stride_tricks.sliding_window_view(padded, window), axis=1)  # NaN sort last
    # np.nanquantile(windows, q, axis=1) (its "linear" method), vectorised: nanquantile loops over rows in Python
    n = np.isfinite(windows).sum(axis=1)
    virtual = n * q + (1 - q) - 1
    lo = np.clip(np.floor(virtual).astype(np.int64), 0, window - 1)
    hi = np.clip(lo + 1, 0, np.maximum(n - 1, 0))
    rows = np.arange(len(windows))
    a, b = windows[rows, lo], windows[rows, hi]
    t = virtual - np.floor(virtual)
    with _quiet():
        diff = b - a
        out = np.where(t >= 0.5, b - diff * (1 - t), a + diff * t)
    out[n == 0] = np.nan
    return out


def running_median(values: np.ndarray, window: int) -> np.ndarray:
    """Causal median of the finite values among the last ``window`` (NaN until one is seen)."""
    return running_quantile(values, window, 0.5)


def fill_gaps(x: np.ndarray, min_points: int = 1) -> np.ndarray:
    """Linear interpolation over NaN along time (axis 0) for every column; a column with fewer than
    ``min_points`` finite values becomes 0."""
    x = x.copy()
    t = np.arange(len(x))
    for d in range(x.shape[1]):
        ok = np.isfinite(x[:, d])
        x[:, d] = np.interp(t, t[ok], x[ok, d]) if ok.sum() >= max(1, min_points) else 0.0
    return x


@dataclass
class Body:
    """The 13 core joints of one person over T frames, with scores, and derived per-frame facts."""

    joints: dict[str, np.ndarray]  # name -> (T, 2), NaN where unknown or below min_score
    scores: dict[str, np.ndarray]  # name -> (T,)
    fps: float
    times: np.ndarray
    min_score: float = 0.3
    world: dict[str, np.ndarray] | None = None  # name -> (T, 3) metres (y down), where the model gives them
    _cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @classmethod
    def from_sequence(cls, seq: PoseSequence, min_score: float = 0.3, use_world: bool = True) -> Body:
        """Map ``seq`` onto the core joints; joints scored below ``min_score`` become unknown. World
        landmarks are used when the sequence has them (and ``use_world``)."""
        core = seq.to_skeleton(CORE_SKELETON)
        joints, scores, world = {}, {}, {}
        for name in core.joints:
            i = core.joints.index(name)
            xy = core.xy[:, i].astype(np.float64).copy()
            sc = core.scores[:, i].astype(np.float64)
            xy[sc < min_score] = np.nan
            joints[name], scores[name] = xy, sc
            if core.world is not None:
                w = core.world[:, i].astype(np.float64).copy()
                w[sc < min_score] = np.nan
                world[name] = w
        has_world = use_world and core.world is not None and any(np.isfinite(w).any() for w in world.values())
        return cls(joints, scores, seq.fps, seq.times, min_score, world if has_world else None)

    @property
    def has_world(self) -> bool:
        return self.world is not None

    def w(self, name: str) -> np.ndarray:
        """(T, 3) world position of a joint (requires world landmarks)."""
        assert self.world is not None
        return self.world[name]

    def wmid(self, part: str) -> np.ndarray:
        """World midpoint of the left and right ``part``; one side alone where the other is unknown."""
        left, right = self.w(f"left_{part}"), self.w(f"right_{part}")
        return np.where(
            np.isfinite(left) & np.isfinite(right), (left + right) / 2, np.where(np.isfinite(left), left, right)
        )

    @property
    def up(self) -> np.ndarray:
        """(3,) unit vector pointing up in world coordinates (against gravity). BlazePose's world axes follow
        the camera, so a tilted camera tilts gravity; the clip's standing frames (knees and hips straight,
        legs within `UP_MAX_TILT` of the camera's down axis) show where vertical is: the median direction of
        their ankles->hips. Without at least half a second of standing, the camera is taken as level."""
        if "up" in self._cache:
            return self._cache["up"]
        up = -CAMERA_DOWN
        if self.world is not None:
            straight = np.ones(len(self), dtype=bool)
            for side in SIDES:
                with np.errstate(invalid="ignore"):
                    straight &= self._world_angle(side, "hip", "knee", "ankle") >= STRAIGHT_DEG
                    straight &= self._world_angle(side, "shoulder", "hip", "knee") >= STRAIGHT_DEG
            legs = self.wmid("hip") - self.wmid("ankle")
            norm = np.linalg.norm(legs, axis=-1, keepdims=True)
            with np.errstate(invalid="ignore", divide="ignore"):
                legs = legs / norm
                near = tilt_deg(legs, -CAMERA_DOWN) <= UP_MAX_TILT
            use = straight & near & np.isfinite(legs).all(axis=-1)
            if use.sum() >= max(3, 0.5 * self.fps):
                m = np.median(legs[use], axis=0)
                up = m / np.linalg.norm(m)
        self._cache["up"] = up
        return up

    def _world_angle(self, side: str, a: str, b: str, c: str) -> np.ndarray:
        return angle_deg(self.w(f"{side}_{a}"), self.w(f"{side}_{b}"), self.w(f"{side}_{c}"))

    def __len__(self) -> int:
        return len(self.times)

    def j(self, name: str) -> np.ndarray:
        try:
            return self.joints[name]
        except KeyError:
            raise PoseItError(f"unknown joint {name!r}") from None

    def mid(self, part: str) -> np.ndarray:
        """Midpoint of the left and right ``part`` (e.g. ``hip``); one side alone where the other is unknown."""
        left, right = self.j(f"left_{part}"), self.j(f"right_{part}")
        return np.where(
            np.isfinite(left) & np.isfinite(right), (left + right) / 2, np.where(np.isfinite(left), left, right)
        )

    # --- body size, view and side ---------------------------------------------------------------
    @property
    def torso(self) -> np.ndarray:
        """Per-frame torso length (mid-shoulder to mid-hip) in pixels, a causal running median over ~2 s
        so a single bad frame cannot rescale the normalised signals."""
        if "torso" not in self._cache:
            raw = np.linalg.norm(self.mid("shoulder") - self.mid("hip"), axis=-1)
            # one-sided shoulders or hips underestimate; the side view keeps the full length, so use both
            self._cache["torso"] = running_median(raw, max(3, round(2 * self.fps)))
        return self._cache["torso"]

    @property
    def leg_length(self) -> np.ndarray:
        """Per-frame leg length (hip-knee plus knee-ankle) in pixels: a causal running 90th percentile over
        10 s, so it keeps the straight-leg length while the legs bend or foreshorten."""
        if "leg" not in self._cache:
            lengths = [
                np.linalg.norm(self.j(f"{s}_hip") - self.j(f"{s}_knee"), axis=-1)
                + np.linalg.norm(self.j(f"{s}_knee") - self.j(f"{s}_ankle"), axis=-1)
                for s in SIDES
            ]
            with _quiet():
                raw = np.nanmax(np.stack(lengths), axis=0)
            self._cache["leg"] = running_quantile(raw, max(3, round(10 * self.fps)), 0.9)
        return self._cache["leg"]

    def upper_arm(self, side: str) -> np.ndarray:
        """Per-frame upper-arm length (shoulder-elbow, image pixels) of one side: a causal running 90th
        percentile over 10 s, so a foreshortened arm (pointing at the camera) keeps its full length."""
        key = f"upper_arm:{side}"
        if key not in self._cache:
            raw = np.linalg.norm(self.j(f"{side}_shoulder") - self.j(f"{side}_elbow"), axis=-1)
            self._cache[key] = running_quantile(raw, max(3, round(10 * self.fps)), 0.9)
        return self._cache[key]

    @property
    def shoulder_ratio(self) -> np.ndarray:
        """Shoulder width / torso length: about 0.6-0.9 facing (or back to) the camera, below 0.3 side on."""
        width = np.linalg.norm(self.j("left_shoulder") - self.j("right_shoulder"), axis=-1)
        hip_width = np.linalg.norm(self.j("left_hip") - self.j("right_hip"), axis=-1)
        with np.errstate(invalid="ignore"):
            return np.fmax(width, 1.4 * hip_width) / self.torso

    def views(self, smooth_s: float = 1.0) -> np.ndarray:
        """(T,) view per frame (``front``, ``side``, ``oblique``, or ``unknown``), from a running median of the
        shoulder ratio."""
        ratio = running_median(self.shoulder_ratio, max(3, round(smooth_s * self.fps)))
        out = np.full(len(self), "unknown", dtype=object)
        out[ratio >= 0.5] = "front"
        out[(ratio < 0.5) & (ratio >= 0.3)] = "oblique"
        out[ratio < 0.3] = "side"
        return out

    def side_visibility(self, side: str) -> np.ndarray:
        """Mean score of one side's limb joints per frame."""
        return np.mean([self.scores[f"{side}_{p}"] for p in SIDE_JOINTS], axis=0)

    def better_side(self, smooth_s: float = 1.0, margin: float = 0.05) -> np.ndarray:
        """(T,) ``left`` or ``right``: the side seen better, from exponentially smoothed visibility, switching
        only when the other side leads by ``margin`` (so the choice does not flicker)."""
        alpha = 1.0 / max(1.0, smooth_s * self.fps)
        diff = self.side_visibility("left") - self.side_visibility("right")
        out = np.empty(len(self), dtype=object)
        ema, current = 0.0, "left"
        for t, d in enumerate(diff):
            ema = d if t == 0 else (1 - alpha) * ema + alpha * d
            if current == "left" and ema < -margin:
                current = "right"
            elif current == "right" and ema > margin:
                current = "left"
            out[t] = current
        return out

    def facing(self) -> np.ndarray:
        """(T,) horizontal direction the person faces in the image: +1 right, -1 left (from nose/head vs
        shoulders, else toes-ward knee direction), NaN where unknown."""
        head = self.j("head")[:, 0] - self.mid("shoulder")[:, 0]
        return np.sign(head)

    # --- signals ---------------------------------------------------------------------------------
    def sided(self, name: str, side: str) -> np.ndarray:
        """One side's value of a per-side signal."""
        key = f"{side}_{name}"
        if key in self._cache:
            return self._cache[key]
        s = {p: self.j(f"{side}_{p}") for p in SIDE_JOINTS}
        if self.world is not None and is_world_signal(name):
            s = {p: self.w(f"{side}_{p}") for p in SIDE_JOINTS}
        torso = self.torso
        with np.errstate(invalid="ignore", divide="ignore"):
            if name == "knee_angle":
                v = angle_deg(s["hip"], s["knee"], s["ankle"])
            elif name == "hip_angle":
                v = angle_deg(s["shoulder"], s["hip"], s["knee"])
            elif name == "elbow_angle":
                v = angle_deg(s["shoulder"], s["elbow"], s["wrist"])
            elif name == "shoulder_angle":
                v = angle_deg(s["hip"], s["shoulder"], s["elbow"])
            elif name == "body_angle":
                v = angle_deg(s["shoulder"], s["hip"], s["ankle"])
            elif name == "wrist_height":
                v = (s["shoulder"][:, 1] - s["wrist"][:, 1]) / torso
            elif name == "hip_offset":
                v = signed_offset(s["hip"], s["shoulder"], s["knee"]) / np.linalg.norm(
                    s["knee"] - s["shoulder"], axis=-1
                )
            elif name == "shoulder_height":
                v = (s["wrist"][:, 1] - s["shoulder"][:, 1]) / self.upper_arm(side)
            elif name == "elbow_forward":
                v = (s["elbow"][:, 0] - s["shoulder"][:, 0]) * self.facing() / torso
            else:
                raise PoseItError(f"unknown per-side signal {name!r}; known: {', '.join(SIDED_SIGNALS)}")
        self._cache[key] = v
        return v

    def midline(self, name: str) -> np.ndarray:
        """A signal of the whole body (no sides)."""
        if name in self._cache:
            return self._cache[name]
        torso = self.torso
        with np.errstate(invalid="ignore", divide="ignore"):
            if name == "trunk_lean" and self.world is not None:
                v = tilt_deg(self.wmid("shoulder") - self.wmid("hip"), self.up)
            elif name == "trunk_lean":
                v = lean_deg(self.mid("hip"), self.mid("shoulder"))
            elif name == "hip_height":
                v = (self.mid("ankle")[:, 1] - self.mid("hip")[:, 1]) / torso
            elif name == "leg_extension":
                v = (self.mid("ankle")[:, 1] - self.mid("hip")[:, 1]) / self.leg_length
            elif name == "ankle_spread":
                v = np.abs(self.j("left_ankle")[:, 0] - self.j("right_ankle")[:, 0]) / torso
            elif name == "wrist_spread":
                v = np.abs(self.j("left_wrist")[:, 0] - self.j("right_wrist")[:, 0]) / torso
            elif name == "knee_ratio":
                knees = np.abs(self.j("left_knee")[:, 0] - self.j("right_knee")[:, 0])
                ankles = np.abs(self.j("left_ankle")[:, 0] - self.j("right_ankle")[:, 0])
                v = knees / np.maximum(ankles, 0.05 * torso)
            elif name == "shoulder_width":
                v = self.shoulder_ratio
            else:
                raise PoseItError(f"unknown signal {name!r}; known: {', '.join(SIGNALS)}")
        self._cache[name] = v
        return v

    def signal(self, name: str, combine: str = "auto") -> np.ndarray:
        """A named signal. Per-side names may carry a side prefix (``left_knee_angle``) or be combined over
        the two sides by ``combine`` (see the module doc)."""
        for side in SIDES:
            if name.startswith(side + "_") and name[len(side) + 1 :] in SIDED_SIGNALS:
                return self.sided(name[len(side) + 1 :], side)
        if name in MIDLINE_SIGNALS:
            return self.midline(name)
        if name not in SIDED_SIGNALS:
            raise PoseItError(f"unknown signal {name!r}; known: {', '.join(SIGNALS)}")
        if combine not in COMBINES:
            raise PoseItError(f"unknown side combination {combine!r}; known: {', '.join(COMBINES)}")
        left, right = self.sided(name, "left"), self.sided(name, "right")
        if combine in SIDES:
            return left if combine == "left" else right
        both = np.stack([left, right])
        with np.errstate(invalid="ignore"), _quiet():
            mean = np.nanmean(both, axis=0)
            if combine == "mean":
                return mean
            if combine == "min":
                return np.nanmin(both, axis=0)
            if combine == "max":
                return np.nanmax(both, axis=0)
        best = self.better_side()
        chosen = np.where(best == "left", left, right)
        other = np.where(best == "left", right, left)
        chosen = np.where(np.isfinite(chosen), chosen, other)
        if combine == "best":
            return chosen
        return np.where(self.views() == "front", mean, chosen)  # auto


class _quiet:
    """Silence numpy's all-NaN slice warnings inside a block."""

    def __enter__(self) -> None:
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", category=RuntimeWarning)

    def __exit__(self, *exc: object) -> None:
        self._ctx.__exit__(*exc)


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of True."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))
