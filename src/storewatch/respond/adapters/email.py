"""E-mail over SMTP (smtplib): one plain-text message to the configured recipients.

STARTTLS on port 587 by default, implicit TLS with `ssl: true` (port 465), login when a username is set.
Temporary failures (4xx replies, dropped or refused connections, timeouts) are retried like HTTP calls;
a refused login or a 5xx reply fails the action with the server's answer.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import Any, Mapping

from storewatch.respond.adapters import message
from storewatch.respond.adapters.base import Adapter, AdapterError, Job, Operation, Outcome
from storewatch.respond.config import Setting
from storewatch.respond.http import Retry, with_retries


class EmailAdapter(Adapter):
    name = "email"
    product = "E-mail over SMTP (STARTTLS or TLS, optional login)"
    settings = (
        Setting("host", "SMTP server", required=True),
        Setting("port", "SMTP port", default=587),
        Setting("sender", "From address", required=True),
        Setting("to", "Recipients (comma-separated in the environment)", required=True, default=[]),
        Setting("username", "Login name (no login when empty)"),
        Setting("password", "Login password", secret=True),
        Setting("starttls", "Upgrade with STARTTLS (ignored with ssl)", default=True),
        Setting("ssl", "Implicit TLS from the first byte (port 465)", default=False),
    )
    operations = {"notify": Operation("notify", "E-mail the incident to the security team", ("incident",),
                                      reversible=False)}

    def _recipients(self) -> list[str]:
        to = self.values["to"]
        return [str(t) for t in (to if isinstance(to, list) else str(to).split(","))]

    def build(self, job: Job, params: Mapping[str, Any]) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = message.subject(job.incident).replace("\n", " ")
        msg["From"] = str(self.values["sender"])
        msg["To"] = ", ".join(self._recipients())
        msg["Message-ID"] = f"<{job.action_id}@storewatch>"
        msg.set_content(message.text(job.incident, params))
        return msg

    def describe(self, op: str, target: str, params: Mapping[str, Any], job: Job) -> str:
        return (f"e-mail via {self.values['host']}:{self.values['port']} to {', '.join(self._recipients()) or '<nobody>'}: "
                f"{message.subject(job.incident)}")

    def _send_once(self, msg: EmailMessage) -> None:
        host, port, timeout = str(self.values["host"]), int(self.values["port"]), self.http.timeout
        try:
            if self.values["ssl"]:
                server: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
            else:
                server = smtplib.SMTP(host, port, timeout=timeout)
            with server:
                if self.values["starttls"] and not self.values["ssl"]:
                    server.starttls(context=ssl.create_default_context())
                if self.values["username"]:
                    server.login(str(self.values["username"]), str(self.values["password"] or ""))
                server.send_message(msg)
        except smtplib.SMTPAuthenticationError as exc:
            raise AdapterError(f"SMTP {host}: login refused ({exc.smtp_code})") from None
        except smtplib.SMTPResponseException as exc:
            reply = f"{exc.smtp_code} {exc.smtp_error.decode(errors='replace') if isinstance(exc.smtp_error, bytes) else exc.smtp_error}"
            if 400 <= exc.smtp_code < 500:
                raise Retry(f"temporary failure {reply}") from None
            raise AdapterError(f"SMTP {host}: {reply}") from None
        except smtplib.SMTPNotSupportedError:
            raise AdapterError(f"SMTP {host}: the server does not offer STARTTLS; use ssl, or starttls: false "
                               f"on a trusted network") from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise AdapterError(f"SMTP {host}: recipients refused ({', '.join(exc.recipients)})") from None
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise Retry(f"connection failed ({type(exc).__name__})") from None

    def apply(self, op: str, target: str, params: Mapping[str, Any], job: Job) -> Outcome:
        msg = self.build(job, params)
        with_retries(f"SMTP {self.values['host']}:{self.values['port']}", lambda: self._send_once(msg),
                     self.http.retries, self.http.max_wait)
        return Outcome(f"e-mailed {', '.join(self._recipients())}")
