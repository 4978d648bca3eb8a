"""The dashboard's HTML pages: server-rendered, autoescaped, no inline script (the CSP forbids it)."""

from __future__ import annotations

from typing import Any, Callable, Optional
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined

from storewatch.accounts import allows
from storewatch.cases import lifecycle, sla
from storewatch.correlate.incidents import SEVERITY_RANK
from storewatch.correlate.summary import split_summary
from storewatch.report import aggregate, sources
from storewatch.report.filters import environment
from storewatch.workspace import Workspace
from storewatch.web import case_api, overview, services, timeline_view
from storewatch.web.api import parse_since, retry_after, workspace
from storewatch.web.security import COOKIE, LockedOut, locked_out, principal

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(env=environment(Environment(
    # The report's templates come second: the timeline partial is shared, not copied.
    loader=ChoiceLoader([PackageLoader("storewatch.web", "templates"), PackageLoader("storewatch.report", "templates")]),
    autoescape=True, undefined=StrictUndefined,
    trim_blocks=True, lstrip_blocks=True)))
templates.env.filters["duration"] = sla.duration
templates.env.filters["split_summary"] = split_summary
MAX_FORM_BYTES = 4096


def _page(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
    guard = request.app.state.guard
    # No appendix: a page scrolls, so the shared partials show long values whole (see report.appendix).
    who = getattr(request.state, "principal", None)
    return templates.TemplateResponse(request, name, {"signed_in": guard.protected, "who": who, "appendix": None, **context},
                                      status_code=status)


def _error(request: Request, exc: services.ServiceError | HTTPException) -> HTMLResponse:
    status = exc.status if isinstance(exc, services.ServiceError) else exc.status_code
    message = str(exc) if isinstance(exc, services.ServiceError) else exc.detail
    page = _page(request, "error.html.j2", status=status, message=message)
    if isinstance(exc, services.ServiceError) and (wait := retry_after(exc)):
        page.headers.update(wait)
    return page


def _view(request: Request, name: str, compute: Callable[[Workspace], Any],
          context: Callable[[Any], dict]) -> HTMLResponse:
    """A page that is one service call over the workspace: its figures rendered, or the call's error page."""
    try:
        found = compute(workspace(request))
    except services.ServiceError as exc:
        return _error(request, exc)
    return _page(request, name, **context(found))


# The list's filters: an old link to "/" carrying them (the list's address before the overview) is sent on.
LIST_PARAMS = ("min_severity", "since", "scenario", "sort", "status", "store", "channel")


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    """The overview; a bookmark of the old list at "/" with its filters goes on to /incidents."""
    if any(name in request.query_params for name in LIST_PARAMS):
        return RedirectResponse(f"/incidents?{request.url.query}", status_code=308)
    return _view(request, "overview.html.j2", overview.overview,
                 lambda figures: {"o": figures, "severities": list(aggregate.SEVERITIES)})


@router.get("/attack", response_class=HTMLResponse)
def attack_page(request: Request) -> HTMLResponse:
    return _view(request, "attack.html.j2", overview.attack_matrix, lambda found: {"m": found})


@router.get("/incidents", response_class=HTMLResponse)
def incident_list(request: Request, min_severity: Optional[str] = None, since: Optional[str] = None,
                  scenario: Optional[str] = None, sort: str = "risk", status: Optional[str] = None,
                  store: Optional[str] = None, channel: Optional[str] = None) -> HTMLResponse:
    ws = workspace(request)
    filters = {"min_severity": min_severity or "", "since": since or "", "scenario": scenario or "", "sort": sort,
               "status": status or "", "store": store or "", "channel": channel or ""}
    try:
        rows = services.list_incidents(ws, min_severity or None, parse_since(since), scenario or None, sort,
                                       status=status or None, store_id=store or None, channel=channel or None)
        known = services.facets(ws)
    except (services.ServiceError, HTTPException) as exc:
        return _error(request, exc)
    return _page(request, "list.html.j2", incidents=rows, filters=filters, facets=known,
                 severities=list(SEVERITY_RANK), sorts=list(services.SORTS), case_filters=lifecycle.FILTERS)


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
def incident_page(request: Request, incident_id: str, group: Optional[str] = None, key: Optional[str] = None,
                  page: int = 1) -> HTMLResponse:
    """What to decide first (summary, risk factors, response), then entities, then the timeline by group and page."""
    ws = workspace(request)
    if group not in (None, "", *timeline_view.GROUPINGS):
        return _error(request, HTTPException(422, f"group must be one of {', '.join(timeline_view.GROUPINGS)}"))
    try:
        found = services.incident(ws, incident_id)
        timeline = services.timeline(ws, found["id"])
        alerts = services.alerts(ws, found["id"])
        actions = services.actions(ws, found["id"]) if sources.respond_engine() else None
        case = _case_context(request, found["id"])
    except services.ServiceError as exc:
        return _error(request, exc)
    ents: dict[str, list[str]] = {}
    for e in found["entities"]:
        ents.setdefault(e["type"], []).append(e["value"])
    from storewatch.learn.exceptions import suggested_condition

    scopes = ["all", *dict.fromkeys(f"detection:{a['rule_id']}" for a in alerts), f"group:{found['scenario']}"]
    events = timeline["events"]
    key = key or None
    shown = timeline_view.members(events, group or None, key)
    view = {"group": group or "", "key": key, "groups": timeline_view.groups(events, group) if group else [],
            "page": timeline_view.page(shown, page)}
    return _page(request, "incident.html.j2", inc=found, timeline=timeline, alerts=alerts, actions=actions,
                 entities=ents, respond=sources.respond_engine() is not None, tl_view=view,
                 groupings=list(timeline_view.GROUPINGS), suggested=suggested_condition(found["entities"]),
                 scopes=scopes, **case)


def _case_context(request: Request, incident_id: str) -> dict:
    """What case_panel.html.j2 needs: the case, the choices, and whether the principal may change it."""
    guard = request.app.state.guard
    return {"case": case_api.case(workspace(request), incident_id), "users": sorted(guard.accounts()),
            "statuses": lifecycle.STATUSES, "resolutions": lifecycle.RESOLUTIONS, "severities": lifecycle.SEVERITIES,
            "can_change": allows(principal(request).role, "analyst")}


@router.get("/models", response_class=HTMLResponse)
def models_page(request: Request) -> HTMLResponse:
    return _view(request, "models.html.j2", services.models, lambda found: found)



@router.get("/detections", response_class=HTMLResponse)
def detections_page(request: Request) -> HTMLResponse:
    return _view(request, "detections.html.j2", services.detections,
                 lambda view: {"detections": view["detections"], "errors": view["errors"]})


def _local_path(target: str) -> str:
    """Only same-site paths after login: '/x' yes, '//evil.example' or 'https://...' no."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return _page(request, "login.html.j2", next=_local_path(next), failed=False, **_login_ways(request))


def _login_ways(request: Request) -> dict[str, bool]:
    guard = request.app.state.guard
    return {"with_password": bool(guard.accounts()), "with_token": bool(guard.token)}


@router.post("/login")
async def login(request: Request) -> Response:
    guard = request.app.state.guard
    body = await request.body()
    form = parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", "replace"))
    target = _local_path(form.get("next", ["/"])[0])
    if not guard.protected:
        return RedirectResponse(target, status_code=303)
    name = form.get("name", [""])[0]
    try:
        who = (guard.check_password(name, form.get("password", [""])[0], request) if name
               else guard.check_login(form.get("token", [""])[0], request))
    except LockedOut as exc:
        return locked_out(request, exc)
    if who is None:
        return _page(request, "login.html.j2", status=401, next=target, failed=True, **_login_ways(request))
    return guard.set_cookie(RedirectResponse(target, status_code=303), request, who)


@router.post("/logout")
def logout(request: Request) -> Response:
    request.app.state.guard.end_session(request)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
