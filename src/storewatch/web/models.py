"""Shapes of the JSON API, so /api/openapi.json describes what clients send and get."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field


class Entity(BaseModel):
    type: str
    value: str


class Factor(BaseModel):
    factor: str
    points: int
    why: str


class Incident(BaseModel):
    """An incident as listed: ranked by risk, with the reasons for its score."""

    model_config = ConfigDict(extra="allow")
    id: str
    title: str
    scenario: str
    severity: Literal["low", "medium", "high", "critical"]
    risk_score: int
    first_seen: str = Field(description="ISO 8601 UTC")
    last_seen: str = Field(description="ISO 8601 UTC")
    entities: list[Entity]
    alerts: int
    attack: list[str] = Field(description="ATT&CK technique ids")
    stores: list[str]
    channels: list[str]
    summary: str
    status: Optional[str] = Field(description="new, acknowledged, in_progress or resolved")
    assignee: Optional[str] = None
    resolution: Optional[str] = Field(None, description="true_positive, benign, false_positive or duplicate")
    factors: list[Factor]


class Alert(BaseModel):
    model_config = ConfigDict(extra="allow")
    alert_id: str
    rule_id: str
    title: str
    severity: str
    first_seen: str
    last_seen: str
    event_count: int
    entities: list[Entity]
    evidence: dict
    summary: Optional[str]


class IncidentDetail(Incident):
    alert_details: list[Alert]


class AlertWithEvents(Alert):
    events: list[dict] = Field(description="A sample of the stored events behind the alert")


class PlanRequest(BaseModel):
    playbook: Optional[str] = Field(None, max_length=200, description="Only this playbook (default: all that match)")


class ExecuteRequest(PlanRequest):
    approved: bool = Field(False, description="The analyst approves the actions named in action_ids")
    action_ids: Optional[list[str]] = Field(None, max_length=5000, description=(
        "Exactly the planned actions to run (ids from the dry run); required with approved, "
        "without it only the actions that need no approval run"))


class FeedbackRequest(BaseModel):
    verdict: Literal["true_positive", "benign", "false_positive"]
    note: str = Field("", max_length=2000)
    alert_id: Optional[str] = Field(None, max_length=64, description="Judge one alert of the incident, not all of it")


class ExceptionRequest(BaseModel):
    """"Never alert on this again": an exception made from an incident (docs/learning.md)."""
    condition: str = Field(..., min_length=1, max_length=1000, description="e.g. user = etl_nightly and ip in 10.20.0.0/16")
    scope: str = Field("all", max_length=200, description="all, detection:<id> or group:<scenario or kind>")
    reason: str = Field(..., min_length=1, max_length=2000)
    expires_days: int = Field(30, ge=0, le=3650, description="0: no expiry")
    days: int = Field(30, ge=1, le=3650, description="History replayed for the preview")
