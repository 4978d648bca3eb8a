"""One adapter per product; `OPERATIONS` maps each playbook action name (`adapter.operation`) to it."""

from __future__ import annotations

from storewatch.respond.adapters.auth0 import Auth0Adapter
from storewatch.respond.adapters.base import Adapter, Operation
from storewatch.respond.adapters.crowdstrike import CrowdStrikeAdapter
from storewatch.respond.adapters.edl import EdlAdapter
from storewatch.respond.adapters.email import EmailAdapter
from storewatch.respond.adapters.nftables import NftablesAdapter
from storewatch.respond.adapters.pos import PosAdapter
from storewatch.respond.adapters.shopify import ShopifyAdapter
from storewatch.respond.adapters.slack import SlackAdapter
from storewatch.respond.adapters.stripe import StripeAdapter
from storewatch.respond.adapters.teams import TeamsAdapter
from storewatch.respond.adapters.webhook import WebhookAdapter

ADAPTERS: dict[str, type[Adapter]] = {a.name: a for a in (
    EdlAdapter, NftablesAdapter, Auth0Adapter, CrowdStrikeAdapter, ShopifyAdapter, StripeAdapter, PosAdapter,
    SlackAdapter, TeamsAdapter, WebhookAdapter, EmailAdapter)}

OPERATIONS: dict[str, tuple[type[Adapter], Operation]] = {
    f"{a.name}.{op.name}": (a, op) for a in ADAPTERS.values() for op in a.operations.values()}

# Adapters a playbook's `do: notify` step fans out to, each when configured.
NOTIFY_CHANNELS = ("slack", "teams", "webhook", "email")
