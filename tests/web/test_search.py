"""Hunting in the dashboard: the API (JSON and CSV), the page (escaped, paged, exports), the entity pivot."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, urlparse

from tests.report.support import ATTACKER, SCRIPT, TEMPLATE


def test_api_search_json_and_paging(client):
    r = client.get("/api/search", params={"q": f"src_ip:{ATTACKER} AND http_status:401", "limit": 3})
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 5 and len(body["rows"]) == 3 and body["next_offset"] == 3
    assert all(row["src_ip"] == ATTACKER and row["http_status"] == 401 for row in body["rows"])
    assert [row["time"] for row in body["rows"]] == sorted((row["time"] for row in body["rows"]), reverse=True)
    rest = client.get("/api/search", params={"q": f"src_ip:{ATTACKER} AND http_status:401", "limit": 3, "offset": 3}).json()
    assert len(rest["rows"]) == 2 and rest["next_offset"] is None
    assert not {r["event_id"] for r in body["rows"]} & {r["event_id"] for r in rest["rows"]}
    counted = client.get("/api/search", params={"q": "| count by http_status"}).json()
    assert counted["rows"] == [{"http_status": 401, "count": 5}, {"http_status": 302, "count": 1}]


def test_api_search_csv_export(client):
    r = client.get("/api/search", params={"q": "http_status:302", "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 1 and rows[0]["src_ip"] == ATTACKER and rows[0]["user_name"] == SCRIPT


def test_api_search_errors_are_400_with_the_reason(client):
    r = client.get("/api/search", params={"q": "src_addr:1.2.3.4"})
    assert r.status_code == 400 and "unknown field 'src_addr'" in r.json()["detail"]
    assert client.get("/api/search", params={"q": "x", "since": "yesterday-ish"}).status_code == 400


def test_page_escapes_values_and_links_exports(client):
    r = client.get("/search", params={"q": f"src_ip:{ATTACKER}", "limit": 4})
    assert r.status_code == 200
    assert SCRIPT not in r.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert "1–4 of 6" in r.text
    links = dict(re.findall(r'<a href="([^"]+)">(next|CSV|JSON)</a>', r.text))
    assert {v for v in links.values()} == {"next", "CSV", "JSON"}
    nxt = next(href for href, label in links.items() if label == "next").replace("&amp;", "&")
    assert parse_qs(urlparse(nxt).query)["offset"] == ["4"]
    second = client.get(nxt)
    assert "5–6 of 6" in second.text and "previous" in second.text
    csv_link = next(href for href, label in links.items() if label == "CSV").replace("&amp;", "&")
    assert client.get(csv_link).text.count("\n") == 5  # header + this page's 4 rows


def test_page_says_what_is_wrong_with_a_query(client):
    r = client.get("/search", params={"q": 'user_name:"' + SCRIPT})
    assert r.status_code == 400 and "the quote at column 11 is never closed" in r.text and "<script>" not in r.text


def test_injection_in_the_query_is_data(client):
    for q in ["user_name:\"x'; DROP TABLE incidents; --\"", "url_query:\"' OR 1=1 --\"", f'"{TEMPLATE}"']:
        r = client.get("/api/search", params={"q": q})
        assert r.status_code == 200, q
    assert client.get("/api/search", params={"q": "url_query:*"}).json()["total"] == 5  # still all there
    assert client.get("/api/incidents").status_code == 200 and len(client.get("/api/incidents").json()) == 3
    page = client.get("/search", params={"q": f'"{TEMPLATE}"'}).text
    assert f'value="&#34;{TEMPLATE}&#34;"' in page  # the template expression stays text, not evaluated


def test_incident_entities_pivot_to_search(client):
    incident = next(i for i in client.get("/api/incidents").json() if i["scenario"] == "admin_bruteforce")
    page = client.get(f"/incidents/{incident['id']}").text
    hrefs = [h.replace("&amp;", "&") for h in re.findall(r'<a class="entity" href="([^"]+)"', page)]
    ip_link = next(h for h in hrefs if f"value={ATTACKER}" in h)
    assert "entity=ip" in ip_link
    user_link = next(h for h in hrefs if "entity=user" in h)
    assert "<script>" not in page.split('class="entities"')[1].split("</dl>")[0]
    found = client.get(ip_link)
    assert found.status_code == 200 and f"src_ip:&#34;{ATTACKER}&#34; OR dst_ip:&#34;{ATTACKER}&#34;" in found.text
    assert "1–6 of 6" in found.text
    assert "1–1 of 1" in client.get(user_link).text  # the user with markup in its name: one event, as text
