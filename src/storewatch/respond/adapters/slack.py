"""Slack incoming webhook: `POST https://hooks.slack.com/services/...` with JSON `{"text": ...}`.

The webhook URL is the credential (its path is the secret), so it is only ever shown as
`https://hooks.slack.com/***`. Values from logs are escaped as Slack asks (&, <, >), so a hostile log line
cannot ping @channel or forge a link.
"""

from __future__ import annotations

from typing import Any, Mapping

from storewatch.respond.adapters import message
from storewatch.respond.adapters.base import Adapter, Job, Operation, Outcome, shown_url
from storewatch.respond.config import Setting


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SlackAdapter(Adapter):
    name = "slack"
    product = "Slack incoming webhook (JSON text message)"
    settings = (Setting("webhook_url", "Incoming webhook URL (https://hooks.slack.com/services/...)", secret=True,
                        required=True),)
    operations = {"notify": Operation("notify", "Post the incident to a Slack channel", ("incident",),
                                      reversible=False)}

    def describe(self, op: str, target: str, params: Mapping[str, Any], job: Job) -> str:
        return f"Slack: POST {shown_url(str(self.values['webhook_url'] or ''))} {{\"text\": ...}}:\n" \
               + message.text(job.incident, params)

    def apply(self, op: str, target: str, params: Mapping[str, Any], job: Job) -> Outcome:
        url = str(self.values["webhook_url"])
        self.http.request("POST", url, shown=shown_url(url), json={"text": escape(message.text(job.incident, params))})
        return Outcome("posted to Slack")
