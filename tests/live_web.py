"""What the web app's tests share, single process (tests/serve) and on Ray (tests/cluster): a real clip's frames,
free ports, the model and clip fixtures (bound in both conftests), and the browser check of the live page
(Debian's chromium, headless, its fake camera fed from the clip) that runs against either server's URL."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

PUSHUP = "exercise-videos/hxlinh+Fitness_Pose_Correction_Application/push-up_1.mp4"  # 2 labelled reps, 150 frames
CHROMIUM = "/usr/bin/chromium"
LABELLED_REPS = 2  # labels.csv: push-up_1.mp4, 2 reps (turns at frames 34 and 85); a 3rd descent from 118 is cut
LAST_FRAME = 117  # the clip before its unfinished 3rd descent: the fake camera loops from top to top
FPS = 15  # played at half speed, so a loaded 2-core machine still sees every phase of each rep


def read_frames(path: Path, width: int = 640, limit: int | None = None) -> list[np.ndarray]:
    """A clip's frames resized to ``width`` pixels wide."""
    cap = cv2.VideoCapture(str(path))
    frames = []
    while limit is None or len(frames) < limit:
        ok, frame = cap.read()
        if not ok:
            break
        h = round(frame.shape[0] * width / frame.shape[1])
        frames.append(cv2.resize(frame, (width, h), interpolation=cv2.INTER_AREA))
    cap.release()
    return frames


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- fixtures, bound in tests/serve/conftest.py and tests/cluster/conftest.py ------------------------------
@pytest.fixture(scope="session")
def serve_models() -> None:
    from poseit.models.manager import is_cached
    from poseit.models.registry import get_spec

    if not all(is_cached(get_spec(n).artifact) for n in ("blazepose-detector", "blazepose-full")):
        pytest.skip("BlazePose detector and full models not pulled (run `poseit models pull`)")


@pytest.fixture(scope="session")
def pushup_clip(data_dir: Path) -> Path:
    path = data_dir / PUSHUP
    if not path.is_file():
        pytest.skip(f"clip missing: {path}")
    return path


@pytest.fixture(scope="session")
def pushup_jpegs(pushup_clip: Path) -> list[bytes]:
    """The clip's frames, 640 wide, as JPEG (quality 80)."""
    return [cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes() for f in read_frames(pushup_clip)]


# --- the live page in a real browser ----------------------------------------------------------------------
def write_y4m(frames: list[np.ndarray], path: Path, fps: int) -> None:
    h, w = frames[0].shape[:2]
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            f.write(b"FRAME\n")
            f.write(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())


def launch(playwright, y4m: Path, profile: Path, viewport: dict | None = None, **options):
    """Headless chromium whose fake camera plays ``y4m`` (in a loop)."""
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={y4m}",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]
    return playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        headless=True,
        args=args,
        viewport=viewport or {"width": 1100, "height": 760},
        **options,
    )


def need_browser():
    """Playwright's sync API, or skip with the reason (no chromium, no Playwright)."""
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"{CHROMIUM} not found (apt-get install chromium)")
    return pytest.importorskip("playwright.sync_api", reason="playwright is not installed (dev extra)")


def camera_clip(clip: Path, y4m: Path, width: int = 640, last: int | None = None, fps: int = FPS) -> list[np.ndarray]:
    """The clip's frames (up to ``last``, then a second of the last frame) written as the fake camera's y4m."""
    frames = read_frames(clip, width=width)[: None if last is None else last + 1]
    frames += [frames[-1]] * fps
    write_y4m(frames, y4m, fps)
    return frames


def person_box(frames: list[np.ndarray]) -> tuple[np.ndarray, float]:
    """The union of the engine's keypoint boxes over the clip, and the median box area."""
    from poseit import PoseEstimator

    est = PoseEstimator("blazepose-full")
    boxes = []
    for i, frame in enumerate(frames):
        poses = est(frame, i / FPS)
        if len(poses):
            xy = poses.xy[0][poses.scores[0] >= 0.3]
            boxes.append([*xy.min(0), *xy.max(0)])
    b = np.array(boxes)
    areas = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return np.array([*b[:, :2].min(0), *b[:, 2:].max(0)]), float(np.median(areas))


