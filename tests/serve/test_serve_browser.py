"""End to end in a real browser: Debian's chromium, headless, its fake camera fed from a real clip (y4m made
here with OpenCV). The page must draw the skeleton where the person is and count the clip's labelled reps;
the screenshot it takes is the README's. (The check itself, `live_web.check_live_page`, runs on Ray too:
tests/cluster/test_ray_serve.py.)"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from live_web import check_live_page

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = Path(os.environ.get("POSEIT_SCREENSHOT", ROOT / "out" / "serve-live.png"))

pytestmark = pytest.mark.slow


def test_live_page_counts_reps_and_draws_skeleton(tmp_path, server, pushup_clip):
    check_live_page(server.url, pushup_clip, tmp_path, screenshot=SCREENSHOT)
