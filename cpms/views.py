"""Platform and tenancy pages: home, switcher, overview, sites, site owners, members, portal."""

import zoneinfo
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.views.decorators.http import require_POST

from chargers.alerts.models import Alert
from chargers.csvexport import csv_response
from chargers.models import Charger, ChargingSession, Connector, IdToken
from chargers.selectors.energy import (
    active_sessions,
    energy_per_period,
    energy_summary,
    utilisation_per_day,
)
from chargers.selectors.fleet import State, fleet_counts, with_state
from chargers.selectors.uptime import connector_uptimes
from chargers.session_views import SESSION_CSV_HEADER, session_rows
from cpms import apikeys
from cpms.forms import ApiKeyForm, MemberForm, SiteForm, SiteOwnerForm
from cpms.models import ApiKey, Membership, Role, Site, SiteOwner, Tenant
from cpms.paging import pager_params
from cpms.tenancy import scoping
from cpms.tenancy.access import operator_view, portal_view
from cpms.tenancy.doors import SESSION_KEY, memberships_of


@login_required
def home(request):
    """Send each person where they work: their tenant, their portal, or the platform view."""
    if request.user.is_superuser:
        return redirect("platform")
    memberships = memberships_of(request.user)
    if len(memberships) == 1:
        return redirect(_landing(memberships[0]))
    return render(request, "cpms/choose_tenant.html", {"memberships": memberships})


def _landing(membership: Membership) -> str:
    name = "portal_home" if membership.role == Role.PORTAL else "tenant_overview"
    return reverse(name, kwargs={"tenant_slug": membership.tenant.slug})


@login_required
@require_POST
def switch_tenant(request):
    """The staff switcher: choose the tenant the admin and dashboard work on."""
    slug = request.POST.get("tenant", "")
    if request.user.is_superuser and slug == "":
        request.session.pop(SESSION_KEY, None)
        return redirect("platform")
    if request.user.is_superuser:
        tenant = get_object_or_404(Tenant, slug=slug, is_active=True)
        request.session[SESSION_KEY] = tenant.pk
        return redirect("tenant_overview", tenant_slug=tenant.slug)
    membership = next((m for m in memberships_of(request.user) if m.tenant.slug == slug), None)
    if membership is None:
        raise Http404
    request.session[SESSION_KEY] = membership.tenant_id
    return redirect(_landing(membership))


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


# --- Sites ----------------------------------------------------------------------------------


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


