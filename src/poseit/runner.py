"""Drive a source through a `PoseEstimator` into sinks, with overlay, progress bar and optional live window.

This is what ``poseit run`` does; the coach plugs in through ``on_frame`` (extra overlay lines and JSON keys).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2

from poseit.errors import PoseItError
from poseit.io.draw import draw_poses, put_text
from poseit.io.sinks import CsvSink, JsonlSink, Sink, VideoSink
from poseit.io.sources import Source
from poseit.keypoints import Poses
from poseit.pipeline import PoseEstimator, PoseResult

# Called for each frame with its result; returns (overlay lines, extra JSON Lines keys).
FrameHook = Callable[[PoseResult], tuple[list[str], dict[str, Any]]]


@dataclass
class RunSummary:
    frames: int = 0
    frames_with_person: int = 0
    seconds: float = 0.0
    outputs: list[str] = field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def check_display() -> None:
    """Fail early, in one line, when this OpenCV build cannot open windows."""
    try:
        cv2.namedWindow("poseit")
        cv2.destroyWindow("poseit")
    except cv2.error:
        raise PoseItError(
            "--show needs a desktop OpenCV build and a display (this one is headless); "
            "write --out-video instead, or pip install opencv-python on a desktop"
        ) from None


def run(
    source: Source,
    estimator: PoseEstimator,
    *,
    out_video: str | Path | None = None,
    out_json: str | Path | None = None,
    out_csv: str | Path | None = None,
    show: bool = False,
    progress: bool = True,
    max_frames: int | None = None,
    on_frame: FrameHook | None = None,
) -> RunSummary:
    """Process every frame of ``source``; outputs are written frame by frame and closed even on errors,
    so what was written stays valid when the source ends early or the run is interrupted."""
    from tqdm import tqdm

    if show:
        check_display()
    summary = RunSummary()
    sinks: list[Sink] = []
    video: VideoSink | None = None
    total = source.num_frames if not source.live else None
    if max_frames:
        total = min(total or max_frames, max_frames)
    bar = tqdm(total=total, unit="frame", disable=not progress or source.live, leave=False, dynamic_ncols=True)
    start = time.perf_counter()
    try:
        if out_json:
            sinks.append(JsonlSink(out_json))
        if out_csv:
            sinks.append(CsvSink(out_csv, estimator.skeleton))
        if out_video:
            video = VideoSink(out_video, source.fps)
        summary.outputs = [str(p) for p in (out_json, out_csv, out_video) if p]
        for result in estimator.process(source):
            lines, extra = on_frame(result) if on_frame else ([], {})
            for sink in sinks:
                sink.write(result.frame, result.poses, **extra)
            summary.frames += 1
            summary.frames_with_person += len(result.poses) > 0
            summary.seconds = time.perf_counter() - start
            if video or show:
                image = annotate(result, summary.fps, lines)
                if video:
                    video.write_image(image)
                if show:
                    cv2.imshow("poseit", image)
                    if cv2.waitKey(1) & 0xFF in (27, ord("q")):
                        break
            bar.update(1)
            if max_frames and summary.frames >= max_frames:
                break
    finally:
        summary.seconds = time.perf_counter() - start
        bar.close()
        for sink in sinks:
            sink.close()
        if video:
            video.close()
        if show:
            cv2.destroyAllWindows()
    return summary


def annotate(result: PoseResult, fps: float, lines: list[str] | None = None) -> Any:
    """A copy of the frame with skeleton, person score, FPS and any extra lines drawn on it."""
    image = result.frame.image.copy()
    poses: Poses = result.poses
    draw_poses(image, poses, draw_boxes=True)
    status = f"{fps:5.1f} FPS" + ("" if len(poses) else "  no person")
    put_text(image, [status, *(lines or [])])
    return image
