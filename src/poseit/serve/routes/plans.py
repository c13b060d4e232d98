"""``/api/plans``: built-in and users' workout plans; ``/api/plan-runs``: a plan being done, set by set."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response

from poseit.errors import PoseItError
from poseit.serve.schemas import PlanRun, PlanRunEnd, PlanRunStart
from poseit.serve.workout import Plan, PlanBody, builtin_plans, find_plan, user_plan

router = APIRouter(prefix="/api")


def _store(request: Request):
    return request.app.state.hub.store


def _user_plans(store) -> list[Plan]:
    out = []
    for row in store.plans():
        try:
            out.append(user_plan(row))
        except PoseItError:  # a stored plan an older or newer exercise library does not know: not offered
            continue
    return out


@router.get("/plans", response_model=list[Plan])
def list_plans(request: Request) -> list[Plan]:
    """The built-in plans, then the user's own."""
    return [*builtin_plans(), *_user_plans(_store(request))]


@router.post("/plans", response_model=Plan, status_code=201)
def create_plan(request: Request, body: PlanBody) -> Plan:
    data = body.model_dump(mode="json")
    plan_id = _store(request).add_plan(body.name, body.description, data["blocks"])
    return user_plan({"id": plan_id, **data})


@router.put("/plans/{plan_id}", response_model=Plan)
def update_plan(request: Request, plan_id: int, body: PlanBody) -> Plan:
    data = body.model_dump(mode="json")
    if not _store(request).update_plan(plan_id, body.name, body.description, data["blocks"]):
        raise HTTPException(404, f"no plan {plan_id} (built-in plans cannot be changed)")
    return user_plan({"id": plan_id, **data})


@router.delete("/plans/{plan_id}", status_code=204)
def delete_plan(request: Request, plan_id: int) -> Response:
    if not _store(request).delete_plan(plan_id):
        raise HTTPException(404, f"no plan {plan_id} (built-in plans cannot be deleted)")
    return Response(status_code=204)


@router.post("/plan-runs", response_model=PlanRun, status_code=201)
def start_run(request: Request, body: PlanRunStart) -> dict:
    """Start doing a plan: the run keeps a copy of the plan; its sets are live sessions that name the run."""
    store = _store(request)
    plan = find_plan(body.plan, store)
    if plan is None:
        raise HTTPException(404, f"no plan {body.plan!r}")
    snapshot = plan.model_dump(mode="json", include={"name", "description", "blocks"})
    run_id = store.start_plan_run(plan.key, plan.name, snapshot)
    return store.plan_run(run_id)


@router.post("/plan-runs/{run_id}/end", response_model=PlanRun)
def end_run(request: Request, run_id: int, body: PlanRunEnd) -> dict:
    store = _store(request)
    if not store.end_plan_run(run_id, body.status):
        raise HTTPException(404, f"no live plan run {run_id}")
    return store.plan_run(run_id)


@router.get("/plan-runs", response_model=list[PlanRun])
def list_runs(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict]:
    """Plan runs, newest first, with their sets."""
    return _store(request).plan_runs(limit, offset)


@router.get("/plan-runs/{run_id}", response_model=PlanRun)
def get_run(request: Request, run_id: int) -> dict:
    found = _store(request).plan_run(run_id)
    if found is None:
        raise HTTPException(404, f"no plan run {run_id}")
    return found
