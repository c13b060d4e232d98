"""Pydantic models at the edge: what clients may send over the WebSocket, and what the JSON API returns."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Resume(_Strict):
    """A dropped session to go on with: its id, the token its ``started`` message gave, its time origin."""

    session: int
    token: str = Field(max_length=64)
    t0_ms: float | None = None  # capture time of the session's first frame (the client's clock)


class PlanSet(_Strict):
    """Which set of a plan run a session is: the run's id, the block (from 0) and the set in it (from 1)."""

    run: int
    block: int = Field(ge=0, le=100)
    set: int = Field(ge=1, le=100)


class StartMessage(_Strict):
    type: Literal["start"]
    exercise: str = Field(max_length=40)
    source: Literal["camera", "file", "demo"] = "camera"
    resume: Resume | None = None
    plan: PlanSet | None = None


class StopMessage(_Strict):
    type: Literal["stop"]


class PingMessage(_Strict):
    type: Literal["ping"]


ClientMessage = TypeAdapter(Annotated[StartMessage | StopMessage | PingMessage, Field(discriminator="type")])


class Rep(BaseModel):
    session_id: int
    number: int
    complete: bool
    start_s: float | None
    turn_s: float | None
    end_s: float | None
    duration_s: float | None
    depth: float | None = None
    issues: int


class Issue(BaseModel):
    rep: int
    time_s: float
    rule: str
    message: str
    severity: str


class Session(BaseModel):
    id: int
    started_at: float
    ended_at: float | None
    status: str
    exercise: str
    counted_as: str | None
    model: str
    device: str
    source: str
    frames: int
    reps: int
    partial_reps: int
    hold_s: float | None
    plan_run_id: int | None = None
    plan_block: int | None = None
    plan_set: int | None = None
    target_reps: int | None = None
    target_hold_s: float | None = None


class SessionDetail(Session):
    rep_events: list[Rep]
    form_issues: list[Issue]


class PlanRunStart(_Strict):
    plan: str = Field(max_length=40)  # a plan's key: builtin:NAME or user:ID


class PlanRunEnd(_Strict):
    status: Literal["ended", "stopped"] = "ended"


class PlanRun(BaseModel):
    """A run of a plan, with the plan as it was and its sets (sessions) so far."""

    id: int
    plan_key: str
    plan_name: str
    plan: dict
    started_at: float
    ended_at: float | None
    status: str
    sets: list[Session]
