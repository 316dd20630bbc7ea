"""Seed the benchmarks' scratch databases.

`seed` creates the OCPP benchmark's tenant: N chargers and the drivers' tokens. It is run by
that benchmark in a process of its own, with Django set up on the scratch database:

    python -m bench.seed --tenant bench --prefix BENCH- --count 1000 --password ...

`seed_fleet` creates a whole fleet's history for the page benchmark (`bench.pages`): sites and
their owners, chargers with connectors, a million sessions, meter samples, status history,
connections and alerts. Rows are made by PostgreSQL itself (`INSERT ... SELECT` over
`generate_series`), not by the ORM one row at a time, so that a million sessions take seconds.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from decimal import Decimal

from cpms import hashing


def seed(*, tenant_slug: str, prefix: str, count: int, password: str, tags: list[str]) -> None:
    import django

    django.setup()
    from django.db import connection, transaction

    from chargers import credentials
    from chargers.models import Charger, IdToken
    from cpms.models import Tenant
    from cpms.tenancy import scoping

    problem = credentials.validate(password)
    if problem:
        raise SystemExit(f"--password: {problem}")
    with transaction.atomic():
        tenant = Tenant.objects.create(slug=tenant_slug, name="Benchmark")
        with scoping.scope(tenant):
            # One INSERT for thousands of chargers; the hash is the one set_password stores.
            Charger.objects.bulk_create(
                [
                    Charger(
                        tenant=tenant,
                        identity=identity(prefix, n),
                        password_hash=hashing.make_hash(password),
                    )
                    for n in range(1, count + 1)
                ],
                batch_size=1000,
            )
            IdToken.objects.bulk_create(
                [IdToken(tenant=tenant, uid=uid, label="benchmark driver") for uid in tags]
            )
            seed_history(tenant, tag=tags[0])
    # A database in service has its history and its planner statistics (autovacuum gathers
    # them within a minute of a table's first rows). Measured on empty tables without them,
    # PostgreSQL planned a session's lookup by primary key through the tenant's index, or as a
    # scan of a table it took for empty, and kept those plans while the table grew: each
    # statement read every session of the run so far.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def identity(prefix: str, n: int) -> str:
    return f"{prefix}{n:05d}"


# Completed sessions each benchmark charger has behind it.
HISTORY = 5


def seed_history(tenant, *, tag: str) -> None:
    """`HISTORY` completed sessions for each of the tenant's chargers, a month ago."""
    from datetime import timedelta

    from django.utils import timezone

    from chargers.models import Charger, ChargingSession, SessionState

    month_ago = timezone.now() - timedelta(days=30)
    ChargingSession.objects.bulk_create(
        [
            ChargingSession(
                tenant=tenant,
                charger_id=charger_id,
                evse_id=1,
                connector_id=1,
                transaction_id=f"history-{n}",
                dedupe_key=f"history-{n}",
                state=SessionState.COMPLETED,
                id_tag=tag,
                started_at=month_ago + timedelta(hours=n),
                stopped_at=month_ago + timedelta(hours=n, minutes=45),
                meter_start_wh=Decimal(0),
                meter_stop_wh=Decimal(11_000),
                meter_last_wh=Decimal(11_000),
                energy_wh=Decimal(11_000),
                stop_reason="Local",
            )
            for charger_id in Charger.objects.values_list("pk", flat=True)
            for n in range(HISTORY)
        ],
        batch_size=2000,
    )


# --- A whole fleet's history, for the page benchmark ----------------------------------------

