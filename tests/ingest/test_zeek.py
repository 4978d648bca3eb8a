"""Zeek logs as sensors write them: every path mapped by its own fields, in TSV (header-typed) and JSON
(path named by a shipper or inferred from the fields), checked against the raw rows of real logs
(tests/data/real/zeek, see SOURCES.md there)."""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from storewatch.detect import intel
from storewatch.store import db

REAL = Path(__file__).resolve().parents[1] / "data" / "real" / "zeek"
DOCS = REAL / "zeek-docs.ndjson"


def tsv_rows(path: Path) -> list[dict]:
    """The raw rows of a Zeek TSV log, by its #fields header, with their line numbers (no unescaping)."""
    fields, rows = [], []
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("#fields\t"):
            fields = line.split("\t")[1:]
        elif line and not line.startswith("#"):
            rows.append({"_line": no, **dict(zip(fields, line.split("\t")))})
    return rows


def raw_json() -> dict[int, dict]:
    out = {}
    for no, line in enumerate(DOCS.read_text(encoding="utf-8").splitlines(), start=1):
        out[no] = json.loads(line)
    return out


def zeek_time(ts) -> datetime:
    if isinstance(ts, str):
        return datetime.fromisoformat(ts.replace("Z", "+00:00"))
    return datetime.fromtimestamp(ts, timezone.utc)


def stored(query, name: str) -> dict[int, dict]:
    rows = query("SELECT * FROM events WHERE source_file LIKE ? ORDER BY source_line", [f"%/{name}"])
    return {r["source_line"]: {**r, "attributes": json.loads(r["attributes"] or "{}")} for r in rows}


def accounted(report, min_share: float = 0.95) -> None:
    for f in report.files:
        assert f.read == f.stored + f.quarantined + f.duplicates
        assert f.stored >= min_share * f.read, f


# --- TSV: the header decides ---------------------------------------------------------------------------

def test_tsv_conn_rows_match_the_raw_rows(run, query) -> None:
    report = run(REAL / "conn.log")
    accounted(report, 1.0)
    assert report.files[0].source_format == "zeek_tsv"
    got = stored(query, "conn.log")
    for raw in tsv_rows(REAL / "conn.log"):
        row = got[raw["_line"]]
        assert (row["class_name"], row["activity"], row["channel"]) == ("Network Activity", "conn", "network")
        assert row["time"] == zeek_time(float(raw["ts"]))
        assert (row["src_ip"], row["src_port"], row["dst_ip"], row["dst_port"]) == (
            raw["id.orig_h"], int(raw["id.orig_p"]), raw["id.resp_h"], int(raw["id.resp_p"]))
        assert (row["bytes_out"], row["bytes_in"]) == (int(raw["orig_bytes"]), int(raw["resp_bytes"]))
        assert (row["event_code"], row["protocol"]) == (raw["conn_state"], raw["service"])
        attrs = row["attributes"]
        assert attrs["uid"] == raw["uid"] and attrs["history"] == raw["history"]
        assert attrs["orig_pkts"] == int(raw["orig_pkts"])  # typed as Zeek declares: count -> number
        assert attrs["tunnel_parents"] == []  # set[string] written as (empty)
        assert "local_orig" not in attrs  # unset (-)
    first = got[9]
    assert first["outcome"] == "success" and first["dst_port"] == 56666 and first["bytes_in"] == 342


def test_tsv_http_rows_match_the_raw_rows(run, query) -> None:
    run(REAL / "tls-decryption.http.log")
    got = stored(query, "tls-decryption.http.log")
    raws = tsv_rows(REAL / "tls-decryption.http.log")
    assert len(got) == len(raws) == 3
    for raw in raws:
        row = got[raw["_line"]]
        assert (row["class_name"], row["activity"]) == ("HTTP Activity", "http")
        assert (row["http_method"], row["url_host"], row["http_status"]) == (raw["method"], raw["host"], int(raw["status_code"]))
        assert row["url_path"] + ("?" + row["url_query"] if row["url_query"] else "") == raw["uri"]
        assert (row["user_agent"], row["referrer"], row["reason"]) == (raw["user_agent"], raw["referrer"], raw["status_msg"])
        assert (row["bytes_out"], row["bytes_in"]) == (int(raw["request_body_len"]), int(raw["response_body_len"]))
        assert row["attributes"]["resp_fuids"] == raw["resp_fuids"].split(",")  # vector[string] -> array
        assert row["attributes"]["tags"] == []
    first = got[9]
    assert (first["url_path"], first["url_query"]) == ("/assets/akwa/v24/js/akwa.js", ".ltc.c61e84978682308f631c")
    assert first["user_agent"].startswith("Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:97.0)")


