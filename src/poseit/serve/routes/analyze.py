"""``POST /api/analyze``: upload a recording, get ``poseit analyze``'s summary and report.

The body is the video itself (not multipart), read in chunks up to ``max_upload_bytes`` into a temporary file
whose name the server chooses. One analysis runs at a time, in its own thread (live clients keep the pool).
"""

from __future__ import annotations

import asyncio
import re
import secrets
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from poseit.errors import PoseItError
from poseit.serve.hub import Hub
from poseit.serve.session import EngineOptions, exercise_ids

router = APIRouter(prefix="/api")
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"


def analyze_file(path: Path, exercise: str, engine: EngineOptions) -> tuple[dict[str, Any], str]:
    """``poseit analyze`` on one file: (summary, report HTML). Runs the process's shared models."""
    from poseit.coach.analysis import analyze
    from poseit.coach.report import render_html
    from poseit.coach.sequence import extract_poses

    seq = extract_poses(
        path, engine.model, device=engine.device, precision=engine.precision, hint=engine.hint, shared=True
    )
    analysis = analyze(seq, exercise)
    return analysis.summary(), render_html(analysis, "upload")


@router.post("/analyze")
async def upload(request: Request, exercise: Annotated[str, Query(max_length=40)] = "auto") -> dict:
    hub: Hub = request.app.state.hub
    limit = hub.settings.max_upload_bytes
    if exercise not in exercise_ids():
        raise HTTPException(422, f"unknown exercise; choose one of {', '.join(exercise_ids())}")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise HTTPException(413, f"uploads are at most {limit >> 20} MB")
    if not hub.uploads_busy.acquire(blocking=False):
        raise HTTPException(503, "an analysis is already running; try again in a moment")
    try:
        with tempfile.TemporaryDirectory(prefix="poseit-upload-") as tmp:
            path = Path(tmp) / "upload.video"
            size = 0
            with path.open("wb") as f:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > limit:
                        raise HTTPException(413, f"uploads are at most {limit >> 20} MB")
                    f.write(chunk)
            if size == 0:
                raise HTTPException(422, "the upload is empty")
            loop = asyncio.get_running_loop()
            try:
                summary, html = await loop.run_in_executor(
                    hub.uploads, analyze_file, path, exercise, hub.settings.engine
                )
            except PoseItError as exc:
                raise HTTPException(422, str(exc).replace(str(path), "the upload")) from None
    finally:
        hub.uploads_busy.release()
    key = secrets.token_hex(8)
    hub.keep_report(key, html)
    return {"summary": summary, "report": f"/api/reports/{key}"}


@router.get("/reports/{key}", include_in_schema=False)
def report(request: Request, key: str) -> HTMLResponse:
    html = request.app.state.hub.reports.get(key) if re.fullmatch(r"[0-9a-f]{16}", key) else None
    if html is None:
        raise HTTPException(404, "no such report (the server keeps the last few)")
    return HTMLResponse(html, headers={"content-security-policy": REPORT_CSP})
