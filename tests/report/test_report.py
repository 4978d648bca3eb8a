"""The HTML report: one offline file, every incident, matplotlib charts, hostile log values escaped, PDF."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from storewatch.cli import app
from storewatch.correlate.queries import list_incidents
from storewatch.report import aggregate, sources, write_report
from storewatch.store import db
from tests.report.support import MONEY_AT_RISK, SCRIPT, TEMPLATE, build_hostile_workspace, chromium_or_skip


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return build_hostile_workspace(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def html(hostile, tmp_path_factory) -> str:
    out = write_report(hostile, tmp_path_factory.mktemp("out") / "report.html")
    return out.read_text()


def test_report_is_one_self_contained_file(html):
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"https?://", html), "external reference in the report"
    assert not re.search(r"<(link|script|img|iframe)\b", html)
    assert "<style>" in html


def test_report_names_every_incident(hostile, html):
    with db.opened(hostile) as con:
        ids = [r["id"] for r in list_incidents(con)]
    assert len(ids) == 3
    for incident_id in ids:
        assert f'id="{incident_id}"' in html  # its own section
        assert f'href="#{incident_id}"' in html  # reachable from the summary tables


def test_charts_are_matplotlib_svg(html):
    figures = re.findall(r"<figure>\s*<svg.*?</svg>", html, re.S)
    assert len(figures) >= 5  # over time, severity, channel, store, entities
    assert all('<g id="figure_1">' in f and '<g id="axes_1">' in f for f in figures)


def test_executive_summary_speaks_plainly(html):
    summary = html.split('<section id="summary">', 1)[1].split("</section>", 1)[0]
    assert "found 3 incidents: 1 critical, 1 high, 1 low" in summary
    assert f"Money at risk: {MONEY_AT_RISK} across 2 incidents" in summary
    assert "What to do first" in summary
    assert "Nothing needs action now" not in summary


def test_hostile_log_values_are_escaped(html):
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert TEMPLATE in html  # shown literally, never evaluated by the template engine
    assert "it&#39;s &#34;quoted&#34;" in html


def test_incident_sections_have_techniques_timeline_and_response(html):
    assert "T1110.001 Password Guessing" in html
    if sources.optional_module(sources.TIMELINE_MODULE):
        assert "Entry point" in html and "POST /admin/login" in html
    else:
        assert "From the incident&#39;s alerts" in html
    if sources.respond_engine():
        assert "No response action taken yet" in html
    else:
        assert "The response stage is not installed" in html


def test_money_from_blast_radius_does_not_add_channels():
    incident = {"alert_details": [{"evidence": {"amount": "10", "currency": "usd"}}],
                "timeline": {"blast_radius": {"money": [
                    {"currency": "USD", "channel": "orders", "activity": "create", "events": 1, "amount": "80.00"},
                    {"currency": "USD", "channel": "payments", "activity": "charge", "events": 1, "amount": "50.00"},
                    {"currency": "USD", "channel": "payments", "activity": "refund", "events": 1, "amount": "40.00"}]}}}
    assert aggregate.money_at_risk(incident) == {"USD": 90.0}


def test_amount_without_currency_takes_the_one_the_events_name_else_says_it_is_unknown():
    blast = {"money": [{"currency": "USD", "channel": "payments", "activity": "charge", "events": 3, "amount": "70.00"}]}
    incident = {"alert_details": [{"evidence": {"amount": 120}}], "timeline": {"blast_radius": blast}}
    assert aggregate.money_at_risk(incident) == {"USD": 120.0}
    alone = aggregate.money_at_risk({"alert_details": [{"evidence": {"amount": 120}}], "timeline": {}})
    assert aggregate.format_money(alone) == "120.00 (currency not stated)"


def test_incidents_over_time_buckets_by_hour_within_two_days():
    incidents = [{"first_seen": "2026-11-16T10:05:00Z", "severity": "high"},
                 {"first_seen": "2026-11-16T12:59:00Z", "severity": "low"},
                 {"first_seen": "2026-11-16T12:01:00Z", "severity": "high"}]
    buckets, series = aggregate.over_time(incidents)
    assert buckets == ["11-16 10:00", "11-16 11:00", "11-16 12:00"]
    assert series == {"high": [1, 0, 1], "low": [0, 0, 1]}


def test_report_command_writes_html(hostile, tmp_path):
    out = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["report", "--out", str(out), "--home", str(hostile.home)])
    assert result.exit_code == 0, result.output
    assert out.exists() and "Security report" in out.read_text()


def test_pdf_through_chromium(hostile, tmp_path):
    chromium_or_skip()
    pdf = write_report(hostile, tmp_path / "report.html", pdf=True)
    assert pdf == tmp_path / "report.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 10_000
    assert (tmp_path / "report.html").exists()


def test_pdf_without_chromium_says_what_to_install(hostile, tmp_path, monkeypatch):
    from storewatch.report import pdf

    monkeypatch.setattr(pdf, "find_chromium", lambda: None)
    result = CliRunner().invoke(app, ["report", "--out", str(tmp_path / "r.html"), "--pdf", "--home", str(hostile.home)])
    assert result.exit_code == 1
    assert "apt-get install chromium" in result.output
    assert (tmp_path / "r.html").exists()


def test_top_entities_count_incidents_then_put_the_attacker_side_first() -> None:
    def inc(iid: str, risk: int, *entities: tuple[str, str]) -> dict:
        return {"id": iid, "risk_score": risk, "entities": [{"type": t, "value": v} for t, v in entities]}

    incidents = [inc("A", 90, ("card", "c1"), ("card", "c2"), ("ip", "198.51.100.4"), ("store", "0042")),
                 inc("B", 40, ("email", "x@example.com"), ("user", "kim")),
                 inc("C", 50, ("user", "kim"))]
    ranked = [(r["type"], r["value"]) for r in aggregate.top_entities(incidents)]
    assert ranked[0] == ("user", "kim")  # two incidents beat one
    assert ranked[1] == ("ip", "198.51.100.4")  # then the attacker's side before the cards it tested
    assert ("store", "0042") not in ranked and ranked[-2:] == [("card", "c1"), ("card", "c2")]