def test_tsv_notice_keeps_note_msg_sub_and_actions(run, query) -> None:
    files = sorted(REAL.glob("notice.*.log"))
    report = run(*files)
    accounted(report, 1.0)
    for path in files:
        got = stored(query, path.name)
        for raw in tsv_rows(path):
            row = got[raw["_line"]]
            assert (row["class_name"], row["activity"], row["event_code"]) == ("Detection Finding", "notice", raw["note"])
            assert row["message"] == raw["msg"] and row["outcome"] == "unknown"
            assert (row["src_ip"], row["dst_ip"], row["dst_port"]) == (raw["src"], raw["dst"], int(raw["p"]))
            assert row["attributes"]["actions"] == ["Notice::ACTION_LOG"]
            assert row["attributes"]["suppress_for"] == 3600
            if "\\" not in raw["sub"]:
                assert row["reason"] == (None if raw["sub"] == "-" else raw["sub"])
    caldera = stored(query, "notice.caldera.log")
    assert caldera[9]["event_code"] == "Caldera::SuspiciousFileDownload" and caldera[9]["src_port"] == 58326


def test_tsv_escapes_are_undone_where_the_text_is_utf8(run, query) -> None:
    run(REAL / "notice.agenttesla.log", REAL / "notice.netsupport.log")
    tesla = stored(query, "notice.agenttesla.log")[9]
    assert "Host: 1\x009\x002\x00.\x001\x006\x008" in tesla["reason"]  # \x00 escapes of a UTF-16 host name
    [encd] = [r for r in stored(query, "notice.netsupport.log").values() if r["event_code"].endswith("CMD_ENCD")]
    assert encd["reason"].startswith("HTTP/1.1 200 OK\\x0aServer: NetSupport Gateway/1.92")  # binary payload: kept as written


def test_tsv_rotated_and_gzipped_file_is_just_a_file(run, query, tmp_path: Path) -> None:
    rotated = tmp_path / "conn.00:00:00-01:00:00.log.gz"
    with gzip.open(rotated, "wb") as fh:
        fh.write((REAL / "conn.log").read_bytes())
    report = run(rotated)
    assert (report.files[0].source_format, report.totals["stored"], report.totals["quarantined"]) == ("zeek_tsv", 5, 0)
    assert {r["event_code"] for r in stored(query, rotated.name).values()} == {"SF"}


def test_tsv_without_path_header_infers_it_from_the_fields(run, query, tmp_path: Path) -> None:
    text = (REAL / "tls-decryption.http.log").read_text(encoding="utf-8")
    headless = tmp_path / "current.log"
    headless.write_text("".join(line for line in text.splitlines(keepends=True) if not line.startswith("#path")))
    run(headless)
    assert {(r["activity"], r["url_host"]) for r in stored(query, "current.log").values()} == {("http", "www.heise.de")}


def test_tsv_dce_rpc_and_a_package_path(run, query) -> None:
    report = run(REAL / "dce_rpc.petitpotam.log", REAL / "gozi.log")
    accounted(report, 1.0)
    rpc = stored(query, "dce_rpc.petitpotam.log")
    for raw in tsv_rows(REAL / "dce_rpc.petitpotam.log"):
        row = rpc[raw["_line"]]
        assert (row["activity"], row["event_code"], row["attributes"]["endpoint"]) == ("dce_rpc", raw["operation"], raw["endpoint"])
        assert row["duration"] == float(raw["rtt"])
    assert [r["attributes"]["named_pipe"] for r in rpc.values()].count("\\pipe\\lsass") == 1  # Zeek wrote \\pipe\\lsass
    gozi = stored(query, "gozi.log")
    raws = tsv_rows(REAL / "gozi.log")
    assert len(gozi) == len(raws) > 90
    for raw in raws:
        row = gozi[raw["_line"]]
        assert (row["activity"], row["class_name"], row["src_ip"], row["dst_port"]) == (
            "gozi", "Network Protocol Activity", raw["id.orig_h"], int(raw["id.resp_p"]))
        assert (row["attributes"]["http_method"], row["attributes"]["payload"]) == (raw["http_method"], raw["payload"])


