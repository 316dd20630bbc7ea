"""The fleet at a glance: a tenant's overview, and every tenant's for platform staff."""

import zoneinfo
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db.models import Count, QuerySet
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from chargers.alerts.models import Alert
from chargers.models import Charger, ChargingSession, Connector, IdToken
from chargers.selectors.energy import (
    active_sessions,
    daily_energy_and_sessions,
    energy_summary,
    local_midnight,
    started_since,
    utilisation_per_site,
)
from chargers.selectors.fleet import State, fleet_counts
from chargers.selectors.uptime import availability_per_day
from cpms.models import Membership, Site, SiteOwner, Tenant
from cpms.tenancy import scoping
from cpms.tenancy.access import operator_view
from cpms.tenancy.scoping import TenantOwned


@dataclass(frozen=True)
class TenantFigures:
    """A row of the platform view: a tenant and its counts."""

    slug: str
    name: str
    timezone: str
    is_active: bool
    sites: int
    members: int
    chargers: int
    online: int
    sessions_24h: int
    open_alerts: int


@login_required
def platform(request):
    """Platform staff: every tenant at a glance."""
    if not request.user.is_superuser:
        raise Http404
    since = timezone.now() - timedelta(hours=24)
    with scoping.unscoped():
        rows = list(Tenant.objects.order_by("name"))
        sites = _count_by_tenant(Site)
        members = _count_by_tenant(Membership)
        chargers = _count_by_tenant(Charger)
        online = _count_by_tenant(Charger.objects.filter(is_online=True))
        # Naming the tenants lets PostgreSQL walk the (tenant, started_at) index for each
        # instead of reading every session ever recorded.
        sessions = _count_by_tenant(
            started_since(ChargingSession.objects.filter(tenant__in=[t.pk for t in rows]), since)
        )
        alerts = _count_by_tenant(Alert.objects.filter(resolved_at__isnull=True))
    figures = [
        TenantFigures(
            slug=tenant.slug,
            name=tenant.name,
            timezone=tenant.timezone,
            is_active=tenant.is_active,
            sites=sites.get(tenant.pk, 0),
            members=members.get(tenant.pk, 0),
            chargers=chargers.get(tenant.pk, 0),
            online=online.get(tenant.pk, 0),
            sessions_24h=sessions.get(tenant.pk, 0),
            open_alerts=alerts.get(tenant.pk, 0),
        )
        for tenant in rows
    ]
    return render(request, "cpms/platform.html", {"tenants": figures})


def _count_by_tenant(rows: type[TenantOwned] | QuerySet[Any]) -> dict[int, int]:
    """Rows per tenant; `rows` is a model or a queryset (platform views run unscoped)."""
    queryset = rows.objects.all() if isinstance(rows, type) else rows
    counts = queryset.order_by().values("tenant").annotate(n=Count("pk"))
    return dict(counts.values_list("tenant", "n"))


@operator_view()
def tenant_overview(request):
    """The fleet overview: states, energy, sessions and alerts, kept live by the page's socket."""
    counts = {
        "sites": Site.objects.count(),
        "site_owners": SiteOwner.objects.count(),
        "members": Membership.objects.count(),
        "id_tokens": IdToken.objects.count(),
    }
    tz = zoneinfo.ZoneInfo(request.tenant.timezone)
    return render(
        request,
        "cpms/overview.html",
        {
            "counts": counts,
            "fleet": fleet_counts(),
            "states": State.LABELS,
            "energy": energy_summary(tz),
            "active_sessions": active_sessions()
            .select_related("charger", "site")
            .order_by("-started_at")[:20],
            "active_count": active_sessions().count(),
            "open_alerts": Alert.objects.filter(resolved_at__isnull=True)[:10],
            "open_alert_count": Alert.objects.filter(resolved_at__isnull=True).count(),
            "charts": overview_charts(request.tenant, tz),
            "tz": tz,
        },
    )


CHART_DAYS = 30
# The charts add up 30 days of sessions (about 165,000 of them for 10,000 chargers) and walk 30
# days of every connector's status history: each is read at most this often, in seconds.
SESSIONS_FRESH_FOR = 60
AVAILABILITY_FRESH_FOR = 300


def overview_charts(tenant: Tenant, tz: zoneinfo.ZoneInfo) -> dict:
    """What the overview draws: energy and sessions per day, utilisation per site, and the
    connectors' availability per day, each over the last 30 days."""
    return {
        **_cached(tenant, tz, "sessions", SESSIONS_FRESH_FOR, lambda: _session_charts(tz)),
        "availability": _cached(
            tenant, tz, "availability", AVAILABILITY_FRESH_FOR, lambda: _availability(tz)
        ),
    }


def _cached(tenant: Tenant, tz: zoneinfo.ZoneInfo, name: str, seconds: int, compute) -> dict:
    # A tenant's id alone could name a deleted tenant's charts; the local day starts afresh.
    today = local_midnight(tz).date()
    key = f"overview-{name}:{tenant.pk}:{tenant.created_at.timestamp()}:{tz.key}:{today}"
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, seconds)
    return found


def _session_charts(tz: zoneinfo.ZoneInfo) -> dict:
    sessions = ChargingSession.objects.all()
    connectors = (
        Connector.objects.filter(evse_id__gt=0, charger__site__isnull=False)
        .values("charger__site", "charger__site__name")
        .annotate(n=Count("pk"))
        .order_by()
    )
    per_site = {row["charger__site"]: (row["charger__site__name"], row["n"]) for row in connectors}
    return {
        "daily": daily_energy_and_sessions(sessions, tz, CHART_DAYS),
        "sites": utilisation_per_site(sessions, per_site, tz, CHART_DAYS),
    }


def _availability(tz: zoneinfo.ZoneInfo) -> dict:
    today = local_midnight(tz)
    starts = [today - timedelta(days=CHART_DAYS - 1 - n) for n in range(CHART_DAYS)]
    days = [(start, start + timedelta(days=1)) for start in starts[:-1]]
    days.append((starts[-1], timezone.now()))
    return {
        "labels": [start.strftime("%d %b") for start in starts],
        "percent": availability_per_day(Charger.objects.all(), days),
    }
