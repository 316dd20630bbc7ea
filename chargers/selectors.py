"""Reads for the dashboards: fleet states, tables, energy and chart series, uptime.

Every query here runs in the caller's tenant scope and is shaped for a large fleet: states are
computed in SQL with EXISTS subqueries on the connector table (one query for a whole page, none
per row), and sums use the (tenant, started_at) index of sessions.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.paginator import EmptyPage, Page, Paginator
from django.db.models import (
    Case,
    CharField,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Now, TruncDay, TruncMonth, TruncWeek
from django.http import QueryDict
from django.utils import timezone
from django.utils.functional import cached_property

from chargers.models import (
    Charger,
    ChargingSession,
    Connector,
    MeterSample,
    RegistrationStatus,
    SessionState,
    StatusEvent,
)
from cpms.models import Site


class State:
    """A charger's state as the fleet overview counts it, most urgent first."""

    PENDING = "pending"
    OFFLINE = "offline"
    FAULTED = "faulted"
    CHARGING = "charging"
    UNAVAILABLE = "unavailable"
    AVAILABLE = "available"

    LABELS = {
        "available": "Available",
        "charging": "Charging",
        "faulted": "Faulted",
        "offline": "Offline",
        "unavailable": "Unavailable",
        "pending": "Pending approval",
    }


CHARGING_STATUSES = ["Charging", "SuspendedEV", "SuspendedEVSE", "Occupied"]


def with_state(chargers: QuerySet) -> QuerySet:
    def connector_with(**lookup):
        return Exists(Connector.objects.filter(charger=OuterRef("pk"), **lookup))

    return chargers.annotate(
        state=Case(
            When(
                registration_status=RegistrationStatus.PENDING,
                then=Value(State.PENDING),
            ),
            When(is_online=False, then=Value(State.OFFLINE)),
            When(connector_with(status="Faulted"), then=Value(State.FAULTED)),
            When(connector_with(status__in=CHARGING_STATUSES), then=Value(State.CHARGING)),
            When(connector_with(status="Unavailable"), then=Value(State.UNAVAILABLE)),
            default=Value(State.AVAILABLE),
            output_field=CharField(),
        )
    )


def fleet_counts() -> dict[str, int]:
    rows = with_state(Charger.objects.order_by()).values("state").annotate(n=Count("pk"))
    counts = dict.fromkeys(State.LABELS, 0)
    counts.update({row["state"]: row["n"] for row in rows})
    counts["total"] = sum(counts.values())
    return counts