@operator_view(read=Role.ADMIN, write=Role.ADMIN)
def site_edit(request, pk: int | None = None):
    site = get_object_or_404(Site, pk=pk) if pk else None
    form = SiteForm(request.POST or None, instance=site, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        site = form.save()
        messages.success(request, f"Site “{site.name}” saved.")
        return redirect("site_detail", tenant_slug=request.tenant.slug, pk=site.pk)
    return render(
        request,
        "cpms/form.html",
        {"form": form, "title": "Site", "object": site, "cancel": "site_list"},
    )


# --- Site owners ------------------------------------------------------------------------------


@operator_view()
def site_owner_list(request):
    owners = SiteOwner.objects.annotate(site_count=Count("sites"))
    return render(request, "cpms/site_owner_list.html", {"owners": owners})


@operator_view()
def site_owner_detail(request, pk: int):
    owner = get_object_or_404(SiteOwner, pk=pk)
    return render(
        request,
        "cpms/site_owner_detail.html",
        {
            "owner": owner,
            "sites": owner.sites.all(),
            "portal_members": owner.portal_members.select_related("user"),
        },
    )


@operator_view(read=Role.ADMIN, write=Role.ADMIN)
def site_owner_edit(request, pk: int | None = None):
    owner = get_object_or_404(SiteOwner, pk=pk) if pk else None
    form = SiteOwnerForm(request.POST or None, instance=owner, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        owner = form.save()
        messages.success(request, f"Site owner “{owner.name}” saved.")
        return redirect("site_owner_detail", tenant_slug=request.tenant.slug, pk=owner.pk)
    return render(
        request,
        "cpms/form.html",
        {"form": form, "title": "Site owner", "object": owner, "cancel": "site_owner_list"},
    )


# --- Members (admins only) ----------------------------------------------------------------------


@operator_view(read=Role.ADMIN, write=Role.ADMIN)
def member_list(request):
    members = Membership.objects.select_related("user", "site_owner")
    return render(request, "cpms/member_list.html", {"members": members})


@operator_view(read=Role.ADMIN, write=Role.ADMIN)
def member_edit(request, pk: int | None = None):
    member = get_object_or_404(Membership.objects.select_related("user"), pk=pk) if pk else None
    initial = (
        {"email": member.user.email, "role": member.role, "site_owner": member.site_owner}
        if member
        else None
    )
    form = MemberForm(request.POST or None, initial=initial, tenant=request.tenant, member=member)
    if request.method == "POST" and form.is_valid():
        demoting_self = member is not None and member.user == request.user
        if demoting_self and form.cleaned_data["role"] != Role.ADMIN:
            form.add_error("role", "You cannot remove your own admin role.")
        else:
            member, created = form.save()
            if created:
                _send_invitation(request, member)
                messages.success(request, f"Invitation sent to {member.user.email}.")
            else:
                role = member.get_role_display()
                messages.success(request, f"{member.user.email} is now {role}.")
            return redirect("member_list", tenant_slug=request.tenant.slug)
    return render(
        request,
        "cpms/form.html",
        {"form": form, "title": "Member", "object": member, "cancel": "member_list"},
    )


@operator_view(read=Role.ADMIN, write=Role.ADMIN)
@require_POST
def member_remove(request, pk: int):
    member = get_object_or_404(Membership, pk=pk)
    if member.user == request.user:
        messages.error(request, "You cannot remove yourself.")
    else:
        member.delete()
        messages.success(request, f"{member.user.email} no longer has access.")
    return redirect("member_list", tenant_slug=request.tenant.slug)


def _send_invitation(request, member: Membership) -> None:
    """New accounts start with no password; the invitation links to choosing one."""
    user = member.user
    context = {
        "tenant": request.tenant,
        "user": user,
        "protocol": "https" if request.is_secure() else "http",
        "domain": request.get_host(),
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    }
    subject = render_to_string("registration/invitation_subject.txt", context).strip()
    body = render_to_string("registration/invitation_email.txt", context)
    send_mail(subject, body, None, [user.email])


# --- Site-owner portal ----------------------------------------------------------------------------


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
    return csv_response(
        f"sessions-{site.pk}-last-{days}-days.csv",
        SESSION_CSV_HEADER,
        session_rows(sessions, tz),
    )


# --- API keys (admins only) -----------------------------------------------------------------------


@operator_view(read=Role.ADMIN, write=Role.ADMIN)
def api_key_list(request):
    """Keys of this tenant by prefix; the secret is shown once, right after creation."""
    form = ApiKeyForm(request.POST or None)
    new_secret = None
    if request.method == "POST" and form.is_valid():
        created = apikeys.create_api_key(
            tenant=request.tenant, created_by=request.user, **form.cleaned_data
        )
        new_secret = created.secret
        messages.success(
            request, f"Key “{created.key.name}” created. Copy it now: it is not shown again."
        )
    keys = ApiKey.objects.select_related("created_by")
    return render(
        request, "cpms/api_keys.html", {"keys": keys, "form": form, "new_secret": new_secret}
    )


@operator_view(read=Role.ADMIN, write=Role.ADMIN)
@require_POST
def api_key_revoke(request, pk: int):
    key = get_object_or_404(ApiKey, pk=pk)
    apikeys.revoke_api_key(key=key)
    messages.success(request, f"Key {key.prefix} revoked; requests with it now fail.")
    return redirect("api_key_list", tenant_slug=request.tenant.slug)
