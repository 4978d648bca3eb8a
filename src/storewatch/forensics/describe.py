"""One line saying what an event was, from its normalized columns, for timelines read by people.

Each class names what matters to it (a URL and status for HTTP, the account and origin for a login, the
amount for money); anything unknown falls back to activity, outcome and reason. Values come from logs:
callers escape them for their medium (Rich markup, HTML).
"""

from __future__ import annotations

from typing import Callable, Mapping, Optional

# The columns a description may use; the timeline selects exactly these.
COLUMNS = ("class_name", "activity", "outcome", "reason", "user_name", "user_id", "email", "employee_id", "src_ip",
           "src_port", "dst_ip", "dst_port", "protocol", "host", "device", "store_id", "http_method", "url_host",
           "url_path", "url_query", "http_status", "bytes_in", "bytes_out", "amount", "currency", "card_last4",
           "order_id", "transaction_id", "process_name", "command_line", "parent_process", "file_path", "db_name",
           "query", "message")

TEXT_MAX = 100


def _clip(text: Optional[object], n: int = TEXT_MAX) -> Optional[str]:
    if text is None:
        return None
    s = " ".join(str(text).split())
    return s if len(s) <= n else s[: n - 1] + "…"


def _join(*parts: Optional[object]) -> str:
    return " ".join(str(p) for p in parts if p not in (None, ""))


def _opt(fmt: str, value: Optional[object]) -> Optional[str]:
    """`fmt` filled with value, or nothing when the value is missing."""
    return fmt.format(value) if value not in (None, "") else None


def _image(path: Optional[str]) -> Optional[str]:
    """A process image's file name: the path adds little on a line already naming the host."""
    return path.replace("\\", "/").rsplit("/", 1)[-1] if path else None


def _money(e: Mapping) -> Optional[str]:
    return f"{e['amount']} {e['currency'] or ''}".strip() if e["amount"] is not None else None


def _http(e: Mapping) -> str:
    target = (e["url_path"] or "") + (f"?{e['url_query']}" if e["url_query"] else "")
    return _join(e["http_method"], _clip(target), _opt("→ {}", e["http_status"]), _opt("as {}", e["user_name"]))


def _auth(e: Mapping) -> str:
    who = e["user_name"] or e["email"] or e["user_id"]
    return _join(e["activity"], e["outcome"], _opt("for {}", who), _opt("from {}", e["src_ip"]),
                 _opt("on {}", e["host"] or e["db_name"]), _opt("({})", _clip(e["reason"], 60)))


def _account(e: Mapping) -> str:
    return _join(e["activity"], e["user_name"] or e["email"], _opt("from {}", e["src_ip"]), _opt("({})", e["reason"]))


def _connection(e: Mapping) -> str:
    src = _join(e["src_ip"]) + (f":{e['src_port']}" if e["src_port"] else "")
    dst = _join(e["dst_ip"]) + (f":{e['dst_port']}" if e["dst_port"] else "")
    return _join(e["protocol"], src, "→", dst, _opt("({})", e["url_host"]), _opt("{} B out", e["bytes_out"]),
                 _opt("{} B in", e["bytes_in"]), _opt("by {}", _image(e["process_name"])), _opt("on {}", e["host"]))


def _dns(e: Mapping) -> str:
    return _join("DNS query", e["url_host"], _opt("by {}", _image(e["process_name"])), _opt("on {}", e["host"]))


def _process(e: Mapping) -> str:
    return _join(e["activity"], e["process_name"], _opt("cmd: {}", _clip(e["command_line"], 80)),
                 _opt("parent {}", _image(e["parent_process"])), _opt("on {}", e["host"]))


def _file(e: Mapping) -> str:
    return _join(e["activity"], e["file_path"], _opt("by {}", _image(e["process_name"])), _opt("on {}", e["host"]))


def _datastore(e: Mapping) -> str:
    return _join(e["activity"], _opt("by {}", e["user_name"]), _opt("on {}", e["db_name"]),
                 _opt(": {}", _clip(e["query"] or e["message"], 80)))


def _pos(e: Mapping) -> str:
    return _join(e["activity"], _money(e), _opt("by {}", e["employee_id"]), _opt("at {}", e["device"]),
                 _opt("store {}", e["store_id"]), _opt("card …{}", e["card_last4"]), _opt("({})", e["reason"]))


def _payment(e: Mapping) -> str:
    return _join(e["activity"], _money(e), e["outcome"], _opt("card …{}", e["card_last4"]), _opt("for {}", e["email"]),
                 _opt("({})", _clip(e["reason"], 60)))


def _order(e: Mapping) -> str:
    return _join(e["activity"], e["order_id"], _money(e), _opt("by {}", e["email"]), _opt("from {}", e["src_ip"]),
                 _opt("({})", e["reason"]))


def _physical(e: Mapping) -> str:
    return _join(e["activity"], _opt("at {}", e["device"]), _opt("store {}", e["store_id"]),
                 _opt("by {}", e["employee_id"]))


def _post(e: Mapping) -> str:
    return _join("post", _opt("by {}", e["user_id"] or e["user_name"]), _opt(": {}", _clip(e["message"])))


def _generic(e: Mapping) -> str:
    return _join(e["activity"], e["outcome"], _opt("({})", _clip(e["reason"], 60)), _clip(e["message"]))


BY_CLASS: dict[str, Callable[[Mapping], str]] = {
    "HTTP Activity": _http,
    "Authentication": _auth,
    "Account Change": _account,
    "Network Activity": _connection,
    "DNS Activity": _dns,
    "Process Activity": _process,
    "File System Activity": _file,
    "Datastore Activity": _datastore,
    "POS Transaction": _pos,
    "Payment": _payment,
    "Order": _order,
    "Physical Access": _physical,
    "Social Post": _post,
}


def describe(event: Mapping) -> str:
    """What happened, in one line; `event` maps every name in COLUMNS (missing values as None)."""
    return BY_CLASS.get(event["class_name"], _generic)(event) or event["class_name"] or "event"
