"""Run MediaPipe's own ``mp.solutions.pose`` on a clip: the peer Pose-It! is compared against.

Runs only in the separate peer environment (``make peer`` creates .venv-mediapipe with mediapipe==0.10.21,
which must never enter the project's environment). Writes JSON Lines: per frame the 33 landmarks in pixels
with visibility, and the ms spent decoding and in ``Pose.process``; the last line holds the totals.

    .venv-mediapipe/bin/python benchmarks/mediapipe_peer.py CLIP --complexity 1 --out mp.jsonl

CLIP may also be a folder of images (read in name order, one frame each; use ``--static`` for still images).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import time
from pathlib import Path

import cv2
import mediapipe as mp


def provide_landmark_model(complexity: int) -> None:
    """The wheel carries only the full landmark model and mediapipe would download lite/heavy at first use
    (impossible here): copy them from Pose-It!'s model cache (`poseit models pull`), same files."""
    name = {0: "pose_landmark_lite.tflite", 2: "pose_landmark_heavy.tflite"}.get(complexity)
    if name is None:
        return
    target = Path(mp.__file__).parent / "modules" / "pose_landmark" / name
    cache = Path(os.environ.get("POSEIT_MODELS", Path.home() / ".cache" / "poseit" / "models"))
    if not target.exists():
        if not (cache / name).exists():
            raise SystemExit(f"{name} missing: run `poseit models pull` first")
        shutil.copy(cache / name, target)


class ImageFolder:
    """A folder of images read like a clip (``cv2.VideoCapture``'s ``read``), in name order."""

    def __init__(self, folder: str) -> None:
        exts = {".jpg", ".jpeg", ".png", ".bmp"}
        self.paths = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in exts)
        self.index = 0

    def read(self):
        if self.index >= len(self.paths):
            return False, None
        self.index += 1
        return True, cv2.imread(str(self.paths[self.index - 1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("video")
    ap.add_argument("--complexity", type=int, default=1)
    ap.add_argument("--static", action="store_true", help="static_image_mode (detect on every frame)")
    ap.add_argument("--no-smooth", action="store_true")
    ap.add_argument("--max-frames", type=int, default=0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    provide_landmark_model(args.complexity)
    cap = ImageFolder(args.video) if Path(args.video).is_dir() else cv2.VideoCapture(args.video)
    pose = mp.solutions.pose.Pose(
        static_image_mode=args.static,
        model_complexity=args.complexity,
        smooth_landmarks=not args.no_smooth,
        enable_segmentation=False,
    )
    decode_ms, infer_ms, found = [], [], 0
    t_start = time.perf_counter()
    with open(args.out, "w") as out:
        index = 0
        while True:
            t0 = time.perf_counter()
            ok, frame = cap.read()
            if not ok or (args.max_frames and index >= args.max_frames):
                break
            t1 = time.perf_counter()
            res = pose.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            t2 = time.perf_counter()
            decode_ms.append((t1 - t0) * 1000)
            infer_ms.append((t2 - t1) * 1000)
            h, w = frame.shape[:2]
            kps = None
            if res.pose_landmarks:
                found += 1
                kps = [[lm.x * w, lm.y * h, lm.visibility] for lm in res.pose_landmarks.landmark]
            out.write(json.dumps({"frame": index, "keypoints": kps}) + "\n")
            index += 1
        total = time.perf_counter() - t_start
        out.write(
            json.dumps(
                {
                    "summary": True,
                    "frames": index,
                    "found": found,
                    "seconds": total,
                    "fps": index / total,
                    "decode_ms": statistics.median(decode_ms),
                    "process_ms": statistics.median(infer_ms),
                }
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
