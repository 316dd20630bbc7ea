"""Reads of energy and sessions over time: the day's and month's energy, chart series,
utilisation, running sessions.

Sums use the (tenant, started_at) index of sessions; days are local days of the tenant or site.
Sessions that started outside the plausible window of a charger's clock (rows stored before
times were checked: year 1, year 9999) count in no period: a local day of year 9999 east of
UTC is no date, and PostgreSQL answers "timestamp too large" for it.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Coalesce, Now, TruncDay, TruncMonth, TruncWeek
from django.utils import timezone

from chargers.metering import EARLIEST_PLAUSIBLE, latest_plausible, local_time
from chargers.models import (
    ChargingSession,
    MeterSample,
    SessionState,
)


def local_midnight(tz: zoneinfo.ZoneInfo, *, now: datetime | None = None) -> datetime:
    local = timezone.localtime(now or timezone.now(), tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def started_since(sessions: QuerySet, since: datetime, *, ended: bool = False) -> QuerySet:
    """The sessions that started since `since` and not later than a charger's clock can
    plausibly say; with `ended`, also without an implausible end."""
    now = timezone.now()
    latest = latest_plausible(now)
    rows = sessions.filter(started_at__gte=max(since, EARLIEST_PLAUSIBLE), started_at__lte=latest)
    if ended:
        rows = rows.filter(Q(stopped_at__isnull=True) | Q(stopped_at__lte=latest))
    return rows


def energy_wh(sessions: QuerySet, since: datetime) -> Decimal:
    """Energy of the sessions that started since `since` (a session counts on its start day)."""
    total = started_since(sessions, since).aggregate(e=Sum("energy_wh"))["e"]
    return total or Decimal(0)


def energy_summary(tz: zoneinfo.ZoneInfo, sessions: QuerySet | None = None) -> dict:
    sessions = ChargingSession.objects.all() if sessions is None else sessions
    today = local_midnight(tz)
    month = today.replace(day=1)
    return {"today_wh": energy_wh(sessions, today), "month_wh": energy_wh(sessions, month)}


ENERGY = "Energy.Active.Import.Register"


POWER = "Power.Active.Import"


def session_series(session: ChargingSession, tz: zoneinfo.ZoneInfo, limit: int = 2000) -> dict:
    """Power (kW) and energy delivered (kWh) over the session, per sample time."""
    rows = (
        MeterSample.objects.filter(session=session, measurand__in=[ENERGY, POWER], phase="")
        .order_by("timestamp")
        .values_list("timestamp", "measurand", "unit", "value")[:limit]
    )
    points: dict[datetime, dict] = {}
    for at, measurand, unit, value in rows:
        if value is None:
            continue
        scale = Decimal(1000) if unit in ("kW", "kWh") else Decimal(1)
        points.setdefault(at, {})[measurand] = value * scale
    start = session.meter_start_wh
    labels: list[str] = []
    power: list[float | None] = []
    energy: list[float | None] = []
    for at in sorted(points):
        point = points[at]
        labels.append(local_time(at, tz).strftime("%H:%M:%S"))
        watts = point.get(POWER)
        power.append(None if watts is None else round(float(watts) / 1000, 3))
        register = point.get(ENERGY)
        if register is not None and start is not None:
            energy.append(round(float(register - start) / 1000, 3))
        else:
            energy.append(None)
    return {"labels": labels, "power_kw": power, "energy_kwh": energy}


TRUNCS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}


SPANS = {"day": timedelta(days=30), "week": timedelta(weeks=12), "month": timedelta(days=365)}


LABEL_FORMATS = {"day": "%d %b", "week": "week of %d %b", "month": "%b %Y"}


def energy_per_period(sessions: QuerySet, tz: zoneinfo.ZoneInfo, unit: str) -> dict:
    """kWh per day, week or month (in `tz`) over the recent span of that unit."""
    since = local_midnight(tz) - SPANS[unit]
    rows = (
        started_since(sessions, since)
        .annotate(period=TRUNCS[unit]("started_at", tzinfo=tz))
        .values("period")
        .annotate(wh=Sum("energy_wh"))
        .order_by("period")
    )
    return {
        "labels": [row["period"].strftime(LABEL_FORMATS[unit]) for row in rows],
        "energy_kwh": [round(float(row["wh"] or 0) / 1000, 3) for row in rows],
    }


def utilisation_per_day(
    sessions: QuerySet, connectors: int, tz: zoneinfo.ZoneInfo, days: int = 30
) -> dict:
    """Share of connector time in sessions per day, by session start day."""
    since = local_midnight(tz) - timedelta(days=days)
    busy = ExpressionWrapper(
        Coalesce(F("stopped_at"), Now()) - F("started_at"), output_field=DurationField()
    )
    rows = (
        started_since(sessions, since, ended=True)
        .annotate(day=TruncDay("started_at", tzinfo=tz))
        .values("day")
        .annotate(busy=Sum(busy))
        .order_by("day")
    )
    capacity = max(connectors, 1) * 24 * 3600
    return {
        "labels": [row["day"].strftime("%d %b") for row in rows],
        "percent": [
            min(round(row["busy"].total_seconds() * 100 / capacity, 1), 100.0) for row in rows
        ],
    }


def active_sessions() -> QuerySet:
    return ChargingSession.objects.filter(state=SessionState.ACTIVE)


def daily_energy_and_sessions(sessions: QuerySet, tz: zoneinfo.ZoneInfo, days: int = 30) -> dict:
    """kWh and the number of sessions per local day (by start), for each of the last `days`
    days including today, days without sessions as zeros."""
    first = local_midnight(tz) - timedelta(days=days - 1)
    rows = (
        started_since(sessions, first)
        .annotate(day=TruncDay("started_at", tzinfo=tz))
        .values("day")
        .annotate(wh=Sum("energy_wh"), n=Count("pk"))
        .order_by("day")
    )
    by_day = {row["day"].date(): row for row in rows}
    labels, energy, counts = [], [], []
    for offset in range(days):
        day = (first + timedelta(days=offset)).date()
        row = by_day.get(day)
        labels.append(day.strftime("%d %b"))
        energy.append(round(float(row["wh"] or 0) / 1000, 3) if row else 0)
        counts.append(row["n"] if row else 0)
    return {"labels": labels, "energy_kwh": energy, "sessions": counts}


def utilisation_per_site(sessions: QuerySet, connectors: dict, tz, days: int = 30) -> dict:
    """Per site, the share of its connectors' time in sessions that started in the last
    `days` days; `connectors` is {site id: (site name, connector count)}."""
    since = local_midnight(tz) - timedelta(days=days - 1)
    now = timezone.now()
    busy = ExpressionWrapper(
        Coalesce(F("stopped_at"), Now()) - F("started_at"), output_field=DurationField()
    )
    rows = (
        started_since(sessions, since, ended=True)
        .filter(site__isnull=False)
        .values("site")
        .annotate(busy=Sum(busy))
        .order_by()
    )
    busy_by_site = {row["site"]: row["busy"] for row in rows}
    span = (now - since).total_seconds()
    named = sorted(connectors.items(), key=lambda item: item[1][0].lower())
    labels, percent = [], []
    for site_id, (name, count) in named:
        seconds = busy_by_site.get(site_id)
        labels.append(name)
        share = seconds.total_seconds() * 100 / (max(count, 1) * span) if seconds else 0.0
        percent.append(min(round(share, 1), 100.0))
    return {"labels": labels, "percent": percent}
