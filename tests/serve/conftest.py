"""Fixtures for the web app: a real `poseit serve` in a subprocess, frames from a real clip, the real engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed (pip install -e '.[serve]')")
pytest.importorskip("websockets", reason="the serve extra is not installed (pip install -e '.[serve]')")

from serve_helpers import Server

import live_web

# the models and clip fixtures, shared with tests/cluster
pushup_clip, pushup_jpegs, serve_models = live_web.pushup_clip, live_web.pushup_jpegs, live_web.serve_models


@pytest.fixture(scope="module")
def server(tmp_path_factory, serve_models) -> Iterator[Server]:
    """One server for a test module (no fps limit, short idle timeout set by the tests that need it)."""
    srv = Server(tmp_path_factory.mktemp("serve") / "history.db", "--max-fps", "0")
    yield srv
    srv.stop()
