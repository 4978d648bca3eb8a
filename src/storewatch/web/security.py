"""Who may use the dashboard and how: named accounts and roles, the API token, sessions, CSRF, allowed
hosts and security headers.

Named accounts (`storewatch users add`, `storewatch.accounts`) sign in with a name and password and act
under their name with their role; the API token is a service credential with the role
`api: {token_role: ...}` gives it (admin unless set). Every request carries a `Principal` (name, role) in
`request.state.principal`: GET needs a viewer, any other method an analyst, and routes that need more say
so with `require_role("admin")`. Sessions end after `IDLE_SECONDS` without a request and
`SESSION_SECONDS` after sign-in, whichever comes first.

Without a token the dashboard only answers on loopback names (a web page elsewhere that rebinds its DNS to
127.0.0.1 is refused by the Host check). With a token, every request but the login page and static files
carries it: `Authorization: Bearer <token>` for programs, HTTP Basic with the token as password for
firewalls pulling block lists, or a session cookie a browser gets from the login form (or by opening
`/?token=...` once; the token is then dropped from the address bar). State-changing requests from a
browser must come from the same origin and carry the `X-Storewatch-CSRF` header, which a cross-site form
cannot send.

Guessing is answered by the throttle: wrong tokens lock the address out (429 with Retry-After, recorded in
the audit log), tokens are compared in constant time, and a token weaker than `MIN_TOKEN_LENGTH`
characters is refused at start.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import secrets
import time
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlencode

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from storewatch import accounts, audit
from storewatch.web.throttle import EVERYONE, LOCKOUT, Throttle
from storewatch.workspace import Workspace

TOKEN_SETTING = ("api", "token")  # env STOREWATCH_API_TOKEN, or `api: {token: ...}` in <workspace>/respond.yml
COOKIE = "storewatch_session"
CSRF_HEADER = "X-Storewatch-CSRF"
SESSION_SECONDS = 12 * 3600  # absolute: a session ends this long after sign-in
IDLE_SECONDS = 30 * 60  # idle: ... or this long after its last request
TOKEN_ROLE_SETTING = ("api", "token_role")
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
PUBLIC_PREFIXES = ("/static/", "/login")
CSRF_EXEMPT = ("/login", "/logout")  # plain forms: the Origin check covers them
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
MIN_TOKEN_LENGTH = 32  # `secrets.token_urlsafe(32)` gives 43
MIN_DISTINCT = 10  # characters: refuses 'aaaa...' and '1212...' however long
NEW_TOKEN_HINT = 'python3 -c "import secrets; print(secrets.token_urlsafe(32))"'

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def weakness(token: str) -> str | None:
    """Why `token` is too easy to guess, or None when it is strong enough."""
    if len(token) < MIN_TOKEN_LENGTH:
        return f"the API token has {len(token)} characters; at least {MIN_TOKEN_LENGTH} are needed"
    if len(set(token)) < MIN_DISTINCT:
        return f"the API token uses {len(set(token))} distinct characters; at least {MIN_DISTINCT} are needed"
    return None


def api_token(ws: Workspace) -> str | None:
    """The dashboard token from STOREWATCH_API_TOKEN or the workspace config; never from the command line.

    A weak token is a ConfigError: a dashboard that looks protected but is not is worse than none."""
    from storewatch.respond.config import ConfigError, Setting, Settings

    section, key = TOKEN_SETTING
    value = Settings.load(ws).section(section, (Setting(key, "dashboard and API token", secret=True),))[key]
    token = str(value) if value else None
    if token and (why := weakness(token)):
        raise ConfigError(f"{why}; make one with: {NEW_TOKEN_HINT}")
    return token


def token_role(ws: Workspace) -> str:
    """The role of the API token (a service credential): `api: {token_role: ...}`, admin by default, as the
    one shared token has always approved actions."""
    from storewatch.respond.config import ConfigError, Setting, Settings

    section, key = TOKEN_ROLE_SETTING
    role = Settings.load(ws).section(section, (Setting(key, "role of the API token", default="admin"),))[key]
    if role not in accounts.ROLES:
        raise ConfigError(f"api.token_role must be one of {', '.join(accounts.ROLES)}, not {role!r}")
    return role


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: an account's name, or `dashboard:<address>` for the token and open mode."""

    name: str
    role: str


