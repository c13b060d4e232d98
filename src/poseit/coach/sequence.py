"""`PoseSequence`: one person's keypoints over a whole clip, as arrays the coach can analyse.

Built from a video through the engine (`PoseSequence.from_video`), from a list of per-frame `Poses`
(`from_poses`), or from any (T, K, 2) array on a registered skeleton (e.g. Penn Action labels). Frames without
a person hold NaN coordinates and zero scores, so time stays aligned with the video's frame indices.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from poseit.coach.frames import FrameFeatures, frame_features
from poseit.errors import PoseItError, SourceError
from poseit.keypoints import Poses
from poseit.skeletons import get_skeleton


@dataclass(frozen=True)
class PoseSequence:
    """One person over T frames.

    xy: (T, K, 2) frame pixels, NaN where unknown; scores: (T, K) in [0, 1]; times: (T,) seconds;
    skeleton: registered skeleton name; fps: frames per second; width, height: frame size (0 if unknown);
    world: optional (T, K, 3) metric coordinates in metres (BlazePose world landmarks: x right, y down, z away
    from the camera, origin between the hips), NaN where unknown; None for models without them.
    """

    xy: np.ndarray
    scores: np.ndarray
    skeleton: str
    fps: float
    times: np.ndarray
    width: int = 0
    height: int = 0
    world: np.ndarray | None = None
    frames: FrameFeatures | None = None  # per-frame image features (`poseit.coach.frames`), None without images

    def __post_init__(self) -> None:
        k = get_skeleton(self.skeleton).num_joints
        xy = np.asarray(self.xy, dtype=np.float32)
        if xy.ndim != 3 or xy.shape[1:] != (k, 2):
            raise PoseItError(f"keypoint sequence must have shape (T, {k}, 2) for {self.skeleton}, got {xy.shape}")
        scores = np.asarray(self.scores, dtype=np.float32)
        if scores.shape != xy.shape[:2]:
            raise PoseItError(f"scores must have shape {xy.shape[:2]}, got {scores.shape}")
        times = np.asarray(self.times, dtype=np.float64)
        if times.shape != (xy.shape[0],):
            raise PoseItError(f"times must have shape ({xy.shape[0]},), got {times.shape}")
        if not self.fps > 0:
            raise PoseItError(f"fps must be positive, got {self.fps}")
        if self.world is not None:
            world = np.asarray(self.world, dtype=np.float32)
            if world.shape != (xy.shape[0], k, 3):
                raise PoseItError(f"world must have shape ({xy.shape[0]}, {k}, 3), got {world.shape}")
            object.__setattr__(self, "world", world)
        if self.frames is not None and len(self.frames) != xy.shape[0]:
            raise PoseItError(f"frame features must cover the {xy.shape[0]} frames, got {len(self.frames)}")
        object.__setattr__(self, "xy", xy)
        object.__setattr__(self, "scores", np.nan_to_num(scores))
        object.__setattr__(self, "times", times)

    def __len__(self) -> int:
        return int(self.xy.shape[0])

    @property
    def joints(self) -> tuple[str, ...]:
        return get_skeleton(self.skeleton).joints

    @property
    def present(self) -> np.ndarray:
        """(T,) whether a person was found on each frame."""
        return np.isfinite(self.xy).all(axis=-1).any(axis=-1) & (self.scores.max(axis=-1) > 0)

    def slice(self, start: int, stop: int) -> PoseSequence:
        return PoseSequence(
            self.xy[start:stop],
            self.scores[start:stop],
            self.skeleton,
            self.fps,
            self.times[start:stop],
            self.width,
            self.height,
            None if self.world is None else self.world[start:stop],
            frames=None if self.frames is None else self.frames.slice(start, stop),
        )

    def to_skeleton(self, name: str) -> PoseSequence:
        """The same person on another skeleton (joints mapped by name; see `Poses.to_skeleton`)."""
        if name == self.skeleton:
            return self
        from poseit.skeletons.mapping import convert_arrays

        xy, scores = convert_arrays(self.xy, self.scores, self.skeleton, name)
        world = None if self.world is None else convert_arrays(self.world, self.scores, self.skeleton, name)[0]
        return PoseSequence(xy, scores, name, self.fps, self.times, self.width, self.height, world, self.frames)

    @classmethod
    def from_array(
        cls,
        xy: np.ndarray,
        skeleton: str,
        fps: float = 30.0,
        scores: np.ndarray | None = None,
        width: int = 0,
        height: int = 0,
    ) -> PoseSequence:
        """From (T, K, 2) coordinates; scores default to 1 where the coordinates are finite."""
        xy = np.asarray(xy, dtype=np.float32)
        if scores is None:
            scores = np.isfinite(xy).all(axis=-1).astype(np.float32)
        times = np.arange(len(xy)) / float(fps)
        return cls(xy, scores, skeleton, fps, times, width, height)

    @classmethod
    def from_poses(
        cls,
        frames: Iterable[tuple[Poses, float]],
        fps: float,
        skeleton: str | None = None,
        width: int = 0,
        height: int = 0,
    ) -> PoseSequence:
        """From (poses, time_s) per frame; on each frame the most confident person is kept (with world landmarks
        when every frame's model gives them)."""
        xys, scs, worlds, times = [], [], [], []
        name = skeleton
        for poses, t in frames:
            name = name or poses.skeleton
            xy, sc, world = person_arrays(poses, name, with_world=True)
            xys.append(xy)
            scs.append(sc)
            worlds.append(world)
            times.append(t)
        if name is None:
            raise PoseItError("an empty pose sequence needs a skeleton name")
        k = get_skeleton(name).num_joints
        xy_arr = np.stack(xys) if xys else np.zeros((0, k, 2), np.float32)
        sc_arr = np.stack(scs) if scs else np.zeros((0, k), np.float32)
        times_arr = np.asarray(times, dtype=np.float64)
        return cls(xy_arr, sc_arr, name, fps, times_arr, width, height, stack_world(worlds, k))

    @classmethod
    def from_video(
        cls,
        path: str | Path,
        model: str = "blazepose-full",
        on_result: Callable | None = None,
        progress: bool = False,
        **estimator_options,
    ) -> PoseSequence:
        """Run the pose engine over a video (tracking mode) and collect the sequence. ``on_result`` is called
        with each `PoseResult` (frame pixels, e.g. to write an annotated video in the same pass); ``progress``
        shows a progress bar on stderr."""
        from tqdm import tqdm

        from poseit.io.sources import open_source
        from poseit.pipeline import PoseEstimator

        source = open_source(str(path))
        estimator_options.setdefault("mode", "track")
        estimator = PoseEstimator(model, **estimator_options)
        xys, scs, worlds, times = [], [], [], []
        images: list[tuple[np.ndarray, np.ndarray]] = []  # image features from the same decoded frames
        width = height = 0
        bar = tqdm(total=source.num_frames, unit="frame", disable=not progress, leave=False, dynamic_ncols=True)
        with source, bar:
            try:
                for result in estimator.process(source):
                    bar.update(1)
                    height, width = result.frame.image.shape[:2]
                    xy, sc, world = person_arrays(result.poses, estimator.skeleton, with_world=True)
                    xys.append(xy)
                    scs.append(sc)
                    worlds.append(world)
                    images.append(frame_features(result.frame.image))
                    times.append(result.frame.time_s)
                    if on_result is not None:
                        on_result(result)
            except SourceError as exc:  # a video that ends short of its announced length: keep what was read
                if not xys:
                    raise
                print(f"warning: {exc}; analysing the {len(xys)} frames read", file=sys.stderr)
        if not xys:
            raise PoseItError(f"no frames decoded from {path}")
        k = get_skeleton(estimator.skeleton).num_joints
        world = stack_world(worlds, k)
        arrays = (np.stack(xys), np.stack(scs), estimator.skeleton, source.fps, np.asarray(times), width, height)
        return cls(*arrays, world, FrameFeatures.stack(images))

    def save(self, path: str | Path) -> None:
        """Write an .npz file (`load` reads it back; world landmarks included when present)."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        extra = {} if self.world is None else {"world": self.world}
        extra |= {} if self.frames is None else self.frames.arrays()
        np.savez_compressed(
            path,
            xy=self.xy,
            scores=self.scores,
            times=self.times,
            skeleton=self.skeleton,
            fps=self.fps,
            size=np.array([self.width, self.height]),
            **extra,
        )

    @classmethod
    def load(cls, path: str | Path) -> PoseSequence:
        try:
            with np.load(path) as z:
                w, h = (int(v) for v in z["size"])
                world = z["world"] if "world" in z.files else None
                frames = FrameFeatures.from_arrays(z)
                return cls(z["xy"], z["scores"], str(z["skeleton"]), float(z["fps"]), z["times"], w, h, world, frames)
        except (OSError, KeyError, ValueError) as exc:
            raise PoseItError(f"not a pose sequence file: {path} ({exc})") from None


def person_arrays(poses: Poses, skeleton: str, with_world: bool = False) -> tuple[np.ndarray, ...]:
    """(K, 2) coordinates and (K,) scores of the most confident person on ``skeleton`` (NaN/0 if nobody); with
    ``with_world`` also the (K, 3) world landmarks (None if nobody or the model gives none)."""
    k = get_skeleton(skeleton).num_joints
    if len(poses) == 0:
        empty = (np.full((k, 2), np.nan, np.float32), np.zeros(k, np.float32))
        return (*empty, None) if with_world else empty
    best = int(np.argmax(poses.confidence))
    chosen = poses[best]
    person = chosen.to_skeleton(skeleton)
    xy, scores = person.xy[0].astype(np.float32), person.scores[0].astype(np.float32)
    if not with_world:
        return xy, scores
    world = chosen.world
    if world is not None and chosen.skeleton != skeleton:
        from poseit.skeletons.mapping import convert_arrays

        world = convert_arrays(world, chosen.scores, chosen.skeleton, skeleton)[0]
    return xy, scores, None if world is None else world[0].astype(np.float32)


def stack_world(worlds: list[np.ndarray | None], k: int) -> np.ndarray | None:
    """(T, K, 3) world landmarks, or None when no frame had any (a model without them); frames without a
    person are NaN."""
    if not worlds or all(w is None for w in worlds):
        return None
    return np.stack([np.full((k, 3), np.nan, np.float32) if w is None else w for w in worlds])


def extract_poses(
    path: str | Path, model: str = "blazepose-full", progress: bool = False, **estimator_options
) -> PoseSequence:
    """One person's keypoints over a video (`PoseSequence.from_video` in tracking mode). People small in a wide
    shot are found by the engine's tiled detection."""
    return PoseSequence.from_video(path, model, progress=progress, **estimator_options)
