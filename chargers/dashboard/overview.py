"""The fleet at a glance: a tenant's overview, and every tenant's for platform staff."""

import zoneinfo
from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from chargers.alerts.models import Alert
from chargers.models import Charger, ChargingSession, IdToken
from chargers.selectors.energy import (
    active_sessions,
    energy_summary,
)
from chargers.selectors.fleet import State, fleet_counts
from cpms.models import Membership, Site, SiteOwner, Tenant
from cpms.tenancy import scoping
from cpms.tenancy.access import operator_view


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
            ChargingSession.objects.filter(tenant__in=[t.pk for t in rows], started_at__gte=since)
        )
        alerts = _count_by_tenant(Alert.objects.filter(resolved_at__isnull=True))
    for tenant in rows:
        tenant.sites, tenant.members = sites.get(tenant.pk, 0), members.get(tenant.pk, 0)
        tenant.chargers, tenant.online = chargers.get(tenant.pk, 0), online.get(tenant.pk, 0)
        tenant.sessions_24h = sessions.get(tenant.pk, 0)
        tenant.open_alerts = alerts.get(tenant.pk, 0)
    return render(request, "cpms/platform.html", {"tenants": rows})


def _count_by_tenant(rows) -> dict[int, int]:
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
            "tz": tz,
        },
    )
