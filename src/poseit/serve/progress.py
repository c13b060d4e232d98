"""Progress per exercise over days, from the history: volume, range of motion, tempo and personal records.

Pure functions over the store's rows (`Store.progress_rows`): a day is a calendar day in the user's time zone
(``tz_offset_min`` as the browser's ``Date.getTimezoneOffset()`` gives it: minutes behind UTC).
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from typing import Any

DAY_COLUMNS = (
    "day",
    "sessions",
    "reps",
    "partial_reps",
    "hold_s",
    "best_set",
    "median_rep_s",
    "mean_depth",
    "mean_symmetry",
)


def day_of(t: float, tz_offset_min: int = 0) -> str:
    """The calendar day (YYYY-MM-DD) of unix time ``t`` in the zone ``tz_offset_min`` minutes behind UTC."""
    return time.strftime("%Y-%m-%d", time.gmtime(t - tz_offset_min * 60))


def _round(v: float | None, digits: int = 2) -> float | None:
    return None if v is None else round(v, digits)


def progress(sessions: list[dict[str, Any]], reps: list[dict[str, Any]], tz_offset_min: int = 0) -> dict[str, Any]:
    """Per day (oldest first): sessions, reps, partial reps, seconds held, the best session's reps, the median
    seconds per rep (tempo), the mean depth at the turn (range of motion: 1 = the exercise's turn threshold) and
    the mean left/right symmetry (1 = both sides through the same range; reps seen from the front);
    and the personal records, each with its day and session."""
    day_sessions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    session_day = {}
    for s in sessions:
        day = day_of(s["started_at"], tz_offset_min)
        day_sessions[day].append(s)
        session_day[s["id"]] = day
    durations: dict[str, list[float]] = defaultdict(list)
    depths: dict[str, list[float]] = defaultdict(list)
    balance: dict[str, list[float]] = defaultdict(list)
    for r in reps:
        day = session_day.get(r["session_id"])
        if day is None:
            continue
        if r.get("duration_s") is not None:
            durations[day].append(r["duration_s"])
        if r.get("depth") is not None:
            depths[day].append(r["depth"])
        if r.get("symmetry") is not None:
            balance[day].append(r["symmetry"])
    days = []
    for day in sorted(day_sessions):
        ss = day_sessions[day]
        holds = [s["hold_s"] for s in ss if s.get("hold_s") is not None]
        days.append(
            {
                "day": day,
                "sessions": len(ss),
                "reps": sum(s["reps"] for s in ss),
                "partial_reps": sum(s["partial_reps"] for s in ss),
                "hold_s": _round(sum(holds), 1) if holds else None,
                "best_set": max(s["reps"] for s in ss),
                "median_rep_s": _round(statistics.median(durations[day])) if durations[day] else None,
                "mean_depth": _round(statistics.fmean(depths[day])) if depths[day] else None,
                "mean_symmetry": _round(statistics.fmean(balance[day])) if balance[day] else None,
            }
        )
    return {"days": days, "records": records(sessions, days, session_day)}


def records(sessions: list[dict[str, Any]], days: list[dict[str, Any]], session_day: dict[int, str]) -> list[dict]:
    """Personal records: most reps in a session and in a day, longest hold, deepest day on average, and the
    quickest day's median rep (tempo), each ``{"what", "value", "unit", "day", "session"}``."""
    out = []

    def best(what: str, unit: str, rows: list[dict], key: str, session: bool, lowest: bool = False) -> None:
        rows = [r for r in rows if r.get(key) is not None and (r[key] > 0 or lowest)]
        if not rows:
            return
        top = (min if lowest else max)(rows, key=lambda r: r[key])
        day = session_day[top["id"]] if session else top["day"]
        out.append({"what": what, "value": top[key], "unit": unit, "day": day, "session": top.get("id")})

    best("most reps in a session", "reps", sessions, "reps", session=True)
    best("most reps in a day", "reps", days, "reps", session=False)
    best("longest hold", "s", [{**s, "hold_s": _round(s.get("hold_s"), 1)} for s in sessions], "hold_s", True)
    best("deepest reps (mean of a day)", "x turn depth", days, "mean_depth", session=False)
    best("quickest reps (median of a day)", "s per rep", days, "median_rep_s", session=False, lowest=True)
    best("most even left and right (mean of a day)", "symmetry", days, "mean_symmetry", session=False)
    return out