TYPED = """#separator \\x09
#set_separator\t;
#empty_field\t(none)
#unset_field\t-
#path\tdns
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tqtype_name\trcode_name\tAA\tanswers\tTTLs\tnote
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tstring\tstring\tbool\tvector[string]\tvector[interval]\tstring
1794787200.500000\tC1\t10.0.0.5\t51000\t10.0.0.53\t53\tudp\tShop.Example.\tA\tNOERROR\tT\t192.0.2.1;a\\x3bb\t60.000000;-\t\\x2d
1794787201.000000\tC2\t10.0.0.5\t51001\t10.0.0.53\t53\tudp\ttab\\x09name.example\tTXT\tNXDOMAIN\tF\t(none)\t(none)\t(none)
1794787202.000000\tC3\t10.0.0.5\t51002\t10.0.0.53\t53\tudp\tshort.example
#close\t2026-11-16-01-00-00
"""


def test_tsv_types_separators_and_markers_from_the_header(run, query, tmp_path: Path) -> None:
    (tmp_path / "dns.log").write_text(TYPED)
    report = run(tmp_path / "dns.log")
    assert (report.totals["stored"], report.totals["quarantined"]) == (2, 1)
    [reason] = [r["reason"] for r in query("SELECT reason FROM quarantine")]
    assert "expected 14 fields" in reason and "found 8" in reason
    rows = stored(query, "dns.log")
    first, second = rows[8]["attributes"], rows[9]["attributes"]
    assert rows[8]["url_host"] == "shop.example" and rows[8]["outcome"] == "success" and rows[8]["event_code"] == "A"
    assert first["answers"] == ["192.0.2.1", "a;b"] and first["TTLs"] == [60.0, None] and first["AA"] is True
    assert first["note"] == "-"  # an escaped dash is a value, not the unset marker
    assert rows[9]["url_host"] == "tab\tname.example" and rows[9]["reason"] == "NXDOMAIN" and rows[9]["outcome"] == "failure"
    assert second["answers"] == [] and second["AA"] is False and second["note"] == ""


def test_tsv_with_another_separator(run, query, tmp_path: Path) -> None:
    text = (REAL / "tls-decryption.http.log").read_text(encoding="utf-8").replace("\t", "|")
    (tmp_path / "http.log").write_text(text.replace("#separator \\x09", "#separator \\x7c"))
    report = run(tmp_path / "http.log")
    assert (report.files[0].source_format, report.totals["stored"]) == ("zeek_tsv", 3)
    assert {r["url_host"] for r in stored(query, "http.log").values()} == {"www.heise.de"}


def test_tsv_log_without_times_takes_its_open_time_in_the_run_zone(run, query, tmp_path: Path) -> None:
    (tmp_path / "loaded_scripts.log").write_text(
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tloaded_scripts\n"
        "#open\t2026-11-16-08-30-00\n#fields\tname\n#types\tstring\n"
        "/opt/zeek/share/zeek/base/init-bare.zeek\n  /opt/zeek/share/zeek/base/bif/const.bif.zeek\n#close\t2026-11-16-08-30-01\n")
    report = run(tmp_path / "loaded_scripts.log", tz="Europe/Paris")
    assert report.totals["stored"] == 2
    rows = query("SELECT time, activity, attributes->>'name' AS name FROM events ORDER BY source_line")
    assert {r["time"] for r in rows} == {datetime(2026, 11, 16, 7, 30, tzinfo=timezone.utc)}
    assert [r["name"] for r in rows] == ["/opt/zeek/share/zeek/base/init-bare.zeek", "  /opt/zeek/share/zeek/base/bif/const.bif.zeek"]


# --- JSON: one stream, many paths ------------------------------------------------------------------------

def test_json_mixed_paths_are_accounted_and_timed(run, query) -> None:
    report = run(DOCS)
    accounted(report)
    assert report.files[0].source_format == "zeek_json"
    got, raws = stored(query, DOCS.name), raw_json()
    assert set(got) == set(raws)  # long float digit runs (durations) are not card numbers
    for no, row in got.items():
        raw = raws[no]
        assert row["time"] == zeek_time(raw["ts"]), no  # epoch floats and ISO 8601 alike
        assert row["src_ip"] == raw.get("id.orig_h", row["src_ip"]), no
        assert row["attributes"].get("uid") == raw.get("uid"), no
    assert len({r["activity"] for r in got.values()}) >= 25


@pytest.fixture
def docs(run, query) -> dict[int, dict]:
    run(DOCS)
    return stored(query, DOCS.name)