def local_midnight(tz: zoneinfo.ZoneInfo, *, now: datetime | None = None) -> datetime:
    local = timezone.localtime(now or timezone.now(), tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def energy_wh(sessions: QuerySet, since: datetime) -> Decimal:
    """Energy of the sessions that started since `since` (a session counts on its start day)."""
    total = sessions.filter(started_at__gte=since).aggregate(e=Sum("energy_wh"))["e"]
    return total or Decimal(0)


def energy_summary(tz: zoneinfo.ZoneInfo, sessions: QuerySet | None = None) -> dict:
    sessions = ChargingSession.objects.all() if sessions is None else sessions
    today = local_midnight(tz)
    month = today.replace(day=1)
    return {"today_wh": energy_wh(sessions, today), "month_wh": energy_wh(sessions, month)}


# --- The chargers table -------------------------------------------------------------------------

SORTS = {
    "identity": "identity",
    "-identity": "-identity",
    "site": "site__name",
    "-site": "-site__name",
    "state": "state",
    "-state": "-state",
    "last_seen": F("last_seen").asc(nulls_first=True),
    "-last_seen": F("last_seen").desc(nulls_last=True),
    "vendor": "vendor",
    "-vendor": "-vendor",
}
FILTER_FIELDS = {
    "vendor": "vendor",
    "model": "model",
    "firmware": "firmware_version",
    "version": "ocpp_version",
}


@dataclass
class TableQuery:
    q: str = ""
    site: str = ""
    state: str = ""
    vendor: str = ""
    model: str = ""
    firmware: str = ""
    version: str = ""
    sort: str = "identity"

    @classmethod
    def from_request(cls, params) -> TableQuery:
        query = cls(**{k: params.get(k, "").strip() for k in cls.__dataclass_fields__})
        if query.sort not in SORTS:
            query.sort = "identity"
        return query


def charger_table(query: TableQuery) -> QuerySet:
    chargers = with_state(Charger.objects.select_related("site"))
    if query.q:
        chargers = chargers.filter(
            Q(identity__icontains=query.q)
            | Q(serial_number__icontains=query.q)
            | Q(charge_box_serial_number__icontains=query.q)
        )
    if query.site.isdigit():
        chargers = chargers.filter(site_id=int(query.site))
    elif query.site == "none":
        chargers = chargers.filter(site__isnull=True)
    if query.state in State.LABELS:
        chargers = chargers.filter(state=query.state)
    for param, field in FILTER_FIELDS.items():
        value = getattr(query, param)
        if value:
            chargers = chargers.filter(**{field: value})
    order = SORTS[query.sort]
    return chargers.order_by(order, "pk")


def filter_choices() -> dict[str, list[str]]:
    """Values present in the fleet, for the filter menus: one pass over the chargers."""
    found: dict[str, set[str]] = {param: set() for param in FILTER_FIELDS}
    rows = Charger.objects.order_by().values_list(*FILTER_FIELDS.values()).distinct()
    for row in rows:
        for param, value in zip(FILTER_FIELDS, row, strict=True):
            if value:
                found[param].add(value)
    return {param: sorted(values)[:200] for param, values in found.items()}


def site_choices() -> list:
    """(pk, name) of every site for the filter menus, as tuples: hundreds of sites are common
    and model instances for them cost more than the rest of the menu."""
    return list(Site.objects.order_by("name").values_list("pk", "name", named=True))


# --- Long tables ------------------------------------------------------------------------------


def pager_params(query: QueryDict) -> str:
    """A list's filters for its pager's links: the request's query string without the page
    number, URL-encoded (a value may hold "&" or "=")."""
    params = query.copy()
    params.pop("page", None)
    return params.urlencode()


class DeferredPaginator(Paginator):
    """Pages that stay fast far from the start: a deep page reads its ids first (a narrow
    sort, or the index alone) and then only its own rows, instead of sorting and skipping over
    whole rows with their joins and computed states."""

    deferred_from = 1_000

    def page(self, number):
        number = self.validate_number(number)
        return self._get_page(self.rows(number), number, self)

    def rows(self, number: int, extra: int = 0) -> list:
        """The page's rows, and `extra` rows after them where there are."""
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page + extra
        if bottom < self.deferred_from:
            return list(self.object_list[bottom:top])
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        by_id = {row.pk: row for row in self.object_list.filter(pk__in=ids)}
        return [by_id[pk] for pk in ids if pk in by_id]


class LargeTablePaginator(DeferredPaginator):
    """Pages of a table that grows without bound (a network's sessions).

    Counting a million rows to print "page 3 of 20,000" costs more than the page itself, so up
    to `exact_up_to` rows the count is exact, and beyond that the paginator is `open_ended`: the
    pager says "more than `exact_up_to`" and offers the previous and next pages, and each page
    reads one row more than it shows to know whether a next one exists. Nothing shown derives
    from PostgreSQL's planner estimate: its statistics cover the whole table, other tenants'
    rows included.
    """

    exact_up_to = 10_000

    def __init__(self, object_list, per_page, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.counted = False

    @cached_property
    def count(self) -> int:
        # Past the threshold this is exact_up_to + 1: the rows known to exist.
        return self.object_list[: self.exact_up_to + 1].count()

    @property
    def open_ended(self) -> bool:
        return not self.counted and self.count > self.exact_up_to

    def validate_number(self, number):
        try:
            return super().validate_number(number)
        except EmptyPage:
            # Past the pages known to exist there may still be rows: page() finds out.
            if self.open_ended and int(number) > 1:
                return int(number)
            raise

    def page(self, number):
        number = self.validate_number(number)
        if not self.open_ended:
            return self._get_page(self.rows(number), number, self)
        rows = self.rows(number, extra=1)
        if not rows and number > 1:
            # Asked for a page past the end: count this tenant's rows exactly, show the last.
            self.__dict__["count"] = self.object_list.count()
            self.__dict__.pop("num_pages", None)
            self.counted = True
            return self.page(self.num_pages)
        page = self._get_page(rows[: self.per_page], number, self)
        page.more = len(rows) > self.per_page
        return page

    def _get_page(self, *args, **kwargs):
        return LargeTablePage(*args, **kwargs)


class LargeTablePage(Page):
    """A page whose successor, past the exactly counted rows, is known by the row read beyond it."""

    more: bool | None = None

    def has_next(self) -> bool:
        if self.more is None:
            return super().has_next()
        return self.more

    def next_page_number(self) -> int:
        if self.more is None:
            return super().next_page_number()
        if not self.more:
            raise EmptyPage("That page contains no results")
        return self.number + 1


# --- Charts -------------------------------------------------------------------------------------

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
    labels, power, energy = [], [], []
    for at in sorted(points):
        point = points[at]
        labels.append(timezone.localtime(at, tz).strftime("%H:%M:%S"))
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
        sessions.filter(started_at__gte=since)
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
        sessions.filter(started_at__gte=since)
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


# --- Uptime -------------------------------------------------------------------------------------

DOWN_STATUSES = {"Faulted", "Unavailable"}


def uptime_fraction(
    initial: str | None, changes: list[tuple[datetime, str]], start: datetime, end: datetime
) -> float | None:
    """The share of [start, end) a connector was not Faulted or Unavailable.

    `initial` is the status in force at `start` (None: unknown, counted from the first change);
    `changes` are (time, status) in order within the period. None when nothing is known.
    """
    known_from = start if initial is not None else (changes[0][0] if changes else None)
    if known_from is None or end <= known_from:
        return None
    down = timedelta(0)
    status, since = initial, start
    for at, new_status in changes:
        at = min(max(at, start), end)
        if status in DOWN_STATUSES:
            down += at - since
        status, since = new_status, at
    if status in DOWN_STATUSES:
        down += end - since
    total = end - known_from
    return max(0.0, 1 - down / total)


def connector_uptimes(chargers: QuerySet, start: datetime, end: datetime) -> list[dict]:
    """Uptime per connector (evse numbers from 1) of `chargers` over [start, end).

    Two queries whatever the number of connectors: the connectors, each with the status in
    force at `start` (the last event before it, found through the history's index), and every
    change within the period.
    """
    history = StatusEvent.objects.filter(
        charger_id=OuterRef("charger_id"),
        evse_id=OuterRef("evse_id"),
        connector_id=OuterRef("connector_id"),
        timestamp__lt=start,
    ).order_by("-timestamp")
    connectors = (
        Connector.objects.filter(charger__in=chargers, evse_id__gt=0)
        .select_related("charger")
        .annotate(initial=Subquery(history.values("status")[:1]))
        .order_by("charger__identity", "evse_id", "connector_id")
    )
    changes: dict[tuple[int, int, int], list[tuple[datetime, str]]] = {}
    events = (
        StatusEvent.objects.filter(
            charger__in=chargers, evse_id__gt=0, timestamp__gte=start, timestamp__lt=end
        )
        .order_by("timestamp", "pk")
        .values_list("charger_id", "evse_id", "connector_id", "timestamp", "status")
    )
    for charger_id, evse_id, connector_id, at, status in events:
        changes.setdefault((charger_id, evse_id, connector_id), []).append((at, status))
    result = []
    for connector in connectors:
        key = (connector.charger_id, connector.evse_id, connector.connector_id)
        fraction = uptime_fraction(connector.initial, changes.get(key, []), start, end)
        result.append(
            {
                "connector": connector,
                "percent": None if fraction is None else round(fraction * 100, 1),
            }
        )
    return result


def active_sessions() -> QuerySet:
    return ChargingSession.objects.filter(state=SessionState.ACTIVE)
