"""The dashboard application: JSON API, HTML pages, static files and the firewalls' block lists."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles

import storewatch
from storewatch.report import sources
from storewatch.web import api, case_api, pages, search, security
from storewatch.web.limits import BodyLimit
from storewatch.workspace import Workspace


def create_app(ws: Workspace, token: str | None, *, allowed_hosts: tuple[str, ...] | None = None) -> FastAPI:
    """The dashboard over workspace `ws`.

    With `token` or named accounts (`storewatch users`), every request but the login page and static files
    must prove who it is (see `security`). Without either, only loopback host names are answered unless
    `allowed_hosts` says otherwise.
    """
    app = FastAPI(title="storewatch", version=storewatch.__version__,
                  description="Incidents, forensic timelines, response playbooks and analyst feedback.",
                  openapi_url="/api/openapi.json", docs_url=None, redoc_url=None)
    app.state.workspace = ws
    guard = security.Guard(token, allowed_hosts, workspace=ws, token_role=security.token_role(ws))
    # Without a credential to prove (no token, no account) only loopback host names are answered.
    guard.allowed_hosts = allowed_hosts or (None if guard.protected else security.LOOPBACK_NAMES)
    app.state.guard = guard

    app.add_middleware(BodyLimit)  # added first, so it runs inside the guard: refusals never read a body

    @app.middleware("http")
    async def guard_requests(request: Request, call_next):
        refused = await security.check(app.state.guard, request)
        return security.add_headers(refused if refused is not None else await call_next(request))

    app.include_router(api.router, prefix="/api")
    app.include_router(case_api.router, prefix="/api")
    app.include_router(search.api_router, prefix="/api")
    app.include_router(pages.router)
    app.include_router(search.page_router)
    app.mount("/static", StaticFiles(packages=[("storewatch.web", "static")]), name="static")
    edl = sources.optional_module("storewatch.respond.edl")
    if edl is not None:
        app.include_router(edl.edl_router)
    return app
