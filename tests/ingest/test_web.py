"""Web server logs as real servers and shippers write them: NCSA access logs and their variants, error
logs, IIS W3C logs and JSON access logs. Real samples are in tests/data/real/web (see SOURCES.md); the
expected values were read off the raw lines."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from storewatch.detect.engine import detect

REAL = Path(__file__).resolve().parents[1] / "data" / "real" / "web"
UTC = timezone.utc

ROWS = ("SELECT source_line, time, class_name, activity, outcome, event_code, src_ip, src_port, dst_ip, dst_port, user_name, "
        "host, http_method, url_host, url_path, url_query, protocol, http_status, bytes_in, bytes_out, duration, referrer, "
        "user_agent, file_path, message, attributes FROM events ORDER BY source_file, source_line")


def rows(query) -> dict[int, dict]:
    out = {}
    for r in query(ROWS):
        r["attributes"] = json.loads(r["attributes"]) if r["attributes"] else {}
        out[r["source_line"]] = r
    return out


def read_whole(report, fmt: str) -> None:
    """Every record of every file stored, or already stored from an earlier file (these real files hold no
    broken records)."""
    for f in report.files:
        assert f.source_format == fmt, (f.source_file, f.source_format)
        assert f.read > 0 and f.stored + f.duplicates == f.read and f.quarantined == 0, f


# --- NCSA access logs ---------------------------------------------------------------------------------------------

def test_nginx_access_real_with_vhost_line(run, query) -> None:
    read_whole(run(REAL / "filebeat-nginx-access.log"), "nginx")
    r = rows(query)
    assert len(r) == 13
    assert (r[1]["src_ip"], r[1]["http_status"], r[1]["bytes_in"], r[1]["referrer"]) == ("77.179.66.156", 200, 612, None)
    assert r[1]["time"] == datetime(2016, 10, 25, 12, 49, 33, tzinfo=UTC)  # 14:49:33 +0200
    assert r[2]["referrer"] == "http://localhost:8080/" and r[2]["outcome"] == "failure"
    # `$host $remote_addr ...`: the vhost is the host asked for, the second word the client.
    last = r[13]
    assert (last["url_host"], last["src_ip"], last["http_status"], last["bytes_in"]) == ("lessons.example.com", "192.168.0.1", 206, 7648063)
    assert last["url_path"] == "/A%20Beka%20G1%20Howe/029_AND_30/15%20reading%20elephants.mp4"
    assert last["time"] == datetime(2020, 6, 9, 19, 10, 39, tzinfo=UTC)  # 12:10:39 -0700


def test_nginx_address_lists_quoted_or_not(run, query) -> None:
    read_whole(run(REAL / "filebeat-nginx-access-xff.log"), "nginx")
    r = rows(query)
    # As Filebeat reads them: the first public address of the list, else its first.
    assert r[1]["src_ip"] == "10.0.0.2" and r[1]["attributes"]["forwarded_for"] == ["10.0.0.2", "10.0.0.1", "127.0.0.1"]
    assert r[3]["src_ip"] == "85.181.35.98"
    assert r[5]["src_ip"] == "199.96.1.1" and r[5]["url_query"] == "q=100" and r[5]["user_agent"] == "Amazon CloudFront"
    assert r[6]["src_ip"] == "2a03:0000:10ff:f00f:0000:0000:0:8000"
    assert r[2]["attributes"]["extra"] == '"-"' and r[2]["src_ip"] == "172.17.0.1"  # nginx `main`: "$http_x_forwarded_for"
    assert (r[7]["activity"], r[7]["http_status"], r[7]["url_path"], r[7]["http_method"]) == ("no_request", 400, None, None)


def test_nginx_vhost_and_odd_clients(run, query) -> None:
    read_whole(run(REAL / "filebeat-nginx-access-with-host.log"), "nginx")
    r = rows(query)
    assert (r[4]["url_host"], r[4]["dst_port"], r[4]["src_ip"]) == ("example.com", 80, "81.2.69.143")
    assert (r[5]["url_host"], r[5]["src_ip"]) == ("example.com", "175.16.199.1")
    assert (r[6]["dst_ip"], r[6]["url_host"], r[6]["src_ip"]) == ("1.128.3.4", None, "2a02:cf40:10ff:f00f:0000:0000:0:8000")
    assert (r[7]["dst_ip"], r[7]["dst_port"], r[7]["src_ip"]) == ("1.128.3.4", 80, "127.0.0.1")
    # A unix socket or a host name is not an address: kept aside, never a src_ip.
    assert (r[8]["src_ip"], r[8]["attributes"]["client"], r[8]["activity"], r[8]["message"]) == (None, "unix:", "malformed_request", "hello")
    assert (r[9]["src_ip"], r[9]["attributes"]["client"], r[9]["url_path"]) == (None, "localhost", "/test2")


def test_apache_access_real(run, query) -> None:
    report = run(REAL / "filebeat-apache-access.log", REAL / "filebeat-apache-access-darwin.log")
    read_whole(report, "nginx")
    r = {(Path(x["source_file"]).name, x["source_line"]): x for x in query(
        "SELECT source_file, source_line, src_ip, activity, http_status, bytes_in, user_agent, url_host, attributes FROM events")}
    a = "filebeat-apache-access.log"
    assert (r[a, 1]["src_ip"], r[a, 1]["http_status"], r[a, 1]["bytes_in"], r[a, 1]["user_agent"]) == ("::1", 404, 209, None)
    assert (r[a, 3]["activity"], r[a, 3]["http_status"], r[a, 3]["bytes_in"]) == ("no_request", 408, None)  # "-" 408 -
    assert r[a, 5]["src_ip"] is None and json.loads(r[a, 5]["attributes"])["client"] == "monitoring-server"  # HostnameLookups
    assert (r[a, 7]["url_host"], r[a, 7]["src_ip"]) == ("vhost1.domaine.fr", "123.123.123.123")
    assert report.totals["stored"] == 11  # two lines of the second file repeat lines of the first


def test_ingress_nginx_appended_fields(run, query) -> None:
    read_whole(run(REAL / "filebeat-nginx-ingress.log"), "nginx")
    r = rows(query)
    assert r[1]["duration"] == pytest.approx(0.001) and r[1]["http_method"] == "POST"  # `$request_length $request_time ...`
    assert r[1]["attributes"]["extra"].startswith("89 0.001 [default-web-8080]")
    assert r[11]["url_query"] == "address=delhi+technological+university"
    assert (r[13]["user_name"], r[13]["src_ip"], r[13]["duration"]) == ("remote_monitoring_user", "2a02:cf40::", pytest.approx(0.033))
    assert [r[i]["activity"] for i in (5, 6)] == ["malformed_request", "malformed_request"]  # "PATCHp", "geti"


def test_access_variants_from_the_formats(run, query, tmp_path: Path) -> None:
    """Shapes the format definitions allow that the real samples lack."""
    (tmp_path / "other_vhosts_access.log").write_text(
        'www.shop.example:443 203.0.113.5 - - [16/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 512 "-" "Mozilla/5.0"\n'
        '203.0.113.6 - - [16/Nov/2026:10:00:01 +0000] "GET /p/1 HTTP/1.1" 200 5 "-" "Mozilla/5.0" "198.51.100.1, 10.0.0.2"\n'
        '203.0.113.7 - - [16/Nov/2026:10:00:02 +0000] "GET /p/2 HTTP/1.1" 200 5 "-" "Mozilla/5.0" 0.250 0.248\n'
        '203.0.113.8 - - [16/Nov/2026:10:00:03 +0000] "\\x16\\x03\\x01\\x02\\x00\\x01" 400 157 "-" "-"\n'
        '203.0.113.9 - - [16/Nov/2026:10:00:04 +0000] "GET /q HTTP/1.1" 200 5 "-" "Mozilla/5.0 \\"quoted\\" (x)"\n'
        '203.0.113.10 - - [16/Nov/2026:10:00:05 +0000] "GET /old" 200 -\n'
        '203.0.113.11 - - [16/Nov/2026:10:00:06 +0000] "GET http://proxy.test/x?y=1 HTTP/1.1" 200 5 "-" "-" rt=1.500 uct="0.001"\n'
        '2001:db8::5 - carol [16/Nov/2026:10:00:07 +0000] "POST /login HTTP/1.1" 401 12\n'
        '203.0.113.12 - - [16/Nov/2026:11:00:08.250 +0100] "GET /ms HTTP/1.1" 200 5\n'
        '192.0.2.20 - - [16/Nov/2026:10:00:09 +0000] "GET /api/x HTTP/1.1" 200 42 "-" "curl/8" 17 "shop@docker" "http://10.0.0.2:8080" 37ms\n')
    read_whole(run(tmp_path / "other_vhosts_access.log"), "nginx")
    r = rows(query)
    assert (r[1]["url_host"], r[1]["dst_port"], r[1]["src_ip"], r[1]["url_path"]) == ("www.shop.example", 443, "203.0.113.5", "/")
    assert r[2]["src_ip"] == "203.0.113.6" and r[2]["attributes"]["forwarded_for"] == ["198.51.100.1", "10.0.0.2"]
    assert r[3]["duration"] == pytest.approx(0.25)
    assert (r[4]["activity"], r[4]["url_path"], r[4]["message"]) == ("malformed_request", None, "\\x16\\x03\\x01\\x02\\x00\\x01")
    assert r[5]["user_agent"] == 'Mozilla/5.0 "quoted" (x)'
    assert (r[6]["url_path"], r[6]["protocol"], r[6]["bytes_in"]) == ("/old", None, None)  # HTTP/0.9, Apache %b "-"
    assert (r[7]["url_host"], r[7]["url_path"], r[7]["url_query"], r[7]["duration"]) == ("proxy.test", "/x", "y=1", pytest.approx(1.5))
    assert (r[8]["src_ip"], r[8]["user_name"], r[8]["outcome"]) == ("2001:db8::5", "carol", "failure")
    assert r[9]["time"] == datetime(2026, 11, 16, 10, 0, 8, 250000, tzinfo=UTC)  # %{msec_frac}t
    assert (r[10]["duration"], r[10]["src_ip"]) == (pytest.approx(0.037), "192.0.2.20")  # Traefik's CLF: `<ms>ms` last


# --- error logs ---------------------------------------------------------------------------------------------------

def test_nginx_error_log_real(run, query) -> None:
    read_whole(run(REAL / "filebeat-nginx-error.log"), "web_error")
    r = rows(query)
    one = r[1]
    assert one["class_name"] == "Application Error" and one["time"] == datetime(2016, 10, 25, 14, 49, 34, tzinfo=UTC)
    assert (one["src_ip"], one["http_method"], one["url_path"], one["url_host"]) == ("127.0.0.1", "GET", "/favicon.ico", "localhost")
    assert one["referrer"] == "http://localhost:8080/"
    assert one["file_path"] == "/usr/local/Cellar/nginx/1.10.2_1/html/favicon.ico"
    assert one["attributes"]["pid"] == "54053" and one["attributes"]["connection"] == "1"
    assert one["message"] == 'open() "/usr/local/Cellar/nginx/1.10.2_1/html/favicon.ico" failed (2: No such file or directory)'
    # FastCGI stderr spans three lines: the continuations keep the first line's time.
    assert r[3]["activity"] == "error" and r[3]["outcome"] == "failure" and r[3]["message"].startswith("FastCGI sent in stderr")
    assert [r[i]["activity"] for i in (4, 5)] == ["continuation", "continuation"]
    assert r[4]["time"] == r[5]["time"] == r[3]["time"] and r[5]["message"].startswith("PHP message: PHP Warning:")


def test_error_log_local_time_follows_tz(run, query) -> None:
    run(REAL / "filebeat-nginx-error.log", tz="Europe/Paris")
    assert query("SELECT time FROM events WHERE source_line = 1")[0]["time"] == datetime(2016, 10, 25, 12, 49, 34, tzinfo=UTC)


def test_apache_error_log_starting_with_bracket_end_to_end(run, query) -> None:
    """A file whose first line starts with `[` is an Apache error log, not a JSON document."""
    report = run(REAL / "filebeat-apache-error-ubuntu.log")
    read_whole(report, "web_error")
    r = rows(query)
    assert (r[1]["activity"], r[1]["outcome"], r[1]["src_ip"]) == ("notice", "unknown", None)
    assert r[1]["message"] == "Apache/2.2.22 (Ubuntu) configured -- resuming normal operations"
    assert (r[2]["src_ip"], r[2]["file_path"], r[2]["referrer"]) == ("192.168.33.1", "/var/www/favicon.ico", "http://192.168.33.72/")
    assert r[2]["message"] == "File does not exist: /var/www/favicon.ico"
    assert r[7]["time"] == datetime(2016, 12, 26, 16, 22, 17, tzinfo=UTC)


def test_apache_24_error_log_real(run, query) -> None:
    read_whole(run(REAL / "filebeat-apache-error.log", REAL / "filebeat-apache-error-sublevel.log"), "web_error")
    by = {(Path(x["source_file"]).name, x["source_line"]): x for x in query(
        "SELECT source_file, source_line, time, activity, event_code, src_ip, src_port, message, attributes FROM events")}
    notice = by["filebeat-apache-error.log", 2]
    assert (notice["event_code"], notice["activity"]) == ("AH00094", "notice")
    assert notice["time"] == datetime(2016, 12, 26, 16, 15, 55, 103786, tzinfo=UTC)
    attrs = json.loads(by["filebeat-apache-error.log", 3]["attributes"])
    assert (attrs["module"], attrs["pid"], attrs["tid"]) == ("core", "35708", "4328636416")
    assert by["filebeat-apache-error.log", 3]["src_ip"] == "72.15.99.187"
    trace = by["filebeat-apache-error-sublevel.log", 1]
    assert (trace["activity"], trace["src_ip"], trace["src_port"]) == ("trace3", "10.121.192.8", 38350)
    assert json.loads(trace["attributes"])["source"] == "mod_rewrite.c(470)"


def test_apache_24_error_variants(run, query, tmp_path: Path) -> None:
    (tmp_path / "error.log").write_text(
        "[Wed Oct 11 14:32:52.123456 2026] [core:error] [pid 1234:tid 5678] [client 203.0.113.5:51234] AH00124: Request exceeded the limit of 10 internal redirects due to probable configuration error.\n"
        "[Wed Oct 11 14:33:00.000001 2026] [proxy_http:error] [pid 1234:tid 5679] (111)Connection refused: [client 2001:db8::9:40000] [remote 10.0.0.8:8080] AH01114: HTTP: failed to make connection to backend: 10.0.0.8\n"
        "[Wed Oct 11 14:34:00.5 2026] [ssl:warn] [pid 99] AH01909: www.shop.example:443:0 server certificate does NOT include an ID which matches the server name\n"
        "[Wed Oct 11 14:35:00.000000 2026] [php7:error] [pid 77] [client 198.51.100.7:6000] PHP Fatal error:  Uncaught Error: Call to undefined function x() in /var/www/html/a.php:3\n"
        "Stack trace:\n"
        "#0 {main}\n"
        "  thrown in /var/www/html/a.php on line 3, referer: https://www.shop.example/cart\n")
    read_whole(run(tmp_path / "error.log"), "web_error")
    r = rows(query)
    assert (r[1]["src_ip"], r[1]["src_port"], r[1]["event_code"], r[1]["outcome"]) == ("203.0.113.5", 51234, "AH00124", "failure")
    assert (r[2]["src_ip"], r[2]["src_port"]) == ("2001:db8::9", 40000)
    assert r[2]["attributes"]["remote"] == "10.0.0.8:8080" and r[2]["attributes"]["os_error"] == "(111)Connection refused"
    assert (r[3]["activity"], r[3]["attributes"]["module"], r[3]["src_ip"]) == ("warn", "ssl", None)
    assert (r[4]["attributes"]["module"], r[4]["src_ip"]) == ("php7", "198.51.100.7")
    assert [r[i]["activity"] for i in (5, 6, 7)] == ["continuation"] * 3 and r[7]["time"] == r[4]["time"]


def test_php_error_log_full_of_stack_traces_is_no_json_document(run, query, tmp_path: Path) -> None:
    """An Apache error log starting with `[` whose head is mostly stack-trace lines is still a log."""
    block = ("[Wed Oct 11 14:35:00.000000 2026] [php:error] [pid 77] [client 198.51.100.7:6000] PHP Fatal error:  Uncaught Exception: x in /var/www/html/a.php:3\n"
             "Stack trace:\n#0 /var/www/html/b.php(10): f()\n#1 /var/www/html/c.php(20): g()\n#2 /var/www/html/d.php(30): h()\n"
             "#3 {main}\n  thrown in /var/www/html/a.php on line 3\n")
    (tmp_path / "error.log").write_text(block * 20)
    report = run(tmp_path / "error.log")
    assert report.files[0].source_format == "web_error" and report.totals["stored"] == 140
    assert query("SELECT count(*) AS n FROM events WHERE activity = 'continuation'")[0]["n"] == 120


# --- IIS (W3C extended) -------------------------------------------------------------------------------------------

def test_iis_headers_change_within_the_file(run, query) -> None:
    read_whole(run(REAL / "filebeat-iis-access.log"), "w3c")
    r = rows(query)
    assert sorted(r) == [5, 10, 15, 16, 17]  # the header lines are not records
    assert r[5]["time"] == datetime(2018, 1, 1, 8, 9, 10, tzinfo=UTC)
    assert (r[5]["src_ip"], r[5]["dst_ip"], r[5]["dst_port"], r[5]["url_query"]) == ("81.2.69.143", "127.0.0.1", 80, "q=100")
    assert r[5]["user_agent"] == "Mozilla/5.0 (Windows NT 6.1; Win64; x64; rv:57.0) Gecko/20100101 Firefox/57.0"
    assert r[5]["duration"] == pytest.approx(0.123)
    assert (r[10]["url_host"], r[10]["bytes_in"], r[10]["bytes_out"], r[10]["attributes"]["site"]) == ("example.com", 123, 456, "W3SVC1")
    assert (r[15]["host"], r[15]["protocol"], r[15]["src_ip"]) == ("MACHINE-NAME", "HTTP/1.1", "81.2.69.143")
    # Lines in the first header's layout after the third header: mapped by the header of their width.
    assert (r[16]["http_status"], r[16]["dst_port"], r[16]["src_ip"]) == (401, 443, "10.50.6.188")
    assert r[16]["url_query"].startswith("redirect:${%23req%3d%23context.get(")
    assert r[17]["url_path"].startswith("/${#context['xwork.MethodAccessor.denyMethodExecution']") and r[17]["http_status"] == 404


def test_iis_ipv6_zone_and_headerless_file(run, query) -> None:
    read_whole(run(REAL / "filebeat-iis-access-ipv6zone.log"), "w3c")
    assert query("SELECT src_ip, dst_ip FROM events") == [{"src_ip": "::1", "dst_ip": "::1"}]


def test_iis_without_header_uses_the_known_layouts(run, query) -> None:
    read_whole(run(REAL / "filebeat-iis-access-xff-noheader.log"), "w3c")
    r = rows(query)
    assert (r[1]["src_ip"], r[1]["host"], r[1]["url_host"], r[1]["http_status"]) == ("10.24.136.240", "freca1", "images.hogeschoolrotterdam.nl", 404)
    assert r[1]["attributes"]["forwarded_for"] == ["116.189.86.89"] and r[1]["attributes"]["win32_status"] == "2"
    assert (r[3]["url_query"], r[3]["referrer"], r[3]["duration"]) == ("width=35&height=38&mode=crop", "https://www.rotterdamuas.com/", pytest.approx(0.015))


def test_iis_advanced_logging_quotes_local_times_and_blank_lines(run, query) -> None:
    # IIS Advanced Logging: blank lines between directives, columns aligned with several spaces, values with
    # spaces quoted (`""` inside), `date-local`/`time-local` on the server's clock, `cs(Host)`, `TimeTakenMS`
    read_whole(run(REAL / "lnav-iis-advanced-logging.log", tz="America/Los_Angeles"), "w3c")
    r = rows(query)
    assert sorted(r) == [8, 9, 10]
    assert r[8]["time"] == datetime(2012, 8, 16, 0, 0, 0, 363000, tzinfo=UTC)  # 17:00:00.363 PDT
    assert (r[8]["src_ip"], r[8]["dst_ip"], r[8]["dst_port"], r[8]["url_host"], r[8]["url_path"]) == (
        "70.95.0.0", "1.2.3.4", 80, "xzy.example.com", "/Products/theProduct")
    assert r[8]["user_agent"] == ("Mozilla/5.0 (Linux; Android 4.4.4; SM-G900V Build/KTU84P) AppleWebKit/537.36 "
                                  "(KHTML, like Gecko) Chrome/39.0.2171.59 Mobile Safari/537.36")
    assert r[8]["referrer"] == "http://example.com/Search/SearchResults.pg?informationRecipient.languageCode.c=en"
    assert (r[8]["http_status"], r[8]["duration"]) == (200, pytest.approx(0.109))
    assert (r[9]["src_ip"], r[9]["http_status"], r[9]["referrer"]) == (None, 301, None)
    assert (r[10]["url_path"], r[10]["http_status"], r[10]["attributes"]["substatus"]) == (
        "/hello/world/6,681965", 404, ' "garbage" w/ spaces ')


def test_iis_quotes_in_a_request_are_the_clients(run, query, tmp_path: Path) -> None:
    # IIS never quotes: a `"` in an injection attempt is part of the URL and must not shift the columns
    path = tmp_path / "u_ex261116.log"
    path.write_text("#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n"
                    "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) "
                    "cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n"
                    '2026-11-16 03:00:01 10.0.0.5 GET /item.aspx id=1"+or+"1"="1 443 - 203.0.113.9 sqlmap/1.7 - 500 0 0 15\n'
                    '2026-11-16 03:00:02 10.0.0.5 GET /cart.aspx - 443 - 203.0.113.10 Mozilla/5.0+"x" - 200 0 0 4\n')
    read_whole(run(path), "w3c")
    r = rows(query)
    assert (r[4]["url_query"], r[4]["src_ip"], r[4]["http_status"], r[4]["user_agent"]) == (
        'id=1"+or+"1"="1', "203.0.113.9", 500, "sqlmap/1.7")
    assert (r[5]["url_path"], r[5]["src_ip"], r[5]["user_agent"], r[5]["http_status"]) == (
        "/cart.aspx", "203.0.113.10", 'Mozilla/5.0 "x"', 200)


def test_real_shop_access_log_with_a_utc_offset(run, query) -> None:
    # a real online store's nginx log (Tehran, +0330): times to UTC, a bare `-` user agent, Persian paths
    read_whole(run(REAL / "lnav-shop-access.log"), "nginx")
    r = rows(query)
    assert len(r) == 300
    assert r[2]["time"] == datetime(2019, 1, 22, 0, 26, 16, tzinfo=UTC)  # 03:56:16 +0330
    assert (r[2]["src_ip"], r[2]["http_method"], r[2]["url_path"], r[2]["http_status"], r[2]["bytes_in"]) == (
        "31.56.96.51", "GET", "/image/60844/productModel/200x200", 200, 5667)
    assert (r[2]["referrer"], r[2]["protocol"]) == ("https://www.zanbil.ir/m/filter/b113", "HTTP/1.1")
    assert r[2]["user_agent"].startswith("Mozilla/5.0 (Linux; Android 6.0; ALE-L21 Build/HuaweiALE-L21)")
    assert (r[95]["http_status"], r[95]["outcome"], r[95]["url_query"]) == (302, "success", "o=6315")
    assert (r[156]["url_path"], r[156]["user_agent"], r[156]["bytes_in"]) == ("/site/ping", None, 4)
    assert sum(1 for x in r.values() if x["http_status"] == 404) == 7


# --- JSON access logs ---------------------------------------------------------------------------------------------

def test_caddy_access_log(run, query) -> None:
    read_whole(run(REAL / "caddy-docs-access.json"), "web_json")
    r = rows(query)[1]
    assert r["time"] == datetime(2022, 3, 9, 21, 30, 1, 524102, tzinfo=UTC)  # ts 1646861401.5241024
    assert (r["src_ip"], r["src_port"], r["url_host"], r["http_method"], r["url_path"]) == ("127.0.0.1", 41342, "localhost", "GET", "/")
    assert (r["protocol"], r["http_status"], r["bytes_in"], r["bytes_out"]) == ("HTTP/2.0", 200, 10900, 0)
    assert (r["user_agent"], r["duration"], r["attributes"]["server"]) == ("curl/7.82.0", pytest.approx(0.000929675), "caddy")


def test_caddy_behind_a_proxy_keeps_the_client_and_the_proxy_apart(run, query) -> None:
    # Caddy with trusted_proxies: client_ip is the client the proxy named, remote_ip:remote_port the proxy
    read_whole(run(REAL / "lnav-caddy-behind-proxy.json"), "web_json")
    r = rows(query)
    assert r[1]["time"] == datetime(2024, 5, 26, 11, 42, 52, 601481, tzinfo=UTC)  # ts 1716723772.6014807
    assert (r[1]["src_ip"], r[1]["src_port"], r[1]["attributes"]["peer_ip"], r[1]["attributes"]["peer_port"]) == (
        "10.10.10.117", None, "10.5.1.1", "38574")
    assert (r[1]["url_host"], r[1]["http_status"], r[1]["bytes_in"], r[1]["protocol"]) == ("mirrors.tnonline.net", 200, 3768, "HTTP/2.0")
    assert r[1]["url_path"] == "/gentoo/gentoo-distfiles/distfiles/9b/tl-hrlatex.source-2021.tar.xz"
    # a direct HTTP/3 client: its own address and port, no proxy
    assert (r[4]["src_ip"], r[4]["src_port"], r[4]["attributes"]["peer_ip"], r[4]["protocol"]) == (
        "240e:1:1::1234", 62769, None, "HTTP/3.0")


def test_json_access_logs_of_each_shape(run, query, tmp_path: Path) -> None:
    lines = [  # field names as each server's / shipper's documentation gives them
        {"ClientAddr": "203.0.113.7:50412", "ClientHost": "203.0.113.7", "ClientPort": "50412", "ClientUsername": "-",
         "DownstreamContentSize": 19, "DownstreamStatus": 404, "Duration": 204055000, "RequestAddr": "shop.example",
         "RequestContentSize": 0, "RequestHost": "shop.example", "RequestMethod": "GET", "RequestPath": "/wp-login.php?x=1",
         "RequestProtocol": "HTTP/1.1", "RouterName": "shop@docker", "StartUTC": "2026-11-16T04:03:22.742209746Z",
         "level": "info", "msg": "", "request_User-Agent": "Mozilla/5.0 zgrab", "time": "2026-11-16T04:03:22Z"},
        {"time_local": "16/Nov/2026:10:00:00 +0100", "remote_addr": "198.51.100.4", "remote_user": "", "request": "POST /login HTTP/1.1",
         "status": "401", "body_bytes_sent": "12", "request_time": "0.004", "http_referrer": "https://shop.example/",
         "http_user_agent": "Mozilla/5.0", "http_x_forwarded_for": "192.0.2.1, 10.0.0.1", "host": "shop.example"},
        {"time_iso8601": "2026-11-16T10:00:01+00:00", "remote_addr": "2001:db8::1", "request_method": "GET", "request_uri": "/p?id=1",
         "server_protocol": "HTTP/2.0", "status": 200, "body_bytes_sent": 512, "request_time": 0.120, "http_user_agent": "curl/8"},
        {"@timestamp": "2026-11-16T10:00:02.000Z", "source": {"ip": "192.0.2.9", "port": 5555},
         "http": {"request": {"method": "GET"}, "response": {"status_code": 304, "body": {"bytes": 0}}, "version": "1.1"},
         "url": {"original": "/static/a.css"}, "user_agent": {"original": "Mozilla/5.0"}, "event": {"dataset": "nginx.access", "duration": 1500000}},
        {"@timestamp": "2026-11-16T10:00:03.000Z", "event": {"dataset": "apache.access"}, "log": {"file": {"path": "/var/log/apache2/access.log"}},
         "message": 'www.shop.example:443 192.0.2.10 - bob [16/Nov/2026:10:00:03 +0000] "GET /admin HTTP/1.1" 403 10 "-" "Mozilla/5.0"'},
    ]
    (tmp_path / "access.json").write_text("\n".join(json.dumps(x) for x in lines) + "\n{broken\n")
    report = run(tmp_path / "access.json")
    assert report.files[0].source_format == "web_json"
    assert (report.totals["stored"], report.totals["quarantined"]) == (5, 1)
    r = rows(query)
    assert (r[1]["src_ip"], r[1]["url_path"], r[1]["url_query"], r[1]["http_status"], r[1]["bytes_in"]) == ("203.0.113.7", "/wp-login.php", "x=1", 404, 19)
    assert (r[1]["duration"], r[1]["user_agent"], r[1]["user_name"], r[1]["url_host"]) == (pytest.approx(0.204055), "Mozilla/5.0 zgrab", None, "shop.example")
    assert r[1]["time"] == datetime(2026, 11, 16, 4, 3, 22, 742209, tzinfo=UTC)
    assert (r[2]["http_method"], r[2]["url_path"], r[2]["http_status"], r[2]["outcome"]) == ("POST", "/login", 401, "failure")
    assert r[2]["time"] == datetime(2026, 11, 16, 9, 0, tzinfo=UTC) and r[2]["duration"] == pytest.approx(0.004)
    assert r[2]["attributes"]["forwarded_for"] == ["192.0.2.1", "10.0.0.1"] and r[2]["referrer"] == "https://shop.example/"
    assert (r[3]["src_ip"], r[3]["url_query"], r[3]["protocol"]) == ("2001:db8::1", "id=1", "HTTP/2.0")
    assert (r[4]["src_ip"], r[4]["src_port"], r[4]["http_status"], r[4]["protocol"], r[4]["duration"]) == (
        "192.0.2.9", 5555, 304, "HTTP/1.1", pytest.approx(0.0015))
    # The raw line in `message` gives what the NCSA mapping gives.
    assert (r[5]["src_ip"], r[5]["user_name"], r[5]["url_host"], r[5]["dst_port"], r[5]["http_status"]) == (
        "192.0.2.10", "bob", "www.shop.example", 443, 403)
    assert query("SELECT reason FROM quarantine")[0]["reason"] == "invalid JSON"


def test_shipped_error_log_lines_read_like_the_file(run, query, tmp_path: Path) -> None:
    """Filebeat's output of an error log: the raw line in `message`, read by the error-log mapping."""
    docs = [{"@timestamp": "2026-11-16T10:00:04.000Z", "event": {"dataset": "nginx.error"},
             "message": '2026/11/16 10:00:04 [crit] 1234#1234: *5 SSL_do_handshake() failed, client: 203.0.113.5, server: 0.0.0.0:443'},
            {"@timestamp": "2026-11-16T10:00:05.000Z", "event": {"dataset": "apache.error"},
             "message": "[Mon Nov 16 10:00:05.123456 2026] [core:error] [pid 1234:tid 5678] [client 203.0.113.6:5678] AH00124: Request exceeded the limit of 10 internal redirects"}]
    (tmp_path / "filebeat.ndjson").write_text("\n".join(json.dumps(d) for d in docs) + "\n")
    assert run(tmp_path / "filebeat.ndjson").files[0].source_format == "web_json"
    r = rows(query)
    assert (r[1]["class_name"], r[1]["activity"], r[1]["outcome"], r[1]["src_ip"]) == ("Application Error", "crit", "failure", "203.0.113.5")
    assert (r[2]["event_code"], r[2]["src_ip"], r[2]["src_port"]) == ("AH00124", "203.0.113.6", 5678)
    assert r[2]["time"] == datetime(2026, 11, 16, 10, 0, 5, 123456, tzinfo=UTC)


# --- benign look-alikes -------------------------------------------------------------------------------------------

def test_broken_links_are_not_site_errors_nor_attacks(run, query, ws) -> None:
    """Browsers and crawlers asking for missing files (favicon.ico, stale links) give 404s in the access log
    and `No such file` lines in the error log: client misses, not failures of the site, not an attack."""
    run(*(REAL / n for n in ("filebeat-nginx-access.log", "filebeat-apache-access-darwin.log", "filebeat-nginx-error.log",
                             "filebeat-apache-error-ubuntu.log")))
    misses = query("SELECT activity, outcome FROM events WHERE class_name = 'Application Error' AND file_path IS NOT NULL")
    assert misses and all(m == {"activity": "not_found", "outcome": "unknown"} for m in misses)
    assert query("SELECT count(*) AS n FROM events WHERE class_name = 'HTTP Activity' AND http_status = 404")[0]["n"] == 11
    detect(ws)
    assert query("SELECT rule_id, title FROM alerts") == []