@dataclass
class Session:
    principal: Principal
    started: float
    seen: float


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_name(host_header: str) -> str:
    """The name part of a Host header: 'a:8765' → 'a', '[::1]:8765' → '::1'."""
    if host_header.startswith("["):
        return host_header[1:].split("]", 1)[0]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


class LockedOut(Exception):
    """The client presented too many wrong tokens; it may try again after `retry_after` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many wrong tokens: try again in {retry_after:.0f} s")
        self.retry_after = retry_after


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


@dataclass
class Guard:
    """The request checks of one app; sessions and the throttle's counts live in memory and end with the process."""

    token: str | None
    allowed_hosts: tuple[str, ...] | None = None  # None: any host (a token protects the app)
    workspace: Workspace | None = None  # where lockouts are audited
    throttle: Throttle = field(default_factory=Throttle)
    sessions: dict[str, Session] = field(default_factory=dict)
    token_role: str = "admin"
    clock: Callable[[], float] = time.time
    _accounts: tuple[float, dict] = (-1.0, {})

    def __post_init__(self) -> None:
        if self.token and (why := weakness(self.token)):
            raise ValueError(why)

    def accounts(self) -> dict[str, dict]:
        """The workspace's accounts, read again when the file changes (`users add/remove/passwd`)."""
        if self.workspace is None:
            return {}
        try:
            mtime = accounts.path(self.workspace).stat().st_mtime_ns
        except FileNotFoundError:
            mtime = 0
        if mtime != self._accounts[0]:
            self._accounts = (mtime, accounts.load(self.workspace) if mtime else {})
        return self._accounts[1]

    @property
    def protected(self) -> bool:
        """Whether requests must prove who they are: a token or an account exists."""
        return bool(self.token) or bool(self.accounts())

    def _matches(self, presented: str | None, client: str) -> bool:
        """Whether a presented token is right, in constant time; a wrong one counts towards a lockout."""
        if not (self.token and presented):
            return False
        if wait := self.throttle.retry_after(client):
            raise LockedOut(wait)
        if hmac.compare_digest(_digest(presented), _digest(self.token)):  # equal lengths: no length leak
            return True
        for who in self.throttle.fail(client):
            self._audit_lockout(client, who)
        return False

    def _audit_lockout(self, client: str, who: str) -> None:
        if self.workspace is None:
            return
        scope = "every address (wrong tokens from many)" if who == EVERYONE else f"address {client}"
        audit.append(self.workspace, "auth.lockout", {"client": client, "scope": who, "seconds": LOCKOUT},
                     f"too many wrong API tokens: token sign-in refused for {scope}", "locked",
                     actor=f"dashboard:{client}")

    def new_session(self, principal: Principal) -> str:
        now = self.clock()
        self.sessions = {sid: x for sid, x in self.sessions.items() if self._live(x, now)}
        sid = secrets.token_urlsafe(32)
        self.sessions[sid] = Session(principal, now, now)
        return sid

    def _live(self, session: Session, now: float) -> bool:
        return now - session.started < SESSION_SECONDS and now - session.seen < IDLE_SECONDS

    def session(self, sid: str | None) -> Principal | None:
        """The principal of a live session, which the request keeps alive; an account removed since, or
        whose role changed, is looked up again (removed: the session ends)."""
        session = self.sessions.get(sid or "")
        now = self.clock()
        if session is None or not self._live(session, now):
            self.sessions.pop(sid or "", None)
            return None
        session.seen = now
        if session.principal.name.startswith("dashboard:"):
            return session.principal
        account = self.accounts().get(session.principal.name)
        if account is None:
            self.sessions.pop(sid or "", None)
            return None
        return Principal(session.principal.name, account["role"])

    def credential(self, request: Request) -> tuple[str, Principal] | None:
        """How the request proved itself ('open': nothing to prove, 'header', 'cookie') and as whom, or None.

        Raises LockedOut when the request presents a token from a locked-out address."""
        client = client_address(request)
        if not self.protected:
            return "open", Principal(f"dashboard:{client}", "admin")  # loopback only, as the OS user would be
        service = Principal(f"dashboard:{client}", self.token_role)
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and self._matches(value.strip(), client):
            return "header", service
        if scheme.lower() == "basic":
            try:
                password = base64.b64decode(value.strip(), validate=True).decode().partition(":")[2]
            except (binascii.Error, UnicodeDecodeError):
                password = ""
            if self._matches(password, client):
                return "header", service
        principal = self.session(request.cookies.get(COOKIE))
        return ("cookie", principal) if principal else None

    def check_login(self, presented: str, request: Request) -> Principal | None:
        """The service principal when `presented` is the token."""
        if self._matches(presented, client_address(request)):
            return Principal(f"dashboard:{client_address(request)}", self.token_role)
        return None

    def check_password(self, name: str, password: str, request: Request) -> Principal | None:
        """The account's principal when the password is right; a wrong one counts towards a lockout as a
        wrong token does (the same limits, the same audit entry)."""
        client = client_address(request)
        if wait := self.throttle.retry_after(client):
            raise LockedOut(wait)
        account = accounts.authenticate(self.workspace, name, password) if self.workspace and name else None
        if account is None:
            for who in self.throttle.fail(client):
                self._audit_lockout(client, who)
            return None
        audit.append(self.workspace, "auth.signin", {"client": client}, "signed in to the dashboard", "ok",
                     actor=account["name"])
        return Principal(account["name"], account["role"])

    def set_cookie(self, response: Response, request: Request, principal: Principal) -> Response:
        response.set_cookie(COOKIE, self.new_session(principal), max_age=SESSION_SECONDS, httponly=True,
                            samesite="strict", secure=request.url.scheme == "https", path="/")
        return response

    def end_session(self, request: Request) -> None:
        self.sessions.pop(request.cookies.get(COOKIE, ""), None)


