"""The dashboards' live channel: domain events pushed to the browsers of a tenant's members.

A browser opens `ws/dashboard/<tenant_slug>/` with its session cookie. Operators (viewer and
up) and platform staff join the tenant's dashboard group; portal members join too but only hear
of their own sites' chargers; anyone else is refused before the upgrade, exactly like a
missing tenant. The channel only rings the bell: pages show stored facts, so an event lost on
the way costs freshness, never data.
"""

from __future__ import annotations

from channels.db import aclose_old_connections, database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404

from chargers.events import dashboard_group
from chargers.models import Charger
from cpms import scoping
from cpms.models import Role
from cpms.tenancy import resolve_web_tenant

# What a site owner may hear about: their chargers' state and sessions, nothing of operations.
PORTAL_EVENTS = {
    "charger.online",
    "charger.offline",
    "connector.status",
    "session.started",
    "session.updated",
    "session.stopped",
}


def admission(user, slug: str) -> tuple[int, set[int] | None] | None:
    """(tenant id, the charger ids a portal member may follow or None for all), or None."""
    try:
        tenant, membership = resolve_web_tenant(user, slug)
    except Http404:
        return None
    if membership is None or membership.allows(Role.VIEWER):
        return tenant.pk, None
    if membership.role == Role.PORTAL and membership.site_owner_id:
        with scoping.scope(tenant):
            chargers = Charger.objects.filter(site__site_owner_id=membership.site_owner_id)
            return tenant.pk, set(chargers.values_list("pk", flat=True))
    return None


class DashboardConsumer(AsyncJsonWebsocketConsumer):
    group = None
    only_chargers: set[int] | None = None

    async def connect(self):
        await aclose_old_connections()
        slug = self.scope["url_route"]["kwargs"]["tenant_slug"]
        admitted = await database_sync_to_async(admission)(self.scope.get("user"), slug)
        if admitted is None:
            await self.close()  # before accept(): the same 403 for strangers and missing tenants
            return
        tenant_id, self.only_chargers = admitted
        self.group = dashboard_group(tenant_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        # The channel is one-way; browsers act through forms, which are checked and audited.
        return

    async def domain_event(self, message):
        name, data = message["name"], message.get("data", {})
        if self.only_chargers is not None and (
            name not in PORTAL_EVENTS or data.get("charger_id") not in self.only_chargers
        ):
            return
        await self.send_json({"name": name, "data": data})
