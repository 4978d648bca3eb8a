"""Hunting in the dashboard: `GET /api/search` (JSON, or CSV with format=csv) and the `/search` page.

Both are thin layers over `storewatch.hunt.run.search`, run on the request's read snapshot cursor, so a
search answers while ingest or detect write. Entity links on other pages (the `entity_link` macro in
templates/entity_link.html.j2) open this page with `entity` and `value`, which become the query.
"""

from __future__ import annotations

import io
from typing import Optional
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from storewatch.hunt.compile import MAX_PAGE
from storewatch.hunt.parse import QueryError, moment
from storewatch.hunt.pivot import entity_query
from storewatch.hunt.run import SHOWN, Result, cell, search, write_csv
from storewatch.web import services
from storewatch.web.api import workspace

api_router = APIRouter(tags=["search"])
page_router = APIRouter(include_in_schema=False)


def _run(request: Request, q: str, since: Optional[str], until: Optional[str], limit: int, offset: int) -> Result:
    """The page of results, or QueryError / a service error (store busy)."""
    window = (moment(since) if since else None, moment(until) if until else None)
    with services.store(workspace(request)) as con:
        return search(con, q, *window, limit=limit, offset=offset)


@api_router.get("/search", summary="Events matching a query (docs/search.md), newest first, a page at a time")
def api_search(
    request: Request,
    q: str = Query("", max_length=4000, description="e.g. src_ip:10.0.0.0/8 AND NOT http_status:200 | count by url_path"),
    since: Optional[str] = Query(None, description="ISO 8601 date/time or a duration (24h, 7d)"),
    until: Optional[str] = Query(None, description="ISO 8601 date/time or a duration"),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0),
    format: str = Query("json", pattern="^(json|csv)$", description="json, or csv for a download"),
):
    try:
        result = _run(request, q, since, until, limit, offset)
    except QueryError as exc:
        raise HTTPException(400, str(exc)) from None
    except services.ServiceError as exc:
        raise HTTPException(exc.status, str(exc)) from None
    if format == "csv":
        out = io.StringIO()
        write_csv(result, out)
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="storewatch-search.csv"'})
    body = {"query": result.query, "columns": list(result.columns), "rows": result.rows, "total": result.total,
            "offset": result.offset, "limit": result.limit, "next_offset": result.next_offset}
    return Response(orjson.dumps(body, default=str), media_type="application/json")


@page_router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, q: str = "", since: str = "", until: str = "", limit: int = 50, offset: int = 0,
                entity: str = "", value: str = "") -> HTMLResponse:
    from storewatch.web.pages import _page

    error, result = None, None
    try:
        if entity:  # a pivot from an entity link: its query, shown in the form to refine
            q = entity_query(entity, value)
        if not 0 < limit <= MAX_PAGE or offset < 0:
            raise QueryError(f"limit is 1 to {MAX_PAGE}, offset 0 or more")
        if q or since or until:
            result = _run(request, q, since or None, until or None, limit, offset)
    except (QueryError, services.ServiceError) as exc:
        error = str(exc)
    form = {"q": q, "since": since, "until": until, "limit": limit}
    columns: list[str] = []
    rows: list[list[str]] = []
    links: dict[str, str] = {}
    if result is not None:
        columns = list(result.columns) if result.aggregate else [c for c in SHOWN if any(r.get(c) is not None for r in result.rows)]
        rows = [[cell(r[c]) for c in columns] for r in result.rows]
        here = {k: v for k, v in form.items() if v}
        links = {"csv": "/api/search?" + urlencode({**here, "offset": offset, "format": "csv"}),
                 "json": "/api/search?" + urlencode({**here, "offset": offset})}
        if result.next_offset is not None:
            links["next"] = "/search?" + urlencode({**here, "offset": result.next_offset})
        if offset > 0:
            links["previous"] = "/search?" + urlencode({**here, "offset": max(0, offset - limit)})
    return _page(request, "search.html.j2", status=400 if error else 200, form=form, error=error, result=result,
                 columns=columns, rows=rows, links=links)
