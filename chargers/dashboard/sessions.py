"""Operator pages of charging sessions: the filtered list, a session's page, the CSV export."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from chargers.exports import sessions_csv
from chargers.integrity import FLAG_CHOICES, FLAGS, flag_filter, session_flags, with_integrity
from chargers.models import ChargingSession, SessionState
from chargers.selectors.energy import session_series
from chargers.selectors.fleet import site_choices
from cpms.exports import export_filename
from cpms.paging import LargeTablePaginator, pager_params
from cpms.tenancy.access import operator_view


def parse_day(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def filter_sessions(sessions: QuerySet, params, tz: zoneinfo.ZoneInfo) -> tuple[QuerySet, dict]:
    """Apply the list's filters; returns the queryset and the cleaned filter values."""
    values = {
        k: params.get(k, "").strip()
        for k in ("site", "charger", "id_token", "state", "integrity", "since", "until")
    }
    if values["site"].isdigit():
        sessions = sessions.filter(site_id=int(values["site"]))
    if values["charger"]:
        sessions = sessions.filter(charger__identity__iexact=values["charger"])
    if values["id_token"]:
        sessions = sessions.filter(id_tag__iexact=values["id_token"])
    if values["state"] in SessionState.values:
        sessions = sessions.filter(state=values["state"])
    if values["integrity"] == "any" or values["integrity"] in FLAGS:
        sessions = with_integrity(sessions).filter(flag_filter(values["integrity"]))
    since, until = parse_day(values["since"]), parse_day(values["until"])
    # Days are the operator's days: midnight in the tenant's time zone.
    if since:
        start = datetime.combine(since, time.min, tzinfo=tz)
        sessions = sessions.filter(started_at__gte=start)
    if until:
        end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=tz)
        sessions = sessions.filter(started_at__lt=end)
    return sessions, values


@operator_view()
def session_list(request):
    tz = zoneinfo.ZoneInfo(request.tenant.timezone)
    sessions, values = filter_sessions(
        with_integrity(ChargingSession.objects.select_related("charger", "site", "id_token")),
        request.GET,
        tz,
    )
    page = LargeTablePaginator(sessions, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "chargers/session_list.html",
        {
            "page": page,
            "f": values,
            "params": pager_params(request.GET),
            "sites": site_choices(),
            "states": SessionState.choices,
            "integrity_flags": FLAG_CHOICES,
            "flag_help": list(FLAGS.values()),
            "tz": tz,
        },
    )


@operator_view()
def session_detail(request, pk: int):
    session = get_object_or_404(
        with_integrity(ChargingSession.objects.select_related("charger", "site", "id_token")),
        pk=pk,
    )
    tz = zoneinfo.ZoneInfo(session.site.timezone if session.site else request.tenant.timezone)
    return render(
        request,
        "chargers/session_detail.html",
        {
            "session": session,
            "flags": session_flags(session),
            "tz": tz,
            "chart": session_series(session, tz),
        },
    )


@operator_view()
def session_row(request, pk: int):
    """One session's table row, for live pages to insert when a session starts or stops.

    `variant=charger` is the charger page's "recent sessions" row, `variant=active` the
    overview's running sessions; otherwise the row of the sessions list, which sends its filters
    along. A session the table should not show gets 204: the page drops its row, if it has one.
    """
    tz = zoneinfo.ZoneInfo(request.tenant.timezone)
    sessions = with_integrity(
        ChargingSession.objects.select_related("charger__site", "site", "id_token")
    )
    session = get_object_or_404(sessions, pk=pk)
    variant = request.GET.get("variant")
    if variant == "charger":
        site = session.charger.site
        tz = zoneinfo.ZoneInfo((site.timezone if site else None) or request.tenant.timezone)
        template = "chargers/_charger_session_row.html"
    elif variant == "active":
        # The overview lists running sessions only; a stopped one leaves it.
        if session.state != SessionState.ACTIVE:
            return HttpResponse(status=204)
        template = "chargers/_active_session_row.html"
    else:
        matching, _ = filter_sessions(sessions.filter(pk=pk), request.GET, tz)
        if not matching.exists():
            return HttpResponse(status=204)
        template = "chargers/_session_row.html"
    return render(request, template, {"s": session, "tz": tz})


@operator_view()
def session_export(request):
    tz = zoneinfo.ZoneInfo(request.tenant.timezone)
    sessions, _ = filter_sessions(
        ChargingSession.objects.select_related("charger", "site"), request.GET, tz
    )
    return sessions_csv(
        sessions, tz=tz, tenant=request.tenant, filename=export_filename("sessions", request.tenant)
    )
