"""The retailer's own terms: `storewatch payments` (the card networks' ratios), `storewatch stores`
(conversion, cashier exceptions, tills after hours) and `storewatch ranking` (stores and channels by risk)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional

import typer


def _computed(home: Optional[Path], compute: Callable[[Any, Any], Any], setting: Optional[str] = None,
              parse: Callable[[list[str]], Any] = list) -> Any:
    """`compute(reader connection, parsed setting)` over the workspace; a bad setting is a usage error."""
    from storewatch.cli import existing_workspace
    from storewatch.store import reader

    ws = existing_workspace(home)
    try:
        parsed = parse(ws.settings()[setting]) if setting else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=setting) from None
    with reader.opened(ws) as con:
        return compute(con, parsed)


def register(app: typer.Typer) -> None:
    from storewatch.cli import HomeOption

    @app.command()
    def payments(home: Optional[Path] = HomeOption, json: bool = typer.Option(False, "--json")) -> None:
        """Payment health: Visa's VAMP ratio, Mastercard's chargeback ratio, declines and fraud warnings per month."""
        from rich.table import Table

        from storewatch.business import payments as health
        from storewatch.cli import _json_out, console

        result = _computed(home, lambda con, progs: health.health(health.monthly_counts(con), progs),
                           "payments.thresholds", health.programmes)
        if json:
            _json_out(result)
            return
        if not result["trend"]:
            console.print("No payment events in the store (Stripe events feed this view).")
            return
        for prog in result["programmes"]:
            table = Table(title=f"{prog['name']}: threshold {prog['threshold']:.2%}, "
                                f"at least {prog['minimum_count']:,} a month; warning from {prog['warn_ratio']:.2%}")
            for col in ("month", "fraud + disputes", "sales", "ratio", "status"):
                table.add_column(col, justify="left" if col in ("month", "status") else "right")
            for m in prog["months"]:
                count = f"{m['numerator']:,}" + (f" (pace {m['projected_count']:,})" if m["partial"] else "")
                table.add_row(m["month"] + (" (so far)" if m["partial"] else ""), count,
                              "-" if m["denominator"] is None else f"{m['denominator']:,}",
                              "-" if m["ratio"] is None else f"{m['ratio']:.2%}", m["status"].replace("_", " "))
            console.print(table)
        trend = Table(title="All cards")
        for col in ("month", "settled", "declined", "decline rate", "fraud warnings", "disputes"):
            trend.add_column(col, justify="left" if col == "month" else "right")
        for t in result["trend"]:
            trend.add_row(t["month"], f"{t['settled_sales']:,}", f"{t['declines']:,}",
                          "-" if t["decline_rate"] is None else f"{t['decline_rate']:.1%}",
                          f"{t['fraud_reports']:,}", f"{t['disputes']:,}")
        console.print(trend)

    @app.command()
    def stores(home: Optional[Path] = HomeOption, json: bool = typer.Option(False, "--json")) -> None:
        """In-store analytics: visitors against sales, cashiers whose exceptions stand out, tills used after hours."""
        from rich.table import Table

        from storewatch.business import stores as analytics
        from storewatch.cli import _json_out, console
        from storewatch.terminal import shown

        result = _computed(home, analytics.report, "stores.hours", analytics.parse_hours)
        if json:
            _json_out(result)
            return
        table = Table(title="Cashier exceptions against their peers (most unlikely first)")
        for col in ("store", "cashier", "exception", "count", "per 100", "why"):
            table.add_column(col, overflow="fold")
        for f in result["cashier_exceptions"]:
            table.add_row(shown(f["store_id"]), shown(f["employee_id"]), f["exception"].replace("_", " "),
                          str(f["count"]), f"{f['per_100']:.1f}", shown(f["explanation"]))
        console.print(table if result["cashier_exceptions"] else "No cashier's exceptions stand out from their peers'.")
        late = Table(title="Till activity after hours")
        for col in ("store", "day", "hour", "what", "count", "cashiers", "hours from"):
            late.add_column(col, overflow="fold")
        for f in result["after_hours"]:
            late.add_row(shown(f["store_id"]), f["day"], f"{f['hour']:02d}:00", f["activity"], str(f["count"]),
                         shown(", ".join(f["employees"])), f["basis"])
        console.print(late if result["after_hours"] else "No till activity after hours.")
        odd = [c for c in result["conversion"] if c["note"]]
        conv = Table(title="Visitors against sales: the store-days that do not add up")
        for col in ("store", "day", "visitors", "sales", "conversion", "note"):
            conv.add_column(col, overflow="fold")
        for c in odd:
            conv.add_row(shown(c["store_id"]), c["day"], str(c["entries"]), str(c["transactions"]),
                         "-" if c["conversion"] is None else f"{c['conversion']:.1%}", c["note"])
        console.print(conv if odd else f"Visitors and sales agree on all {len(result['conversion'])} store-days.")

    @app.command()
    def ranking(home: Optional[Path] = HomeOption, json: bool = typer.Option(False, "--json"),
                since: Optional[str] = typer.Option(None, "--since", help="Only incidents active since this time or for this long (30d)."),
                top: int = typer.Option(10, "--top", min=1, help="Rows per table.")) -> None:
        """Stores and channels ranked by open risk and realised loss, with what drives each."""
        from rich.table import Table

        from storewatch.business.ranking import rank
        from storewatch.cli import _json_out, _parse_since, console
        from storewatch.correlate.queries import list_incidents
        from storewatch.terminal import shown

        incidents = _computed(home, lambda con, _: list_incidents(con, None, _parse_since(since)))
        result = {"stores": rank(incidents, "stores")[:top], "channels": rank(incidents, "channels")[:top]}
        if json:
            _json_out(result)
            return
        for by, rows in result.items():
            table = Table(title=f"{by.capitalize()} by open risk, then loss")
            for col in (by[:-1], "open risk", "open", "all", "loss", "driven by"):
                table.add_column(col, overflow="fold")
            for r in rows:
                table.add_row(shown(r[by[:-1]]), str(r["open_risk"]), str(r["open_incidents"]), str(r["incidents"]),
                              ", ".join(f"{c} {v:,.2f}" for c, v in r["loss"].items()) or "-",
                              shown("; ".join(f"{d['what']} ({d['risk']})" for d in r["drivers"])))
            console.print(table if rows else f"No incidents touch any {by[:-1]}.")

    @app.command()
    def funnel(home: Optional[Path] = HomeOption, incident: Optional[str] = typer.Option(
                   None, "--incident", help="How this incident moved the funnel against the same hours of other days."),
               json: bool = typer.Option(False, "--json")) -> None:
        """The web shop's funnel per hour (sessions, add-to-cart, checkouts, orders, declines), or an incident's effect on it."""
        from datetime import datetime

        from rich.table import Table

        from storewatch.business import funnel as shop
        from storewatch.cli import _json_out, console
        from storewatch.correlate.queries import get_incident

        def compute(con, _):
            hours = shop.hourly(con)
            if incident is None:
                return {"hours": [{"hour": h.isoformat(), **v} for h, v in sorted(hours.items())]}
            found = get_incident(con, incident)
            if found is None:
                raise typer.BadParameter(f"no incident {incident!r} (or the prefix is not unique)", param_hint="--incident")
            span = [datetime.fromisoformat(found[k].replace("Z", "+00:00")) for k in ("first_seen", "last_seen")]
            return {"incident": found["id"], **shop.effect(hours, *span)}

        result = _computed(home, compute)
        if json:
            _json_out(result)
            return
        if incident is None:
            table = Table(title="The shop's funnel per hour (UTC)")
            for col in ("hour", *shop.METRICS):
                table.add_column(col.replace("_", " "), justify="left" if col == "hour" else "right")
            for row in result["hours"]:
                table.add_row(row["hour"][:13], *(f"{row[m]:,}" for m in shop.METRICS))
            console.print(table)
            return
        table = Table(title=f"{result['incident']}: {result['hours']} hour(s) against the same hours of "
                            f"{result['comparable_days']} other day(s); 95% intervals")
        for col in ("measure", "seen", "expected", "effect", "interval"):
            table.add_column(col, justify="left" if col == "measure" else "right")
        for name, m in result["metrics"].items():
            table.add_row(name.replace("_", " "), f"{m['seen']:,}", f"{m['expected']:,.1f}",
                          f"{m['effect']:+,.1f}" if m["measurable"] else "no measurable effect",
                          f"{m['low']:+,.1f} to {m['high']:+,.1f}")
        console.print(table)