VENDORS = ["ABB", "Alpitronic", "Kempower", "Wallbox", "Zaptec", "Easee"]
# Two models per vendor, in the order of VENDORS.
MODELS = [
    "Terra AC W22", "Terra 184", "HYC150", "HYC300", "S-Series 40", "T-Series 400",
    "Pulsar Plus", "Commander 2", "Go 2", "Pro 22", "Home 22", "Charge Core",
]  # fmt: skip
FIRMWARE = ["1.8.2", "1.9.0", "2.0.4", "2.1.1", "3.0.0-rc1"]
MEASURANDS = [
    # (measurand, phase, location, unit)
    ("Energy.Active.Import.Register", "", "Outlet", "Wh"),
    ("Power.Active.Import", "", "Outlet", "W"),
    ("Current.Import", "L1", "Outlet", "A"),
    ("Current.Import", "L2", "Outlet", "A"),
    ("Current.Import", "L3", "Outlet", "A"),
    ("Voltage", "L1-N", "Outlet", "V"),
    ("SoC", "", "EV", "Percent"),
]
SITE_TIMEZONES = [
    "Europe/Berlin",
    "Europe/Berlin",
    "Europe/Berlin",
    "Europe/Vienna",
    "Europe/Paris",
]
SESSION_BATCH = 200_000


