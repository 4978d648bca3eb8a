"""The case API under /api: one incident's case (read, and each change an analyst makes) and the SLA figures.

A thin layer over `storewatch.cases`: reads use the request's snapshot, changes take the store's write lock
through `services.write`, and the actor is the signed-in principal. Changes need the analyst role (the
guard's default for any POST).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Callable, Literal, Optional, TypeVar

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from storewatch.cases import changes, read
from storewatch.cases.lifecycle import CaseError
from storewatch.report import sources
from storewatch.web import services
from storewatch.web.api import actor, answer, workspace

router = APIRouter(tags=["cases"])
T = TypeVar("T")


class AssignRequest(BaseModel):
    user: Optional[str] = Field(None, max_length=64, description="Account name; null takes the case back")


class CommentRequest(BaseModel):
    text: str = Field(..., min_length=1, max_length=changes.MAX_COMMENT)


class StatusRequest(BaseModel):
    status: str = Field(..., max_length=20, description="new, acknowledged, in_progress or resolved")
    resolution: Optional[Literal["true_positive", "benign", "false_positive", "duplicate"]] = None
    duplicate_of: Optional[str] = Field(None, max_length=64)
    note: str = Field("", max_length=2000)


class TagsRequest(BaseModel):
    add: list[str] = Field(default_factory=list, max_length=50)
    remove: list[str] = Field(default_factory=list, max_length=50)


class SeverityRequest(BaseModel):
    severity: Optional[Literal["low", "medium", "high", "critical"]] = Field(None, description="null: the computed one")


class MergeRequest(BaseModel):
    others: list[str] = Field(..., min_length=1, max_length=100)


class SplitRequest(BaseModel):
    alerts: list[str] = Field(..., min_length=1, max_length=1000)


def _case_call(call: Callable[[], T]) -> T:
    try:
        return sources.plain(call())
    except CaseError as exc:
        raise services.NotFound(str(exc)) if str(exc).startswith("no single incident") else services.ServiceError(str(exc)) from None


def case(ws, incident_id: str) -> dict:
    """The case as the dashboard shows it (also used by the incident page)."""
    with services.store(ws) as con:
        return _case_call(lambda: read.case(ws, con, incident_id))


def change(request: Request, make: Callable[..., T], incident_id: str, *args: Any, **kwargs: Any) -> T:
    """`make(ws, incident_id, *args, actor=<signed-in principal>)` under the store's write lock; its errors
    become HTTP errors."""
    ws, who = workspace(request), actor(request)
    return answer(lambda: _case_call(lambda: services.write(lambda: make(ws, incident_id, *args, actor=who, **kwargs))))


@router.get("/incidents/{incident_id}/case", summary="The case: status, assignee, comments, attachments, history, SLA")
def get_case(request: Request, incident_id: str) -> dict:
    return answer(lambda: case(workspace(request), incident_id))


# The changes whose body is JSON: action -> (body shape, the change, its arguments from the body, summary).
CHANGES: dict[str, tuple[type[BaseModel], Callable[..., dict], Callable[[Any], tuple[tuple, dict]], str]] = {
    "assign": (AssignRequest, changes.assign, lambda b: ((b.user,), {}), "Assign the case (null: unassign)"),
    "comment": (CommentRequest, changes.comment, lambda b: ((b.text,), {}), "Add a comment (card numbers are masked)"),
    "status": (StatusRequest, changes.set_status,
               lambda b: ((b.status, b.resolution, b.duplicate_of), {"note": b.note}),
               "Move the case; resolving needs a resolution, and a verdict resolution is recorded as feedback"),
    "tags": (TagsRequest, changes.tag, lambda b: ((b.add, b.remove), {}), "Add and remove tags"),
    "severity": (SeverityRequest, changes.set_severity, lambda b: ((b.severity,), {}),
                 "Override the severity (the risk score stays)"),
    "merge": (MergeRequest, changes.merge, lambda b: ((b.others,), {}), "Merge other incidents into this one"),
    "split": (SplitRequest, changes.split, lambda b: ((b.alerts,), {}), "Move chosen alerts into a new incident"),
}


def _add_change_route(action: str) -> None:
    shape, make, arguments, summary = CHANGES[action]

    def endpoint(request: Request, incident_id: str, body: BaseModel) -> dict:
        args, kwargs = arguments(body)
        return change(request, make, incident_id, *args, **kwargs)

    endpoint.__annotations__ = {"request": Request, "incident_id": str, "body": shape, "return": dict}
    endpoint.__name__ = f"case_{action}"
    router.add_api_route(f"/incidents/{{incident_id}}/case/{action}", endpoint, methods=["POST"], summary=summary)


for _action in CHANGES:
    _add_change_route(_action)


@router.post("/incidents/{incident_id}/case/attachments",
             summary="Attach the request body as a file named `name` (kept with its SHA-256)")
async def attach(request: Request, incident_id: str, name: str = Query(..., min_length=1, max_length=200)) -> dict:
    body = await request.body()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload"
        path.write_bytes(body)
        return change(request, changes.attach, incident_id, path, name=name)


@router.get("/incidents/{incident_id}/case/attachments/{sha256}", summary="Download an attachment")
def download(request: Request, incident_id: str, sha256: str) -> FileResponse:
    ws = workspace(request)
    found = next((a for a in answer(lambda: case(ws, incident_id))["attachments"] if a["sha256"] == sha256), None)
    if found is None or not found["intact"]:
        raise HTTPException(404, "no such attachment on this case, or its copy no longer matches its SHA-256")
    return FileResponse(changes.attachments_folder(ws) / found["sha256"], media_type="application/octet-stream",
                        filename=found["name"])


@router.get("/cases/stats", summary="Counts by status, MTTD / MTTA / MTTR, breached SLA clocks")
def stats(request: Request) -> dict:
    ws = workspace(request)
    with services.store(ws) as con:
        return sources.plain(read.stats(ws, con))
