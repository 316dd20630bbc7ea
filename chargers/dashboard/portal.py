"""The site owners' portal: their sites' chargers, uptime, energy and sessions, nothing else."""

import zoneinfo
from datetime import timedelta

from django.db.models import Count
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.text import slugify

from chargers.dashboard.sites import site_figures
from chargers.exports import sessions_csv
from chargers.models import Charger, ChargingSession
from chargers.selectors.fleet import State, with_state
from chargers.selectors.uptime import connector_uptimes
from cpms.models import Site
from cpms.tenancy.access import portal_view


@portal_view
def portal_home(request):
    owner = request.membership.site_owner
    sites = owner.sites.annotate(charger_count=Count("chargers"))
    chargers = with_state(Charger.objects.filter(site__site_owner=owner))
    return render(
        request,
        "portal/home.html",
        {"owner": owner, "sites": sites, "fleet": _state_counts(chargers)},
    )


def _state_counts(chargers) -> dict[str, int]:
    counts = dict.fromkeys(State.LABELS, 0)
    for row in chargers.order_by().values("state").annotate(n=Count("pk")):
        counts[row["state"]] = row["n"]
    return counts


PERIODS = {"7": 7, "30": 30, "90": 90}


@portal_view
def portal_site(request, pk: int):
    site = get_object_or_404(Site, pk=pk, site_owner=request.membership.site_owner)
    days = PERIODS.get(request.GET.get("days", "30"), 30)
    end = timezone.now()
    chargers = Charger.objects.filter(site=site)
    return render(
        request,
        "portal/site.html",
        {
            "site": site,
            **site_figures(site),
            "days": days,
            "periods": PERIODS,
            "uptimes": connector_uptimes(chargers, end - timedelta(days=days), end),
        },
    )


@portal_view
def portal_export(request, pk: int):
    """The owner's sessions of one site as CSV, over the chosen number of days."""
    site = get_object_or_404(Site, pk=pk, site_owner=request.membership.site_owner)
    days = PERIODS.get(request.GET.get("days", "30"), 30)
    tz = zoneinfo.ZoneInfo(site.timezone)
    sessions = ChargingSession.objects.filter(
        site=site, started_at__gte=timezone.now() - timedelta(days=days)
    ).select_related("charger", "site")
    # Named after the site, as its owner knows it.
    name = f"sessions-{slugify(site.name) or site.pk}-last-{days}-days.csv"
    return sessions_csv(sessions, tz=tz, tenant=request.tenant, filename=name)
