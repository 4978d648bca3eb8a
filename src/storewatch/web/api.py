"""The JSON API under /api: the dashboard's data and actions for programs (described at /api/openapi.json)."""

from __future__ import annotations

from datetime import datetime
from typing import Callable, Optional, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from storewatch.correlate.incidents import SEVERITY_RANK
from storewatch.web import security, services
from storewatch.web.models import AlertWithEvents, ExceptionRequest, ExecuteRequest, FeedbackRequest, Incident, IncidentDetail, PlanRequest
from storewatch.workspace import Workspace

router = APIRouter(tags=["incidents"])
T = TypeVar("T")


def workspace(request: Request) -> Workspace:
    return request.app.state.workspace


def actor(request: Request) -> str:
    """Audit name for dashboard actions: the signed-in account's name, or `dashboard:<address>` for the
    shared token (and on loopback without one), where the client address is what identifies."""
    return security.principal(request).name


def answer(call: Callable[[], T]) -> T:
    """Run a service call, turning its errors into HTTP errors with the message for the client."""
    try:
        return call()
    except services.ServiceError as exc:
        raise HTTPException(exc.status, str(exc), headers=retry_after(exc)) from None


def retry_after(exc: services.ServiceError) -> dict[str, str] | None:
    """`Retry-After` for a wait that ends by itself (the store busy with another command's write)."""
    wait = getattr(exc, "retry_after", None)
    return {"Retry-After": str(wait)} if wait else None


def parse_since(since: Optional[str]) -> Optional[datetime]:
    """ISO 8601 time or a duration such as 12h / 7d, as the CLI reads it."""
    import typer

    from storewatch.cli import _parse_since

    try:
        return _parse_since(since)
    except typer.BadParameter as exc:
        raise HTTPException(422, str(exc.message)) from None


@router.get("/incidents", response_model=list[Incident], summary="Incidents, highest risk first")
def list_incidents(
    request: Request,
    min_severity: Optional[str] = Query(None, description="low, medium, high or critical"),
    since: Optional[str] = Query(None, description="Active since this ISO 8601 time or for this long (12h, 7d)"),
    scenario: Optional[str] = Query(None, description="Only this scenario"),
    sort: str = Query("risk", description="risk, severity, recent (last activity) or first_seen"),
    limit: Optional[int] = Query(None, ge=1, le=10000),
    status: Optional[str] = Query(None, description="Only this status"),
    store: Optional[str] = Query(None, description="Only incidents involving this store"),
    channel: Optional[str] = Query(None, description="Only incidents in this channel"),
):
    when = parse_since(since)
    # Already JSON (made once per snapshot): returned as is, the shape `response_model` documents.
    return Response(answer(lambda: services.incident_list_json(workspace(request), min_severity, when, scenario, sort,
                                                              limit, status, store, channel)),
                    media_type="application/json")


@router.get("/incidents/new", summary="Incidents created after a time, for a page that stays open")
def new_incidents(
    request: Request,
    after: Optional[str] = Query(None, description="ISO 8601 time: the `until` of the previous answer; "
                                                   "without it, no incidents and the newest creation time"),
    min_severity: Optional[str] = Query(None, description="low, medium, high or critical"),
) -> dict:
    if min_severity is not None and min_severity not in SEVERITY_RANK:
        raise HTTPException(422, f"min_severity: one of {', '.join(SEVERITY_RANK)}")
    return answer(lambda: services.new_incidents(workspace(request), parse_since(after), min_severity))


@router.get("/incidents/{incident_id}", response_model=IncidentDetail, summary="One incident with its alerts")
def get_incident(request: Request, incident_id: str):
    return answer(lambda: services.incident(workspace(request), incident_id))


@router.get("/incidents/{incident_id}/timeline", summary="Forensic timeline (or the alerts' when forensics is absent)")
def get_timeline(request: Request, incident_id: str) -> dict:
    return answer(lambda: services.timeline(workspace(request), incident_id))


@router.get("/incidents/{incident_id}/alerts", response_model=list[AlertWithEvents],
            summary="Alerts with evidence and sample events")
def get_alerts(request: Request, incident_id: str, samples: int = Query(services.SAMPLE_EVENTS, ge=0, le=100)):
    return answer(lambda: services.alerts(workspace(request), incident_id, samples))


@router.post("/incidents/{incident_id}/plan", tags=["respond"], summary="Playbook dry run: what would be done")
def plan(request: Request, incident_id: str, body: PlanRequest) -> list[dict]:
    return answer(lambda: services.plan(workspace(request), incident_id, body.playbook))


@router.post("/incidents/{incident_id}/execute", tags=["respond"],
             summary="Run the picked actions (approved + action_ids), or only those needing no approval (admin)",
             dependencies=[Depends(security.require_role("admin"))])
def execute(request: Request, incident_id: str, body: ExecuteRequest) -> list[dict]:
    return answer(lambda: services.execute(workspace(request), incident_id, body.playbook, actor(request),
                                           body.approved, body.action_ids))


@router.get("/incidents/{incident_id}/actions", tags=["respond"], summary="Response actions and their status")
def incident_actions(request: Request, incident_id: str) -> list[dict]:
    return answer(lambda: services.actions(workspace(request), incident_id))


@router.get("/actions", tags=["respond"], summary="All response actions and their status")
def all_actions(request: Request) -> list[dict]:
    return answer(lambda: services.actions(workspace(request)))


@router.post("/actions/{action_id}/rollback", tags=["respond"], summary="Undo one action (admin)",
             dependencies=[Depends(security.require_role("admin"))])
def rollback(request: Request, action_id: str) -> dict:
    return answer(lambda: services.rollback(workspace(request), action_id, actor(request)))


@router.post("/incidents/{incident_id}/feedback", tags=["feedback"],
             summary="True/false-positive verdict (a false positive is suppressed by the next detect)")
def feedback(request: Request, incident_id: str, body: FeedbackRequest) -> dict:
    return answer(lambda: services.feedback(workspace(request), incident_id, body.verdict, actor(request), body.note,
                                            body.alert_id))


@router.post("/incidents/{incident_id}/exceptions/preview", tags=["feedback"],
             summary="What an exception would have closed in the stored history (nothing saved)")
def exception_preview(request: Request, incident_id: str, body: ExceptionRequest) -> dict:
    return answer(lambda: services.exception_preview(workspace(request), incident_id, body.model_dump(), actor(request)))


@router.post("/incidents/{incident_id}/exceptions", tags=["feedback"],
             summary="Never alert on this again: save an exception (a YAML file in the workspace), audited")
def add_exception(request: Request, incident_id: str, body: ExceptionRequest) -> dict:
    return answer(lambda: services.add_exception(workspace(request), incident_id, body.model_dump(), actor(request)))


@router.get("/detections", tags=["detections"], summary="Detections: source, enabled, last fired, scorecard")
def detections(request: Request) -> dict:
    return answer(lambda: services.detections(workspace(request)))


@router.get("/audit", tags=["audit"], summary="Audit log, newest first, with hash-chain verification")
def audit_log(request: Request, limit: int = Query(100, ge=1, le=10000)) -> dict:
    return services.audit_log(workspace(request), limit)
