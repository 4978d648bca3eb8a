"""Microsoft Teams incoming webhook (a Workflows "post to a channel when a webhook request is received"
flow, or a legacy connector): `POST <webhook URL>` with a message carrying one Adaptive Card.

The URL is the credential and is only shown as scheme and host.
"""

from __future__ import annotations

from typing import Any, Mapping

from storewatch.respond.adapters import message
from storewatch.respond.adapters.base import Adapter, Job, Operation, Outcome, shown_url
from storewatch.respond.config import Setting


def card(incident: Mapping[str, Any], params: Mapping[str, Any]) -> dict:
    """The message body: an Adaptive Card with the subject as heading and the text below."""
    return {"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive",
        "content": {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4",
            "body": [{"type": "TextBlock", "text": message.subject(incident), "weight": "Bolder", "wrap": True},
                     {"type": "TextBlock", "text": message.text(incident, params), "wrap": True}],
        }}]}


class TeamsAdapter(Adapter):
    name = "teams"
    product = "Microsoft Teams incoming webhook (Adaptive Card message)"
    settings = (Setting("webhook_url", "Workflows or connector webhook URL", secret=True, required=True),)
    operations = {"notify": Operation("notify", "Post the incident to a Teams channel", ("incident",),
                                      reversible=False)}

    def describe(self, op: str, target: str, params: Mapping[str, Any], job: Job) -> str:
        return f"Teams: POST {shown_url(str(self.values['webhook_url'] or ''))} (Adaptive Card):\n" \
               + message.text(job.incident, params)

    def apply(self, op: str, target: str, params: Mapping[str, Any], job: Job) -> Outcome:
        url = str(self.values["webhook_url"])
        self.http.request("POST", url, shown=shown_url(url), json=card(job.incident, params))
        return Outcome("posted to Teams")