def test_json_paths_map_their_own_fields(docs) -> None:
    raws = raw_json()
    dns = docs[20]
    assert (dns["class_name"], dns["activity"], dns["url_host"], dns["event_code"], dns["reason"]) == (
        "DNS Activity", "dns", raws[20]["query"], raws[20]["qtype_name"], raws[20]["rcode_name"])
    assert dns["attributes"]["answers"] == raws[20]["answers"]
    http = docs[29]
    assert (http["activity"], http["http_method"], http["url_host"], http["url_path"], http["http_status"], http["user_agent"]) == (
        "http", "GET", "testmyids.com", "/", 200, "curl/7.47.0")
    ssl = docs[139]
    assert (ssl["class_name"], ssl["url_host"], ssl["event_code"]) == ("TLS Activity", raws[139]["server_name"], raws[139]["version"])
    assert ssl["attributes"]["cipher"] == raws[139]["cipher"]
    files = docs[100]
    assert (files["class_name"], files["file_path"], files["file_hash"]) == ("Network File Activity", "PSEXESVC.exe", raws[100]["sha256"])
    assert {k: files["attributes"][k] for k in ("md5", "sha1", "sha256")} == {k: raws[100][k] for k in ("md5", "sha1", "sha256")}
    assert docs[57]["file_hash"] == raws[57]["sha1"]  # no SHA-256 computed: the next best hash
    notice = docs[163]
    assert (notice["activity"], notice["event_code"], notice["message"], notice["reason"]) == (
        "notice", "SSL::Invalid_Server_Cert", raws[163]["msg"], raws[163]["sub"])
    ssh = docs[126]
    assert (ssh["class_name"], ssh["outcome"], ssh["user_agent"]) == ("SSH Activity", "success", raws[126]["client"])
    assert (ssh["attributes"]["auth_attempts"], ssh["attributes"]["direction"]) == (2, "OUTBOUND")
    x509 = docs[164]
    assert (x509["activity"], x509["message"], x509["url_host"]) == ("x509", "CN=www.taosecurity.com", "www.taosecurity.com")
    smtp = docs[109]
    assert (smtp["class_name"], smtp["email"], smtp["message"]) == ("Email Activity", "gurpartap@patriots.in", "SMTP")
    assert smtp["attributes"]["rcptto"] == ["raj_deol2002in@yahoo.co.in"]
    ntlm = docs[108]
    assert (ntlm["class_name"], ntlm["user_name"], ntlm["host"], ntlm["outcome"]) == (
        "Authentication", "Willi Wireshark", "DESKTOP-2AEFM7G", "success")
    smb = docs[86]
    assert (smb["class_name"], smb["event_code"], smb["file_path"]) == ("SMB Activity", "SMB::FILE_OPEN", "\\\\admin-pc\\c$\\temp\\mimikatz.exe")
    found = docs[1]
    assert (found["activity"], found["url_host"], found["event_code"]) == ("intel", "www.slideshare.net", "Intel::DOMAIN")


def test_json_path_named_by_the_shipper_wins(docs) -> None:
    ftp = docs[27]  # Corelight's shape: _path, _system_name, _write_ts, ISO times
    assert (ftp["class_name"], ftp["activity"], ftp["user_name"], ftp["event_code"]) == ("FTP Activity", "ftp", "anonymous", "RETR")
    assert ftp["attributes"]["_system_name"] == "ds61"


def test_benign_logs_make_no_attack_fields(docs) -> None:
    conns = [r for r in docs.values() if r["class_name"] == "Network Activity"]
    assert conns and all(r["activity"] == "conn" for r in conns)  # ssl, files, dns rows are not extra connections


def test_json_document_with_millisecond_times(run, query, tmp_path: Path) -> None:
    raws = raw_json()
    records = [{**raws[n], "ts": round(raws[n]["ts"] * 1000)} for n in (20, 29, 100)]  # JSON::TS_MILLIS
    (tmp_path / "export.json").write_text(json.dumps(records, indent=2))
    report = run(tmp_path / "export.json")
    assert report.totals["stored"] == 3
    rows = query("SELECT activity, time FROM events ORDER BY time")
    assert [r["activity"] for r in rows] == ["files", "http", "dns"]
    assert rows[1]["time"] == datetime(2020, 6, 5, 14, 39, 59, 513000, tzinfo=timezone.utc)