def reps_reach(page, n: int, within: float = 120.0) -> int:
    """Poll the page's rep count (its CSP allows no evaluated strings) until it reaches ``n``; the count."""
    deadline = time.monotonic() + within
    reps = 0
    while time.monotonic() < deadline:
        reps = int(page.get_attribute("body", "data-reps") or 0)
        if reps >= n:
            break
        time.sleep(0.05)
    return reps


def check_live_page(base_url: str, clip: Path, tmp_path: Path, screenshot: Path | None = None) -> None:
    """The page at ``base_url``, with the clip as its camera, counts the clip's labelled reps, draws the
    skeleton where the engine finds the person, ends the session into the history, and fits a phone's screen;
    no CSP violation or uncaught error. Skips without chromium or Playwright."""
    sync_api = need_browser()
    y4m = tmp_path / "clip.y4m"
    frames = camera_clip(clip, y4m, last=LAST_FRAME)  # and a second at the top before the loop
    box, median_area = person_box(frames)
    h, w = frames[0].shape[:2]

    with sync_api.sync_playwright() as playwright:
        context = launch(playwright, y4m, tmp_path / "profile")
        try:
            page = context.pages[0] if context.pages else context.new_page()
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(base_url + "/")
            page.wait_for_selector("body[data-ready='1']", timeout=30_000)
            page.select_option("#exercise", "pushup")
            page.select_option("#source", "camera")
            page.click("#start")
            page.wait_for_selector("#status.ok", timeout=30_000)
            # the first pass of the clip lasts len(frames) / FPS seconds; allow for a slow machine
            reps = reps_reach(page, LABELLED_REPS, within=120.0)
            assert reps == LABELLED_REPS, f"page shows {reps} reps; status: {page.text_content('#status')}"
            assert page.text_content("#reps") == str(LABELLED_REPS)

            # the skeleton on the overlay lies on the person the engine finds in the same clip
            drawn = page.evaluate(
                """() => {
                  const c = document.getElementById("overlay");
                  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
                  let x0 = c.width, y0 = c.height, x1 = -1, y1 = -1;
                  for (let y = 0; y < c.height; y++) for (let x = 0; x < c.width; x++) {
                    if (d[(y * c.width + x) * 4 + 3] > 0) { x0 = Math.min(x0, x); x1 = Math.max(x1, x);
                                                            y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
                  }
                  return {w: c.width, h: c.height, box: [x0, y0, x1, y1]};
                }"""
            )
            assert (drawn["w"], drawn["h"]) == (w, h)
            x0, y0, x1, y1 = drawn["box"]
            assert x1 > x0 and y1 > y0, "nothing drawn on the overlay"
            margin = 0.08 * w
            assert x0 >= box[0] - margin and y0 >= box[1] - margin, (drawn["box"], box.tolist())
            assert x1 <= box[2] + margin and y1 <= box[3] + margin, (drawn["box"], box.tolist())
            assert (x1 - x0) * (y1 - y0) >= 0.5 * median_area, (drawn["box"], median_area)
            fps = float(page.text_content("#fps") or 0)
            assert fps > 0 and page.text_content("#latency") != "-"

            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot))

            page.click("#stop")
            page.wait_for_selector("#summary:not([hidden])", timeout=30_000)
            assert "pushup" in page.text_content("#summary-text")

            page.goto(base_url + "/history")
            page.wait_for_selector("#sessions tbody tr", timeout=30_000)
            page.click("#sessions tbody tr")
            page.wait_for_selector("#reps tbody tr", timeout=30_000)
            assert page.locator("#reps tbody tr").count() >= LABELLED_REPS
            # a phone-sized screen: nothing wider than the screen
            page.set_viewport_size({"width": 390, "height": 844})
            for path in ("/", "/history"):
                page.goto(base_url + path)
                page.wait_for_load_state("networkidle")
                assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), path
            assert not [p for p in problems if "Content Security Policy" in p or "Uncaught" in p], problems
        finally:
            context.close()