def principal(request: Request) -> Principal:
    """Who the request acts as (the guard put it there before any route ran)."""
    return request.state.principal


def require_role(role: str) -> Callable[[Request], Principal]:
    """A route dependency: 403 unless the signed-in principal has `role` or a higher one."""
    accounts.check_role(role)

    def dependency(request: Request) -> Principal:
        who = principal(request)
        if not accounts.allows(who.role, role):
            raise HTTPException(403, f"{who.name} has the {who.role} role: this needs {role}")
        return who
    return dependency


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def _same_origin(request: Request) -> bool:
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin == "null" and request.headers.get("sec-fetch-site") == "same-origin":
        return True  # a form posted under `Referrer-Policy: no-referrer` says `Origin: null`; the browser vouches
    return origin is None or origin == f"{request.url.scheme}://{request.headers.get('host', '')}"


def _denied(request: Request, status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    if _wants_html(request):
        return PlainTextResponse(detail, status_code=status, headers=headers)
    headers = {"WWW-Authenticate": "Bearer", **(headers or {})} if status == 401 else headers
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def locked_out(request: Request, exc: LockedOut) -> Response:
    return _denied(request, 429, str(exc), {"Retry-After": str(int(exc.retry_after) + 1)})


async def check(guard: Guard, request: Request) -> Response | None:
    """A response that refuses the request, or None to let it through."""
    try:
        return _check(guard, request)
    except LockedOut as exc:
        return locked_out(request, exc)


def _check(guard: Guard, request: Request) -> Response | None:
    if guard.allowed_hosts is not None and _host_name(request.headers.get("host", "")) not in guard.allowed_hosts:
        return _denied(request, 400, "unknown host: without a token the dashboard answers only on localhost")
    path = request.url.path
    proved = guard.credential(request)
    how, who = proved if proved else (None, None)
    if request.method in UNSAFE and how != "header":
        if not _same_origin(request):
            return _denied(request, 403, "cross-origin request refused")
        if path not in CSRF_EXEMPT and request.headers.get(CSRF_HEADER) != "1":
            return _denied(request, 403, f"missing {CSRF_HEADER} header")
    if path.startswith(PUBLIC_PREFIXES):
        return None
    if who is not None:
        request.state.principal = who
        needed = "analyst" if request.method in UNSAFE else "viewer"
        if not accounts.allows(who.role, needed):
            return _denied(request, 403, f"{who.name} has the {who.role} role: changes need {needed}")
        return None
    if request.method == "GET" and "token" in request.query_params and guard.token:
        signed = guard.check_login(request.query_params["token"], request)
        if signed is None:
            return _denied(request, 401, "wrong token")
        rest = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
        return guard.set_cookie(RedirectResponse(path + (f"?{rest}" if rest else ""), status_code=303), request, signed)
    if _wants_html(request):
        return RedirectResponse("/login?" + urlencode({"next": path}), status_code=303)
    return _denied(request, 401, "authentication required: sign in, or Authorization: Bearer <STOREWATCH_API_TOKEN>")


def add_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response
