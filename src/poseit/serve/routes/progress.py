"""``/api/progress``: one exercise's progress over days (volume, range of motion, tempo, personal records)."""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from poseit.serve.progress import DAY_COLUMNS, progress
from poseit.serve.session import exercise_names

router = APIRouter(prefix="/api")
TzOffset = Annotated[int, Query(ge=-840, le=840, description="minutes behind UTC (Date.getTimezoneOffset())")]


def _progress(request: Request, exercise: str | None, tz: int) -> dict:
    store = request.app.state.hub.store
    done = store.exercises_done()
    names = exercise_names()
    if exercise is None:
        exercise = done[0]["exercise"] if done else None
    elif exercise not in names:
        raise HTTPException(422, f"unknown exercise; choose one of {', '.join(names)}")
    exercises = [{"id": d["exercise"], "name": names.get(d["exercise"], d["exercise"]), **d} for d in done]
    out = {"exercise": exercise, "name": names.get(exercise or "", None), "exercises": exercises}
    if exercise is None:
        return {**out, "days": [], "records": []}
    return {**out, **progress(*store.progress_rows(exercise), tz_offset_min=tz)}


@router.get("/progress")
def get_progress(
    request: Request, exercise: Annotated[str | None, Query(max_length=40)] = None, tz: TzOffset = 0
) -> dict:
    """Per day: sessions, reps, seconds held, best session, median seconds per rep, mean depth at the turn; and
    the personal records. Without ``exercise``: the one done last. ``exercises``: every exercise done."""
    return _progress(request, exercise, tz)


@router.get("/progress.csv")
def progress_csv(request: Request, exercise: Annotated[str, Query(max_length=40)], tz: TzOffset = 0) -> Response:
    """The same days as CSV, one row each."""
    days = _progress(request, exercise, tz)["days"]
    out = io.StringIO()
    writer = csv.DictWriter(out, DAY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(days)
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"content-disposition": f'attachment; filename="poseit-progress-{exercise}.csv"'},
    )
