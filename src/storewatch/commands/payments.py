"""`storewatch payments`: the card networks' fraud and dispute ratios, month by month, against their thresholds."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    from storewatch.cli import HomeOption

    @app.command()
    def payments(home: Optional[Path] = HomeOption, json: bool = typer.Option(False, "--json")) -> None:
        """Payment health: Visa's VAMP ratio, Mastercard's chargeback ratio, declines and fraud warnings per month."""
        from rich.table import Table

        from storewatch.business import payments as health
        from storewatch.cli import _json_out, console
        from storewatch.store import reader
        from storewatch.workspace import Workspace

        ws = Workspace.at(home)
        try:
            progs = health.programmes(ws.settings()["payments.thresholds"])
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="payments.thresholds") from None
        with reader.opened(ws) as con:
            result = health.health(health.monthly_counts(con), progs)
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
