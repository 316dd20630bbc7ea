"""The dashboards' live channel: domain events pushed to the browsers of a tenant's members.

A browser opens `ws/dashboard/<tenant_slug>/` with its session cookie. Operators (viewer and
up) and platform staff join the tenant's dashboard group; portal members join too but only hear
of their own sites' chargers; anyone else is refused before the upgrade, exactly like a
missing tenant. The channel only rings the bell: pages show stored facts, so an event lost on
the way costs freshness, never data.

A socket outlives changes to what its user may see (a membership ended, a charger moved to
another owner's site), so its admission is looked at again once it is `READMIT_AFTER` old, at
the next event; a socket no longer admitted is closed.
"""

from __future__ import annotations

import functools
import time
from urllib.parse import parse_qs

from channels.db import aclose_old_connections, database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.http import Http404
from django.utils import translation

from chargers.dashboard.push import dashboard_group
from chargers.models import Charger
from cpms.events import catalogue
from cpms.models import Role
from cpms.tenancy import scoping
from cpms.tenancy.doors import resolve_web_tenant
from cpms.texts import localized

# Seconds an admission holds. Events arrive many times a second on a busy tenant and the consumers
# share one database thread with the chargers' sockets, so they are not checked one by one.
READMIT_AFTER = 30.0


@functools.cache
def portal_events() -> frozenset[str]:
    """What a site owner may hear about, of their own chargers: each event class says (their
    chargers' state and sessions, nothing of operations)."""
    return frozenset(cls.name for cls in catalogue() if cls.portal)


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
    group: str | None = None
    only_chargers: set[int] | None = None
    admitted_until = 0.0

    async def connect(self):
        await aclose_old_connections()
        if not await self.admit() or self.group is None:  # admit() sets the group
            await self.close()  # before accept(): the same 403 for strangers and missing tenants
            return
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def admit(self) -> bool:
        """Whether the user may still follow the tenant; sets what they may hear, and when to
        ask again."""
        slug = self.scope["url_route"]["kwargs"]["tenant_slug"]
        admitted = await database_sync_to_async(admission)(self.scope.get("user"), slug)
        if admitted is None:
            return False
        tenant_id, self.only_chargers = admitted
        self.group = dashboard_group(tenant_id)
        self.admitted_until = time.monotonic() + READMIT_AFTER
        return True

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            self.group = None

    async def receive_json(self, content, **kwargs):
        # The channel is one-way; browsers act through forms, which are checked and audited.
        return

    async def domain_event(self, message):
        if await self.still_admitted():
            await self.forward(message["name"], message.get("data", {}))

    async def domain_events(self, message):
        """Events a server process pushed together (`push.by_group`), each its own frame."""
        if await self.still_admitted():
            for event in message["events"]:
                await self.forward(event["name"], event.get("data", {}))

    async def still_admitted(self) -> bool:
        if self.group is None:
            return False  # turned away at the last admission; the close is on its way
        return time.monotonic() < self.admitted_until or await self.readmit()

    async def forward(self, name: str, data: dict) -> None:
        if self.only_chargers is not None and (
            name not in portal_events() or data.get("charger_id") not in self.only_chargers
        ):
            return
        if data.get("title_text"):
            data = {**data, "title": self.in_page_language(data["title_text"], data["title"])}
        await self.send_json({"name": name, "data": data})

    @functools.cached_property
    def page_language(self) -> str | None:
        """The language of the page that opened the socket (`?lang=`, the page's own), when
        it is one of LANGUAGES; read once per socket."""
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        language = (query.get("lang") or [""])[0]
        return language if language in dict(settings.LANGUAGES) else None

    def in_page_language(self, text: dict, english: str) -> str:
        """A stored text in the page's language; English as stored for any other."""
        if self.page_language is None:
            return english
        with translation.override(self.page_language):
            return localized(text, english)

    async def readmit(self) -> bool:
        group = self.group
        if await self.admit() and self.group == group:
            return True
        if group is not None:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.group = None
        await self.close()
        return False
