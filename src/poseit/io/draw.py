"""Drawing poses, boxes and text on BGR frames (kept apart from the data types)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from poseit.keypoints import Poses

SIDE_COLORS = {"left": (255, 160, 0), "right": (0, 140, 255), "center": (230, 230, 230)}  # BGR


def draw_poses(
    frame: np.ndarray, poses: Poses, min_score: float = 0.5, thickness: int | None = None, draw_boxes: bool = False
) -> np.ndarray:
    """Draw every person's limbs and joints on ``frame`` in place (left side blue, right side orange);
    joints below ``min_score`` are skipped. Returns the frame."""
    h, w = frame.shape[:2]
    t = thickness or max(1, round(max(h, w) / 400))
    skel = poses.skel
    for i in range(len(poses)):
        xy, ok = poses.xy[i], poses.visible(min_score)[i]
        for (a, b), (name_a, name_b) in zip(skel.limb_indices, skel.limbs, strict=True):
            if ok[a] and ok[b]:
                side = skel.side(name_a) if skel.side(name_a) == skel.side(name_b) else "center"
                cv2.line(frame, _pt(xy[a]), _pt(xy[b]), SIDE_COLORS[side], t, cv2.LINE_AA)
        for j, name in enumerate(skel.joints):
            if ok[j]:
                cv2.circle(frame, _pt(xy[j]), t + 2, SIDE_COLORS[skel.side(name)], -1, cv2.LINE_AA)
        if draw_boxes and np.isfinite(poses.boxes[i]).all():
            x0, y0, x1, y1 = poses.boxes[i]
            cv2.rectangle(frame, _pt((x0, y0)), _pt((x1, y1)), (0, 255, 0), t)
            put_text(frame, [f"{poses.confidence[i]:.2f}"], origin=(int(x0), max(0, int(y0) - 22)))
    return frame


def put_text(
    frame: np.ndarray,
    lines: Sequence[str],
    origin: tuple[int, int] = (10, 10),
    color: tuple[int, int, int] = (255, 255, 255),
    scale: float | None = None,
) -> np.ndarray:
    """Write lines of text on a dark backing so they stay legible on any frame."""
    h, w = frame.shape[:2]
    scale = scale or max(0.5, min(h, w) / 720)
    thick = max(1, round(scale * 2))
    x, y = origin
    for line in lines:
        (tw, th), base = cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
        cv2.rectangle(frame, (x - 4, y - 4), (x + tw + 4, y + th + base + 4), (0, 0, 0), -1)
        cv2.putText(frame, line, (x, y + th), cv2.FONT_HERSHEY_SIMPLEX, scale, color, thick, cv2.LINE_AA)
        y += th + base + 12
    return frame


def _pt(p: Sequence[float]) -> tuple[int, int]:
    return round(float(p[0])), round(float(p[1]))