@dataclass
class FleetSize:
    """How much history one tenant gets; zero means "in proportion to the chargers"."""

    chargers: int
    sessions: int
    sites: int = 0  # one per 20 chargers
    site_owners: int = 0  # one per 10 sites
    id_tokens: int = 0  # one per 2 chargers
    sampled_sessions: int = 20  # sessions with a meter series every 30 s
    status_events: int = 12  # per connector, over the last 90 days
    days: int = 180  # sessions spread over this many days up to now

    def __post_init__(self):
        self.sites = self.sites or max(1, self.chargers // 20)
        self.site_owners = self.site_owners or max(1, self.sites // 10)
        self.id_tokens = self.id_tokens or max(1, self.chargers // 2)


@dataclass
class Fleet:
    """What `seed_fleet` made that a page's URL needs."""

    slug: str
    tenant_id: int
    admin_id: int
    portal_user_id: int
    site_id: int  # an ordinary site, for the site page
    portal_site_id: int  # a site of the portal user's site owner
    charger_id: int  # a charger with a running session and its meter series
    session_id: int  # a completed session with a meter series
    vendor: str
    counts: dict = field(default_factory=dict)


def sql_literal(value) -> str:
    """A constant the seeding SQL can embed (the seed makes every value itself)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, dict | list):
        return sql_literal(json.dumps(value)) + "::jsonb"
    return "'" + str(value).replace("'", "''") + "'"


def insert_select(model, values: dict[str, str], source: str) -> int:
    """`INSERT INTO <model's table> SELECT <values> FROM <source>`; returns the rows made.

    Columns not in `values` get the field's default (NULL, its constant default, now() for
    auto times), so a field added to a model later does not break the seed unless it has no
    default at all, which is reported by name.
    """
    from django.db import connection
    from django.db.models import DateTimeField

    columns, expressions = [], []
    for model_field in model._meta.concrete_fields:
        if model_field.primary_key:
            continue
        if model_field.name in values:
            expression = values[model_field.name]
        elif isinstance(model_field, DateTimeField) and (
            model_field.auto_now or model_field.auto_now_add
        ):
            expression = "now()"
        elif model_field.has_default():
            expression = sql_literal(model_field.get_default())
        elif model_field.null:
            expression = "NULL"
        elif model_field.empty_strings_allowed and model_field.blank:
            expression = "''"
        else:
            raise ValueError(f"{model.__name__}.{model_field.name}: the seed must give a value")
        columns.append(connection.ops.quote_name(model_field.column))
        expressions.append(f"{expression} AS {connection.ops.quote_name(model_field.column)}")
    # Every piece is the seed's own text and numbers, never outside input.
    table = connection.ops.quote_name(model._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(expressions)} FROM {source} ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.rowcount


def array(values: list) -> str:
    return "ARRAY[" + ", ".join(sql_literal(v) for v in values) + "]"


def seed_fleet(*, slug: str, name: str, size: FleetSize, prefix: str, progress=None) -> Fleet:
    """One tenant with `size.chargers` chargers and `size.sessions` sessions of history.

    Django must be set up on a PostgreSQL database. States are spread as in a real fleet:
    about one charger in ten charging (with a running session), one in forty offline, a few
    faulted, unavailable or pending approval; every session belongs to a charger and its site.
    """
    import time

    from django.db import transaction

    from chargers.alerts.models import Alert
    from chargers.models import (
        Charger,
        ChargingSession,
        Command,
        ConnectionEvent,
        Connector,
        IdToken,
        MeterSample,
        StatusEvent,
    )
    from cpms.models import Membership, Role, Site, SiteOwner, Tenant, User
    from cpms.tenancy import scoping

    say = progress or (lambda message: None)
    k, n = size.chargers, size.sessions
    numbered = (
        "(SELECT id, site_id, row_number() OVER (ORDER BY id) AS n "
        "FROM chargers_charger WHERE tenant_id = {t}) AS c"
    )
    with transaction.atomic():
        tenant = Tenant.objects.create(slug=slug, name=name, timezone="Europe/Berlin")
        t = tenant.pk
        numbered = numbered.format(t=t)
        with scoping.scope(tenant):
            owners = SiteOwner.objects.bulk_create(
                SiteOwner(name=f"{name} host {i:03d}", contact_email=f"host{i}@{slug}.example")
                for i in range(1, size.site_owners + 1)
            )
            sites = Site.objects.bulk_create(
                Site(
                    name=f"{name} site {i:04d}",
                    site_owner=owners[i * size.site_owners // size.sites],
                    street=f"{i} Charging Street",
                    postal_code=f"{10000 + i}",
                    city=["Berlin", "Hamburg", "Munich", "Vienna", "Lyon"][i % 5],
                    country=["DE", "DE", "DE", "AT", "FR"][i % 5],
                    timezone=SITE_TIMEZONES[i % 5],
                    grid_limit_kw=Decimal(100 + 50 * (i % 6)) if i % 3 else None,
                )
                for i in range(size.sites)
            )
            admin = User.objects.create_user(email=f"admin@{slug}.bench")
            owner = User.objects.create_user(email=f"owner@{slug}.bench")
            Membership.objects.create(user=admin, role=Role.ADMIN)
            Membership.objects.create(user=owner, role=Role.PORTAL, site_owner=owners[0])
    started = time.monotonic()
    password_hash = hashing.make_hash("bench-charger-key-0123456789")
    sites_sql = f"(SELECT array_agg(id ORDER BY id) AS ids FROM cpms_site WHERE tenant_id = {t}) s"  # noqa: S608, E501
    online = "g % 40 <> 7"
    counts = {"sites": size.sites, "site_owners": size.site_owners}
    counts["chargers"] = insert_select(
        Charger,
        {
            "tenant": str(t),
            "identity": f"{sql_literal(prefix)} || CASE WHEN g < 100000 "
            "THEN lpad(g::text, 5, '0') ELSE g::text END",
            "site": f"CASE WHEN g % 100 = 0 THEN NULL ELSE s.ids[1 + (g - 1) * {size.sites} / {k}] "
            "END",
            "password_hash": sql_literal(password_hash),
            "password_set_at": "now() - interval '200 days'",
            "registration_status": "CASE WHEN g % 500 = 250 THEN 'Pending' ELSE 'Accepted' END",
            "ocpp_version": "CASE WHEN g % 4 = 0 THEN '2.0.1' ELSE '1.6' END",
            "vendor": f"({array(VENDORS)})[1 + g % 6]",
            "model": f"({array(MODELS)})[1 + (g % 6) * 2 + (g / 6) % 2]",
            "serial_number": "'SN' || (1000000 + g)",
            "firmware_version": f"({array(FIRMWARE)})[1 + (g / 7) % 5]",
            "meter_type": "'AC meter'",
            "last_boot_at": "now() - make_interval(days => g % 30)",
            "is_online": online,
            "last_seen": f"CASE WHEN {online} THEN now() - make_interval(secs => g % 300) "
            "ELSE now() - make_interval(hours => 1 + g % 72) END",
            "connected_at": f"CASE WHEN {online} THEN now() - make_interval(days => g % 30) END",
            "node": f"CASE WHEN {online} THEN 'bench:1' ELSE '' END",
            "remote_addr": "'10.0.' || (g / 256 % 256) || '.' || (g % 256)",
            "created_at": "now() - make_interval(days => 200 + g % 100)",
        },
        f"generate_series(1, {k}) AS g CROSS JOIN {sites_sql}",
    )
    # One charger in ten is charging on connector 1; a few are faulted or unavailable.
    charging = "c.n % 10 = 3"
    counts["connectors"] = insert_select(
        Connector,
        {
            "tenant": str(t),
            "charger": "c.id",
            "evse_id": "e",
            "connector_id": "1",
            "status": f"CASE WHEN e = 1 AND {charging} THEN 'Charging' "
            "WHEN e = 2 AND c.n % 97 = 5 THEN 'Faulted' "
            "WHEN c.n % 89 = 6 THEN 'Unavailable' ELSE 'Available' END",
            "error_code": "CASE WHEN e = 2 AND c.n % 97 = 5 THEN 'GroundFailure' "
            "ELSE 'NoError' END",
            "status_at": "now() - make_interval(mins => (c.n % 600)::int)",
        },
        f"{numbered} CROSS JOIN generate_series(1, 2) AS e",
    )
    counts["id_tokens"] = insert_select(
        IdToken,
        {
            "tenant": str(t),
            "uid": f"{sql_literal(prefix)} || 'TAG' || lpad(g::text, 7, '0')",
            "label": "'Driver ' || g",
            "created_at": "now() - interval '300 days'",
        },
        f"generate_series(1, {size.id_tokens}) AS g",
    )
    say(f"{slug}: {k:,} chargers, sites, connectors, tokens ({time.monotonic() - started:.0f} s)")
    tokens = (
        "(SELECT id, uid, row_number() OVER (ORDER BY id) AS n "  # noqa: S608
        f"FROM chargers_idtoken WHERE tenant_id = {t}) AS tok"
    )
    # Sessions g = 0..n-1 go round the chargers in turn, evenly spaced in time up to now; the
    # last round's session of every charging charger is the one running now.
    step = size.days * 86400 / max(n, 1)
    running = f"g >= {n - k} AND {charging}"
    minutes = "(20 + (g::bigint * 7919) % 100)::int"
    power = "(ARRAY[3700, 7400, 11000, 22000])[1 + g % 4]"
    start = (
        f"CASE WHEN {running} THEN now() - make_interval(mins => (5 + c.n % 115)::int) "
        f"ELSE now() - make_interval(secs => ({n} - g) * {step}) END"
    )
    elapsed = f"CASE WHEN {running} THEN (5 + c.n % 115) ELSE {minutes} END"
    energy = f"round({elapsed} * {power} / 60.0 * 0.85)"
    stop = (
        f"CASE WHEN {running} THEN NULL "
        f"ELSE least(now(), {start} + make_interval(mins => {minutes})) END"
    )
    counts["sessions"] = 0
    for first in range(0, n, SESSION_BATCH):
        last = min(n, first + SESSION_BATCH) - 1
        counts["sessions"] += insert_select(
            ChargingSession,
            {
                "tenant": str(t),
                "charger": "c.id",
                "site": "c.site_id",
                "evse_id": f"CASE WHEN {running} THEN 1 ELSE 1 + (g / {k}) % 2 END",
                "connector_id": "1",
                "transaction_id": "(g + 1)::text",
                "state": f"CASE WHEN {running} THEN 'active' ELSE 'completed' END",
                "id_token": "tok.id",
                "id_tag": "tok.uid",
                "auth_status": "'Accepted'",
                "started_at": start,
                "stopped_at": stop,
                "meter_start_wh": f"(g / {k}) * 25000",
                "meter_stop_wh": (
                    f"CASE WHEN {running} THEN NULL ELSE (g / {k}) * 25000 + {energy} END"
                ),
                "meter_last_wh": f"(g / {k}) * 25000 + {energy}",
                "power_w": f"CASE WHEN {running} THEN {power} END",
                "energy_wh": energy,
                "stop_reason": f"CASE WHEN {running} THEN '' ELSE "
                "(ARRAY['EVDisconnected', 'Local', 'Local', 'Remote', 'PowerLoss'])[1 + g % 5] END",
                "charging_state": f"CASE WHEN {running} THEN 'Charging' ELSE '' END",
                "updated_at": f"coalesce({stop}, now())",
            },
            f"generate_series({first}, {last}) AS g JOIN {numbered} ON c.n = g % {k} + 1 "
            f"JOIN {tokens} ON tok.n = g % {size.id_tokens} + 1",
        )
        say(
            f"{slug}: {counts['sessions']:,} of {n:,} sessions ({time.monotonic() - started:.0f} s)"
        )
    with scoping.scope(tenant):
        half = max(1, size.sampled_sessions // 2)
        live = list(
            ChargingSession.objects.filter(state="active")
            .order_by("charger_id")
            .values_list("id", flat=True)[:half]
        )
        done = list(
            ChargingSession.objects.filter(state="completed")
            .order_by("-started_at")
            .values_list("id", flat=True)[: size.sampled_sessions - len(live)]
        )
    sampled = live + done
    # A MeterValues every 30 s with seven values, for the whole of each sampled session.
    counts["meter_samples"] = insert_select(
        MeterSample,
        {
            "tenant": str(t),
            "charger": "cs.charger_id",
            "session": "cs.id",
            "evse_id": "cs.evse_id",
            "timestamp": "cs.started_at + make_interval(secs => j * 30)",
            "measurand": "m.measurand",
            "phase": "m.phase",
            "location": "m.location",
            "context": "'Sample.Periodic'",
            "unit": "m.unit",
            "value": "CASE m.measurand "
            "WHEN 'Energy.Active.Import.Register' THEN cs.meter_start_wh + j * 30 * 11000 / 3600.0 "
            "WHEN 'Power.Active.Import' THEN 11000 - (j % 7) * 40 "
            "WHEN 'Current.Import' THEN 15.9 - (j % 7) * 0.05 "
            "WHEN 'Voltage' THEN 229 + j % 4 ELSE least(100, 20 + j / 4) END",
        },
        "chargers_chargingsession AS cs CROSS JOIN LATERAL generate_series(0, "
        "(extract(epoch FROM coalesce(cs.stopped_at, now()) - cs.started_at) / 30)::int) AS j "
        "CROSS JOIN (VALUES "
        + ", ".join(
            f"({sql_literal(a)}, {sql_literal(b)}, {sql_literal(c)}, {sql_literal(d)})"
            for a, b, c, d in MEASURANDS
        )
        + ") AS m(measurand, phase, location, unit) "
        + f"WHERE cs.id IN ({', '.join(map(str, sampled)) or 'NULL'})",
    )
    # Status history: the last event of each connector is its present status.
    e = size.status_events
    at = f"now() - interval '90 days' + make_interval(secs => j * {90 * 86400 // (e + 1)} + co.id % 3600)"  # noqa: E501
    counts["status_events"] = insert_select(
        StatusEvent,
        {
            "tenant": str(t),
            "charger": "co.charger_id",
            "evse_id": "co.evse_id",
            "connector_id": "co.connector_id",
            "status": f"CASE WHEN j = {e} THEN co.status WHEN (co.id + j) % 17 = 0 THEN 'Faulted' "
            "WHEN j % 3 = 1 THEN 'Preparing' WHEN j % 3 = 2 THEN 'Charging' ELSE 'Available' END",
            "error_code": "'NoError'",
            "timestamp": at,
            "received_at": at,
        },
        f"chargers_connector AS co CROSS JOIN generate_series(1, {e}) AS j "
        f"WHERE co.tenant_id = {t}",
    )
    counts["connection_events"] = insert_select(
        ConnectionEvent,
        {
            "tenant": str(t),
            "charger": "c.id",
            "connected_at": "now() - make_interval(days => j * 7 + (c.n % 7)::int)",
            "disconnected_at": "CASE WHEN j > 0 THEN now() - make_interval(days => j * 7) END",
            "ocpp_version": "'1.6'",
            "remote_addr": "'10.0.0.1'",
            "node": "'bench:1'",
            "close_reason": "CASE WHEN j > 0 THEN 'closed by the charger' ELSE '' END",
        },
        f"{numbered} CROSS JOIN generate_series(0, 3) AS j",
    )
    counts["commands"] = insert_select(
        Command,
        {
            "tenant": str(t),
            "charger": "c.id",
            "action": "(ARRAY['Reset', 'GetConfiguration', 'TriggerMessage', 'UnlockConnector'])"
            "[1 + j % 4]",
            "source": "'dashboard'",
            "status": "'answered'",
            "response": """'{"status": "Accepted"}'::jsonb""",
            "created_at": "now() - make_interval(hours => j)",
            "sent_at": "now() - make_interval(hours => j)",
            "completed_at": "now() - make_interval(hours => j) + interval '300 milliseconds'",
        },
        f"{numbered} CROSS JOIN generate_series(1, 25) AS j WHERE c.n <= 20",
    )
    # Open alerts for the offline chargers and faulted connectors; a history of resolved ones.
    alert = {
        "tenant": str(t),
        "severity": "'warning'",
        "opened_at": "now() - make_interval(hours => (c.n % 48)::int)",
        "charger": "c.id",
    }
    counts["alerts"] = insert_select(
        Alert,
        {
            **alert,
            "kind": "'charger_offline'",
            "subject": "'charger:' || c.id",
            "title": "'Charger offline'",
            "detail": "'No heartbeat for three intervals.'",
        },
        f"{numbered} WHERE c.n % 40 = 7",
    )
    counts["alerts"] += insert_select(
        Alert,
        {
            **alert,
            "kind": "'connector_faulted'",
            "severity": "'critical'",
            "subject": "'connector:' || c.id || '/2/1'",
            "title": "'Connector 2 faulted'",
            "detail": "'GroundFailure'",
            "evse_id": "2",
            "connector_id": "1",
        },
        f"{numbered} WHERE c.n % 97 = 5",
    )
    counts["alerts"] += insert_select(
        Alert,
        {
            **alert,
            "kind": "'charger_offline'",
            "subject": "'charger:' || c.id",
            "title": "'Charger offline'",
            "opened_at": "now() - make_interval(days => j * 11 + (c.n % 5)::int)",
            "resolved_at": "now() - make_interval(days => j * 11)",
        },
        f"{numbered} CROSS JOIN generate_series(1, 5) AS j WHERE c.n % 4 = 1",
    )
    say(f"{slug}: samples, status history, alerts ({time.monotonic() - started:.0f} s)")
    with scoping.scope(tenant):
        charger_id = (
            ChargingSession.objects.filter(pk__in=live).values_list("charger_id", flat=True).first()
        )
        portal_site = Site.objects.filter(site_owner=owners[0]).order_by("pk").first()
    return Fleet(
        slug=slug,
        tenant_id=t,
        admin_id=admin.pk,
        portal_user_id=owner.pk,
        site_id=sites[len(sites) // 2].pk,
        portal_site_id=portal_site.pk,
        charger_id=charger_id
        or Charger.objects.filter(tenant_id=t).values_list("pk", flat=True).first(),
        session_id=(done or live)[0],
        vendor=VENDORS[3 % len(VENDORS)],
        counts=counts,
    )


def analyze(tables: list[str]) -> None:
    """Refresh the planner's statistics and the visibility map after a bulk load, as
    autovacuum would soon after in production (index-only scans need the latter)."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table)}")


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--tags", required=True, help="Comma-separated id tags.")
    options = parser.parse_args()
    seed(
        tenant_slug=options.tenant,
        prefix=options.prefix,
        count=options.count,
        password=options.password,
        tags=options.tags.split(","),
    )


if __name__ == "__main__":
    run()
