"""Reads of the fleet: each charger's state, the counts the overview shows, the chargers table.

States are computed in SQL with EXISTS subqueries on the connector table: one query for a whole
page, none per row.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    OrderBy,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils.translation import gettext_lazy as _

from chargers.configuration.models import Drift
from chargers.models import (
    Charger,
    Connector,
    OcppVersion,
    RegistrationStatus,
)
from chargers.tags import is_tag, tagged, validate_tag
from cpms.exports import refused
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
        "available": _("Available"),
        "charging": _("Charging"),
        "faulted": _("Faulted"),
        "offline": _("Offline"),
        "unavailable": _("Unavailable"),
        "pending": _("Pending approval"),
    }


STATE_CHOICES = list(State.LABELS.items())
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


SORTS: dict[str, str | OrderBy] = {
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
    tag: str = ""
    # "drifted": only chargers whose configuration differs from their templates.
    drift: str = ""
    sort: str = "identity"

    @classmethod
    def from_request(cls, params) -> TableQuery:
        query = cls(**{k: params.get(k, "").strip() for k in cls.__dataclass_fields__})
        if query.sort not in SORTS:
            query.sort = "identity"
        return query


def refused_filter(params) -> str | None:
    """The first of the table's filters whose value it cannot apply, as a message naming the
    filter (the list page quietly ignores such a value; an export must not widen silently)."""
    site = params.get("site", "").strip()
    if site and not site.isdigit() and site != "none":
        return f"site: {site[:40]!r} is not a site id or none."
    tag = params.get("tag", "").strip()
    if tag:
        try:
            validate_tag(tag)
        except ValidationError as error:
            return f"tag: {error.messages[0]}"
    return refused(
        params,
        {
            "state": State.LABELS,
            "version": OcppVersion.values,
            "drift": ["drifted"],
            "sort": SORTS,
        },
    )


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
    if query.tag:
        # A tag no charger can carry shows none (the export refuses it, `refused_filter`).
        chargers = chargers.filter(tagged(query.tag)) if is_tag(query.tag) else chargers.none()
    if query.drift == "drifted":
        chargers = chargers.filter(Exists(Drift.objects.filter(charger=OuterRef("pk"))))
    order = SORTS[query.sort]
    return chargers.order_by(order, "pk")


def filter_choices() -> dict[str, list[str]]:
    """Values present in the fleet, for the filter menus: one pass over the chargers (tags
    under `tag`)."""
    found: dict[str, set[str]] = {param: set() for param in [*FILTER_FIELDS, "tag"]}
    rows = Charger.objects.order_by().values_list(*FILTER_FIELDS.values(), "tags").distinct()
    for *row, tags in rows:
        for param, value in zip(FILTER_FIELDS, row, strict=True):
            if value:
                found[param].add(value)
        found["tag"].update(tags)
    return {param: sorted(values)[:200] for param, values in found.items()}


def site_choices() -> list:
    """(pk, name) of every site for the filter menus, as tuples: hundreds of sites are common
    and model instances for them cost more than the rest of the menu."""
    return list(Site.objects.order_by("name").values_list("pk", "name", named=True))
