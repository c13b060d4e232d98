"""``/api/sessions``: the history as JSON and CSV."""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from poseit.serve.schemas import Session, SessionDetail
from poseit.serve.store import REP_COLUMNS

router = APIRouter(prefix="/api")


def _store(request: Request):
    return request.app.state.hub.store


@router.get("/sessions", response_model=list[Session])
def list_sessions(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict]:
    """Sessions, newest first."""
    return _store(request).sessions(limit, offset)


@router.get("/sessions.csv")
def all_reps_csv(request: Request) -> Response:
    """Every rep of every session, one CSV row each."""
    return _csv(_store(request).reps(), "poseit-reps.csv")


@router.get("/sessions/{session_id}", response_model=SessionDetail)
def get_session(request: Request, session_id: int) -> dict:
    """One session with its reps and form issues."""
    found = _store(request).session(session_id)
    if found is None:
        raise HTTPException(404, f"no session {session_id}")
    return found


@router.get("/sessions/{session_id}/reps.csv")
def session_reps_csv(request: Request, session_id: int) -> Response:
    store = _store(request)
    if store.session(session_id) is None:
        raise HTTPException(404, f"no session {session_id}")
    return _csv(store.reps(session_id), f"poseit-session-{session_id:d}.csv")


def _csv(rows: list[dict], filename: str) -> Response:
    out = io.StringIO()
    writer = csv.DictWriter(out, ["session_id", *REP_COLUMNS, "issues"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )
