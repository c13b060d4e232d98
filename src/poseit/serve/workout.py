"""Workout plans as data: a plan is an ordered list of blocks ``{exercise, sets, reps | hold_s, rest_s}``.

Built-in plans are TOML files in ``poseit/serve/plans/`` (validated on load: a bad file ends in one line naming
it and the field); users' own plans live in the history database (`poseit.serve.store.Store`). A plan has a
key: ``builtin:<file stem>`` or ``user:<row id>``. A *run* of a plan is stored with a copy of the plan as it was
started, and each of its sets is a live session linked to the run.

    [[blocks]]
    exercise = "squat"   # a library exercise id
    sets = 3
    reps = 10            # or hold_s = 30 for a hold (plank)
    rest_s = 60          # after each set (not after the plan's last)
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from poseit.errors import PoseItError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

BUILTIN = "builtin:"
USER = "user:"


def _exercises() -> dict[str, bool]:
    """Library exercise id -> whether it is a hold."""
    from poseit.coach.library import library

    return {k: ex.is_hold for k, ex in library().items()}


class Block(BaseModel):
    """One exercise done for ``sets`` sets of ``reps`` reps (or ``hold_s`` seconds), with ``rest_s`` after each."""

    model_config = ConfigDict(extra="forbid")

    exercise: str = Field(min_length=1, max_length=40)
    sets: int = Field(1, ge=1, le=20)
    reps: int | None = Field(None, ge=1, le=500)
    hold_s: float | None = Field(None, gt=0, le=3600)
    rest_s: float = Field(60.0, ge=0, le=1800)

    @model_validator(mode="after")
    def _target(self) -> Block:
        known = _exercises()
        if self.exercise not in known:
            raise ValueError(f"unknown exercise {self.exercise!r}; choose one of {', '.join(known)}")
        if self.reps is not None and self.hold_s is not None:
            raise ValueError("give either reps or hold_s (not both)")
        if known[self.exercise] and self.hold_s is None:
            raise ValueError(f"{self.exercise} is a hold: give hold_s, not reps")
        if not known[self.exercise] and self.reps is None:
            raise ValueError(f"{self.exercise} is counted in reps: give reps, not hold_s")
        return self


class PlanBody(BaseModel):
    """What a user may create or edit (the API's request body)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=80)
    description: str = Field("", max_length=500)
    blocks: list[Block] = Field(min_length=1, max_length=50)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        v = " ".join(v.split())
        if not v:
            raise ValueError("the name is empty")
        return v


class Plan(PlanBody):
    """A plan as listed: its key, its row id (user plans), whether it is built in."""

    key: str
    id: int | None = None
    builtin: bool = False

    @property
    def total_sets(self) -> int:
        return sum(b.sets for b in self.blocks)


def error_text(exc: ValidationError) -> str:
    """The first validation error as one line: ``blocks.1.reps: Input should be greater than or equal to 1``."""
    first = exc.errors()[0]
    where = ".".join(str(x) for x in first.get("loc", ())) or "plan"
    return f"{where}: {first.get('msg', 'invalid').removeprefix('Value error, ')}"


def parse_plan(data: dict[str, Any], key: str, origin: str) -> Plan:
    """A validated `Plan` from a mapping (a TOML file's or a database row's); `PoseItError` naming ``origin``."""
    try:
        return Plan.model_validate({**data, "key": key})
    except ValidationError as exc:
        raise PoseItError(f"plan {origin}: {error_text(exc)}") from None


def load_toml(text: str, key: str, origin: str) -> Plan:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PoseItError(f"plan {origin}: not valid TOML: {exc}") from None
    return parse_plan(data, key, origin)


@cache
def builtin_plans() -> tuple[Plan, ...]:
    """The plans shipped in ``poseit/serve/plans/*.toml``, in file-name order."""
    folder = resources.files("poseit.serve") / "plans"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".toml")), key=lambda f: f.name)
    plans = []
    for f in files:
        stem = f.name.removesuffix(".toml")
        plan = load_toml(f.read_text(encoding="utf-8"), BUILTIN + stem, f"poseit/serve/plans/{f.name}")
        plans.append(plan.model_copy(update={"builtin": True}))
    return tuple(plans)


def user_plan(row: dict[str, Any]) -> Plan:
    """A user plan from its database row (``id``, ``name``, ``description``, ``blocks``)."""
    body = {"name": row["name"], "description": row.get("description") or "", "blocks": row["blocks"]}
    return parse_plan(body, f"{USER}{row['id']}", f"#{row['id']}").model_copy(update={"id": row["id"]})


def find_plan(key: str, store: Any) -> Plan | None:
    """The plan with ``key`` (built in, or a user plan in ``store``), or None."""
    if key.startswith(BUILTIN):
        return next((p for p in builtin_plans() if p.key == key), None)
    if key.startswith(USER) and key[len(USER) :].isdigit():
        row = store.plan(int(key[len(USER) :]))
        return user_plan(row) if row is not None else None
    return None


def set_target(plan: dict[str, Any], block: int, set_number: int, exercise: str) -> dict[str, Any]:
    """The target of set ``set_number`` (1-based) of block ``block`` (0-based) of a stored plan snapshot;
    `PoseItError` if the plan has no such set or it is of another exercise."""
    blocks = plan.get("blocks") or []
    if not 0 <= block < len(blocks):
        raise PoseItError(f"the plan has no block {block}")
    b = blocks[block]
    if not 1 <= set_number <= int(b["sets"]):
        raise PoseItError(f"block {block} of the plan has {b['sets']} sets, not set {set_number}")
    if b["exercise"] != exercise:
        raise PoseItError(f"block {block} of the plan is {b['exercise']}, not {exercise}")
    return {"reps": b.get("reps"), "hold_s": b.get("hold_s")}