SHIPPED = [
    # Filebeat / Elastic Agent: the Zeek line as text, the file it came from
    lambda z: {"@timestamp": "2026-01-01T00:00:00Z", "message": json.dumps(z), "log": {"file": {"path": "/opt/zeek/logs/current/dns.log"}}},
    # Vector's file source
    lambda z: {"message": json.dumps(z), "file": "/var/log/zeek/dns.00:00:00-01:00:00.log", "source_type": "file"},
    # Fluent Bit tail without a parser
    lambda z: {"log": json.dumps(z), "filename": "/nsm/zeek/logs/current/dns.log"},
    # Security Onion / Elastic: the dataset named
    lambda z: {**z, "event.dataset": "zeek.dns"},
    # json-streaming-logs: _path
    lambda z: {"_path": "dns", "_write_ts": "2026-01-01T00:00:00Z", **z},
]


def test_shipper_envelopes_are_unwrapped_and_name_the_path(run, query, tmp_path: Path) -> None:
    dns = raw_json()[20]
    anonymous = {k: v for k, v in dns.items() if k not in ("qtype", "qtype_name", "rcode", "rcode_name", "trans_id", "qclass", "qclass_name")}
    (tmp_path / "stream.ndjson").write_text("".join(json.dumps(wrap(anonymous)) + "\n" for wrap in SHIPPED))
    report = run(tmp_path / "stream.ndjson")
    assert (report.files[0].source_format, report.totals["stored"]) == ("zeek_json", len(SHIPPED))
    rows = stored(query, "stream.ndjson").values()
    assert [(r["activity"], r["url_host"], r["src_ip"]) for r in rows] == [("dns", "zeek.org", "172.17.0.2")] * len(SHIPPED)


def test_syslog_forwarded_json_lines(run, query, tmp_path: Path) -> None:
    lines = DOCS.read_text(encoding="utf-8").splitlines()[18:23]
    (tmp_path / "syslog").write_text("".join(f"Mar 30 23:00:41 sensor-1 zeek[812]: {line}\n" for line in lines))
    report = run(tmp_path / "syslog")
    assert (report.files[0].source_format, report.totals["stored"]) == ("zeek_json", 5)
    rows = stored(query, "syslog")
    assert [r["activity"] for r in rows.values()] == ["dns", "dns", "dns", "conn", "http"]
    assert rows[2]["url_host"] == "zeek.org" and rows[5]["url_host"] == "download.microsoft.com"


def test_journald_json_export(run, query, tmp_path: Path) -> None:
    lines = DOCS.read_text(encoding="utf-8").splitlines()[18:23]
    records = [json.dumps({"__REALTIME_TIMESTAMP": "1774911641803041", "_SYSTEMD_UNIT": "zeek.service", "MESSAGE": line})
               for line in lines]
    # the key spelled with an escape is the same key
    records.append(records[3].replace('"MESSAGE"', '"\\u004dESSAGE"'))
    (tmp_path / "journal.json").write_text("".join(r + "\n" for r in records))
    report = run(tmp_path / "journal.json")
    assert (report.files[0].source_format, report.totals["stored"]) == ("zeek_json", 6)
    rows = list(stored(query, "journal.json").values())
    assert [r["activity"] for r in rows] == ["dns", "dns", "dns", "conn", "http", "conn"]
    assert rows[5]["src_ip"] == rows[3]["src_ip"] and rows[5]["time"] == rows[3]["time"]


def test_copied_directory_of_real_logs_reads_whole(run, tmp_path: Path) -> None:
    target = tmp_path / "zeek"
    shutil.copytree(REAL, target, ignore=shutil.ignore_patterns("*.md"))
    report = run(target)
    accounted(report)
    assert {f.source_format for f in report.files} == {"zeek_tsv", "zeek_json"}


# --- detections look where the names are -----------------------------------------------------------------

def test_intel_matches_zeek_dns_answers_hosts_and_hashes(run, ws) -> None:
    run(DOCS)
    raws = raw_json()
    indicators = [("ip", raws[20]["answers"][0]), ("domain", "slideshare.net"), ("domain", "testmyids.com"),
                  ("hash", raws[100]["sha256"])]
    with db.opened(ws) as con:
        for i, (kind, value) in enumerate(indicators):
            con.execute("INSERT INTO intel (indicator_id, ioc_type, value, name) VALUES (?, ?, ?, ?)",
                        [f"indicator--{i}", kind, value, f"test {kind}"])
        alerts = intel.query(con).to_pylist()
    matched = {json.loads(a["evidence"])["indicator"]: json.loads(a["evidence"])["matched_on"] for a in alerts}
    assert set(matched) == {v for _, v in indicators}
    assert "dns_answer" in matched[raws[20]["answers"][0]]
    assert matched["testmyids.com"] == "url_host" and matched[raws[100]["sha256"]] == "file_hash"


