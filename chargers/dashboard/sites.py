"""Operator pages of sites: the list, a site's chargers, energy and utilisation, editing."""

import zoneinfo

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from chargers.models import Charger, ChargingSession, Connector
from chargers.selectors.energy import (
    energy_per_period,
    energy_summary,
    utilisation_per_day,
)
from chargers.selectors.fleet import with_state
from cpms.forms import SiteForm, form_page, save_with
from cpms.models import Site
from cpms.paging import pager_params
from cpms.services import sites as site_services
from cpms.tenancy.access import MANAGE_SITES, operator_view


@operator_view()
def site_list(request):
    query = request.GET.get("q", "").strip()
    sites = Site.objects.select_related("site_owner")
    if query:
        sites = sites.filter(Q(name__icontains=query) | Q(city__icontains=query))
    # Paged: a network with hundreds of sites spent most of this page's time drawing rows.
    page = Paginator(sites, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "cpms/site_list.html",
        {"sites": page, "page": page, "params": pager_params(request.GET), "q": query},
    )


@operator_view()
def site_detail(request, pk: int):
    site = get_object_or_404(Site.objects.select_related("site_owner"), pk=pk)
    return render(request, "cpms/site_detail.html", {"site": site, **site_figures(site)})


def site_figures(site: Site) -> dict:
    """A site's chargers, energy per day/week/month and utilisation, for operator and owner."""
    tz = zoneinfo.ZoneInfo(site.timezone)
    sessions = ChargingSession.objects.filter(site=site)
    chargers = with_state(Charger.objects.filter(site=site))
    connectors = Connector.objects.filter(charger__site=site, evse_id__gt=0).count()
    return {
        "tz": tz,
        "chargers": chargers,
        "energy": energy_summary(tz, sessions),
        "charts": {
            "day": energy_per_period(sessions, tz, "day"),
            "week": energy_per_period(sessions, tz, "week"),
            "month": energy_per_period(sessions, tz, "month"),
            "utilisation": utilisation_per_day(sessions, connectors, tz),
        },
        "recent_sessions": sessions.select_related("charger")[:20],
    }


@operator_view(read=MANAGE_SITES, write=MANAGE_SITES)
def site_edit(request, pk: int | None = None):
    site = get_object_or_404(Site, pk=pk) if pk else None
    form = SiteForm(request.POST or None, instance=site, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        if site is None:
            saved = save_with(form, site_services.site_create, **form.values())
        else:
            saved = save_with(form, site_services.site_update, site=site, **form.values())
        if saved is not None:
            messages.success(request, _("Site “%(name)s” saved.") % {"name": saved.name})
            return redirect("site_detail", tenant_slug=request.tenant.slug, pk=saved.pk)
    return form_page(request, form, title=_("site"), instance=site, cancel="site_list")
