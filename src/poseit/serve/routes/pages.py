"""The page, the history page, static files and the demo clip."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

from poseit.serve.session import exercise_ids, exercise_names

router = APIRouter()
STATIC = resources.files("poseit.serve") / "static"


def _page(name: str) -> HTMLResponse:
    return HTMLResponse((STATIC / name).read_text(encoding="utf-8"), headers={"cache-control": "no-cache"})


@router.get("/", include_in_schema=False)
def index() -> HTMLResponse:
    return _page("index.html")


@router.get("/history", include_in_schema=False)
def history() -> HTMLResponse:
    return _page("history.html")


@router.get("/progress", include_in_schema=False)
def progress_page() -> HTMLResponse:
    return _page("progress.html")


@router.get("/api/exercises")
def exercises() -> list[dict]:
    """What the picker offers: every library exercise, then ``auto`` and ``any``; ``hold``: timed, not counted."""
    from poseit.coach.library import library

    holds = {k for k, ex in library().items() if ex.is_hold}
    return [{"id": k, "name": exercise_names()[k], "hold": k in holds} for k in exercise_ids()]


@router.get("/api/demo")
def demo_info(request: Request) -> dict:
    """Whether the server has a demo clip to offer."""
    clip = request.app.state.hub.settings.demo_clip
    return {"available": clip is not None, "url": "/demo.mp4" if clip is not None else None}


@router.get("/demo.mp4", include_in_schema=False)
def demo_clip(request: Request) -> FileResponse:
    clip = request.app.state.hub.settings.demo_clip
    if clip is None:
        raise HTTPException(404, "no demo clip on this server")
    return FileResponse(clip, media_type="video/mp4")