def test_real_logs_of_other_sensors_match_their_raw_rows(run, query, tmp_path: Path) -> None:
    # jakubd/zeekparse's and lnav's test logs: a home network's dns (gzipped), ssl, http, x509, and a 2011 conn log
    dns_gz = REAL / "zeekparse-dns.log.gz"
    plain = tmp_path / "dns.log"
    plain.write_bytes(gzip.decompress(dns_gz.read_bytes()))
    accounted(run(dns_gz, REAL / "zeekparse-ssl.log", REAL / "zeekparse-http.log", REAL / "zeekparse-x509.log",
                  REAL / "lnav-bro-conn.log"), 1.0)
    dns = stored(query, "zeekparse-dns.log.gz")
    for raw in tsv_rows(plain):
        row = dns[raw["_line"]]
        assert (row["class_name"], row["time"], row["src_ip"], row["src_port"], row["dst_ip"], row["dst_port"]) == (
            "DNS Activity", zeek_time(float(raw["ts"])), raw["id.orig_h"], int(raw["id.orig_p"]), raw["id.resp_h"], 53)
        assert (row["url_host"], row["attributes"]["answers"], row["outcome"]) == (raw["query"], raw["answers"].split(","), "success")
    ssl = stored(query, "zeekparse-ssl.log")
    raws = tsv_rows(REAL / "zeekparse-ssl.log")
    assert len(ssl) == len(raws) == 26
    for raw in raws:
        row = ssl[raw["_line"]]
        assert (row["class_name"], row["src_ip"], row["dst_ip"], row["dst_port"]) == (
            "TLS Activity", raw["id.orig_h"], raw["id.resp_h"], int(raw["id.resp_p"]))
        assert row["url_host"] == (None if raw["server_name"] == "-" else raw["server_name"])
        assert row["attributes"].get("version") == (None if raw["version"] == "-" else raw["version"])
    http = stored(query, "zeekparse-http.log")
    for raw in tsv_rows(REAL / "zeekparse-http.log"):
        row = http[raw["_line"]]
        assert (row["http_method"], row["url_host"], row["url_path"], row["http_status"], row["user_agent"]) == (
            raw["method"], raw["host"], raw["uri"], int(raw["status_code"]), raw["user_agent"])
    [cert] = stored(query, "zeekparse-x509.log").values()
    assert (cert["url_host"], cert["attributes"]["certificate.issuer"]) == (
        "download.jetbrains.com", "CN=Amazon,OU=Server CA 1B,O=Amazon,C=US")
    conn = stored(query, "lnav-bro-conn.log")
    raws = tsv_rows(REAL / "lnav-bro-conn.log")
    assert len(conn) == len(raws) == 92
    for raw in raws:
        row = conn[raw["_line"]]
        assert (row["time"], row["src_ip"], row["dst_ip"], row["dst_port"], row["event_code"]) == (
            zeek_time(float(raw["ts"])), raw["id.orig_h"], raw["id.resp_h"], int(raw["id.resp_p"]), raw["conn_state"])
        assert row["protocol"] == (raw["proto"] if raw["service"] == "-" else raw["service"])  # the service, else the transport
        assert row["bytes_in"] == (None if raw["resp_bytes"] == "-" else int(raw["resp_bytes"]))


def test_real_http_log_with_ad_cache_busters_is_stored_as_written(run, query) -> None:
    # lnav's 2011 http.log: DoubleClick `ord=` and `random=` nonces, some Luhn-valid with a card network's
    # prefix (`ord=6795061899455057`, 7 rows), are kept verbatim: no card number is replaced in it.
    report = run(REAL / "lnav-bro-http.log")
    accounted(report, 1.0)
    assert [f.pans_scrubbed for f in report.files] == [0]
    http = stored(query, "lnav-bro-http.log")
    raws = tsv_rows(REAL / "lnav-bro-http.log")
    assert len(http) == len(raws) == 197
    for raw in raws:
        row = http[raw["_line"]]
        uri = row["url_path"] + (f"?{row['url_query']}" if row["url_query"] is not None else "")
        assert (row["class_name"], row["src_ip"], row["dst_ip"], row["http_method"], row["url_host"], uri) == (
            "HTTP Activity", raw["id.orig_h"], raw["id.resp_h"], raw["method"], raw["host"], raw["uri"])
    assert sum(";ord=6795061899455057" in r["url_path"] + (r["url_query"] or "") for r in http.values()) == 7
