"""Every write the OCPP layer and the dashboards make about chargers, in one place.

Functions are keyword-only and synchronous; OCPP handlers call them through
`database_sync_to_async`. Each runs in the caller's tenant scope and in a transaction where two
sockets or workers could race.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from chargers import credentials
from chargers.events import publish
from chargers.models import (
    Charger,
    ChargerBoot,
    ChargerEvent,
    ChargingSession,
    ConnectionEvent,
    Connector,
    DeviceModelVariable,
    EventKind,
    HandshakeRefusal,
    IdToken,
    MeterSample,
    OcppMessage,
    RegistrationStatus,
    SessionState,
    StatusEvent,
    TransactionEventRecord,
)
from cpms.models import Tenant
from cpms.tenancy import scoping
from cpms.tenancy.rows import insert_rows, locked_row, one_row

# A timestamp more than this far from the server's clock is kept as sent but flagged.
CLOCK_TOLERANCE_FUTURE = timedelta(days=1)
EARLIEST_PLAUSIBLE = datetime(2010, 1, 1, tzinfo=UTC)


def is_suspect(at: datetime, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return at > now + CLOCK_TOLERANCE_FUTURE or at < EARLIEST_PLAUSIBLE


# --- Handshake and connections ----------------------------------------------------------------


def find_charger_for_handshake(*, tenant_slug: str, identity: str) -> Charger | None:
    """The charger an OCPP URL names, with its tenant, if that tenant is active: one query
    for the whole door on every connection of a fleet. The slug names the tenant, so the
    lookup runs unscoped and filters by it."""
    with scoping.unscoped():
        return (
            Charger.objects.select_related("tenant")
            .filter(identity=identity, tenant__slug=tenant_slug, tenant__is_active=True)
            .first()
        )


def register_pending_charger(*, tenant: Tenant, identity: str, password: str) -> Charger:
    """An unknown charger with the tenant's onboarding password, waiting for approval.

    It keeps the onboarding password until an operator sets its own.
    """
    charger, _ = Charger.objects.get_or_create(
        identity=identity,
        defaults={
            "registration_status": RegistrationStatus.PENDING,
            "password_hash": credentials.make_hash(password),
            "password_set_at": timezone.now(),
        },
    )
    return charger


def record_refusal(
    *,
    tenant: Tenant | None,
    tenant_slug: str,
    identity: str,
    remote_addr: str,
    reason: str,
    detail: str = "",
) -> None:
    refusal = HandshakeRefusal(
        tenant=tenant,
        tenant_slug=tenant_slug[:100],
        identity=identity[:100],
        remote_addr=remote_addr[:64],
        reason=reason,
        detail=detail[:255],
        at=timezone.now(),
    )
    refusal.save()
    publish(
        "handshake.refused",
        tenant_id=tenant.pk if tenant else None,
        reason=reason,
        identity=refusal.identity,
        remote_addr=refusal.remote_addr,
        at=refusal.at.isoformat(),
    )


@transaction.atomic
def connection_opened(
    *,
    charger_id: int,
    channel_name: str,
    node: str,
    remote_addr: str,
    version: str,
    known: Charger | None = None,
) -> tuple[str, int]:
    """Make this socket the charger's socket; return the channel of the one it replaces.

    `known` is the charger as the handshake read it. While the socket it names is still the
    recorded one, a conditional UPDATE takes over without reading and locking the row first;
    when another socket came or went since, the row is read under its lock.
    """
    now = timezone.now()
    state = {
        "channel_name": channel_name,
        "node": node,
        "remote_addr": remote_addr,
        "is_online": True,
        "connected_at": now,
        "last_seen": now,
        "ocpp_version": version,
    }
    charger = known
    taken = charger is not None and Charger.objects.filter(
        pk=charger_id, channel_name=charger.channel_name
    ).update(**state)
    if not taken:
        charger = Charger.objects.select_for_update().get(pk=charger_id)
        Charger.objects.filter(pk=charger_id).update(**state)
    previous = charger.channel_name
    # Only a charger with a socket recorded can have a connection left open: connection_closed
    # closes the socket's record before it clears the channel, and each new socket closes all
    # older records. A fleet that went away cleanly reconnects without this UPDATE.
    if previous:
        ConnectionEvent.objects.filter(charger_id=charger_id, disconnected_at__isnull=True).update(
            disconnected_at=now, close_reason="replaced by a new connection"
        )
    event = ConnectionEvent.objects.create(
        charger_id=charger_id,
        tenant_id=charger.tenant_id,
        connected_at=now,
        node=node,
        remote_addr=remote_addr,
        ocpp_version=version,
    )
    publish(
        "charger.online",
        tenant_id=charger.tenant_id,
        charger_id=charger_id,
        identity=charger.identity,
        ocpp_version=version,
    )
    return (previous if previous != channel_name else ""), event.pk


def connection_closed(
    *, charger_id: int, channel_name: str, connection_event_id: int, reason: str
) -> None:
    """Mark the charger offline, unless a newer socket has taken over already."""
    now = timezone.now()
    ConnectionEvent.objects.filter(pk=connection_event_id, disconnected_at__isnull=True).update(
        disconnected_at=now, close_reason=reason[:100]
    )
    went_offline = Charger.objects.filter(pk=charger_id, channel_name=channel_name).update(
        is_online=False, channel_name="", last_seen=now
    )
    if went_offline:
        publish_offline(Charger.objects.only("tenant_id", "identity").get(pk=charger_id))


def publish_offline(charger: Charger) -> None:
    publish(
        "charger.offline",
        tenant_id=charger.tenant_id,
        charger_id=charger.pk,
        identity=charger.identity,
    )


def touch(*, charger_id: int) -> None:
    """Any inbound frame proves the charger is alive, even one marked offline for silence."""
    now = timezone.now()
    back = Charger.objects.filter(pk=charger_id, is_online=False).update(
        last_seen=now, is_online=True
    )
    if back:
        charger = Charger.objects.only("tenant_id", "identity").get(pk=charger_id)
        publish(
            "charger.online",
            tenant_id=charger.tenant_id,
            charger_id=charger_id,
            identity=charger.identity,
        )
    else:
        Charger.objects.filter(pk=charger_id).update(last_seen=now)


def touch_many(*, charger_ids: set[int]) -> None:
    """The liveness of every charger a process heard from lately, in one write: any frame
    proves a charger alive, even one marked offline for silence."""
    now = timezone.now()
    with scoping.unscoped():
        Charger.objects.filter(pk__in=charger_ids, is_online=True).update(last_seen=now)
        for charger_id in Charger.objects.filter(pk__in=charger_ids, is_online=False).values_list(
            "pk", flat=True
        ):
            touch(charger_id=charger_id)


def log_messages(rows: list[dict]) -> None:
    """Store message-log rows (dicts of OcppMessage fields, tenant included)."""
    insert_rows(OcppMessage, rows)


# --- Boot, heartbeat, status --------------------------------------------------------------------

BOOT_FIELDS = [
    "vendor",
    "model",
    "serial_number",
    "charge_box_serial_number",
    "firmware_version",
    "iccid",
    "imsi",
    "meter_type",
    "meter_serial_number",
]
PENDING_RETRY_SECONDS = 60
REJECTED_RETRY_SECONDS = 3600


@dataclass
class BootAnswer:
    status: str
    interval: int


# No savepoint: the OCPP handlers call this inside their message's transaction, which rolls
# back as a whole when anything here fails.
@transaction.atomic(savepoint=False)
def record_boot(*, charger_id: int, reported: dict, reason: str = "") -> BootAnswer:
    """Keep what the charger says about itself, with the history of what changed."""
    # Only the charger's row is locked: locking its tenant's too would queue every boot of
    # the tenant behind the others (a fleet rebooting after a power cut).
    charger = (
        Charger.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=charger_id)
    )
    previous_boot_at = charger.last_boot_at
    reported = {
        k: (v or "")[: Charger._meta.get_field(k).max_length]
        for k, v in reported.items()
        if k in BOOT_FIELDS
    }
    changes = {k: [getattr(charger, k), v] for k, v in reported.items() if getattr(charger, k) != v}
    now = timezone.now()
    for field, value in reported.items():
        setattr(charger, field, value)
    charger.last_boot_at = now
    charger.last_seen = now
    charger.save(update_fields=[*reported, "last_boot_at", "last_seen"])
    status = charger.registration_status
    ChargerBoot.objects.create(
        charger=charger, at=now, reason=reason, reported=reported, changes=changes, answered=status
    )
    publish(
        "charger.boot",
        tenant_id=charger.tenant_id,
        charger_id=charger.pk,
        identity=charger.identity,
        status=status,
        changes=changes,
        firmware_version=charger.firmware_version,
        previous_boot_at=previous_boot_at.isoformat() if previous_boot_at else None,
    )
    interval = {
        RegistrationStatus.ACCEPTED: charger.tenant.heartbeat_interval,
        RegistrationStatus.PENDING: PENDING_RETRY_SECONDS,
    }.get(status, REJECTED_RETRY_SECONDS)
    return BootAnswer(status=status, interval=interval)


def registration_status(*, charger_id: int) -> str:
    return Charger.objects.values_list("registration_status", flat=True).get(pk=charger_id)


@transaction.atomic
def record_status(
    *,
    charger_id: int,
    evse_id: int,
    connector_id: int,
    status: str,
    error_code: str = "",
    info: str = "",
    vendor_id: str = "",
    vendor_error_code: str = "",
    timestamp: datetime | None = None,
) -> None:
    now = timezone.now()
    at = timestamp or now
    values = {
        "status": status,
        "error_code": error_code or "",
        "info": info or "",
        "vendor_id": vendor_id or "",
        "vendor_error_code": vendor_error_code or "",
    }
    StatusEvent.objects.create(
        charger_id=charger_id,
        evse_id=evse_id,
        connector_id=connector_id,
        timestamp=at,
        timestamp_suspect=is_suspect(at, now),
        received_at=now,
        **values,
    )
    connector, created = Connector.objects.get_or_create(
        charger_id=charger_id,
        evse_id=evse_id,
        connector_id=connector_id,
        defaults={**values, "status_at": at},
    )
    # Statuses may arrive out of order after an offline period; the newest one wins. One
    # conditional UPDATE, so that two sockets of a reconnecting charger cannot interleave.
    if not created:
        newer = Q(status_at__isnull=True) | Q(status_at__lte=at)
        if not Connector.objects.filter(newer, pk=connector.pk).update(**values, status_at=at):
            return
    publish(
        "connector.status",
        tenant_id=connector.tenant_id,
        charger_id=charger_id,
        evse_id=evse_id,
        connector_id=connector_id,
        at=at.isoformat(),
        **values,
    )


# --- Id tokens ---------------------------------------------------------------------------------


@dataclass
class TokenInfo:
    status: str  # Accepted, Blocked, Expired, Invalid
    token: IdToken | None = None
    expires_at: datetime | None = None
    group_uid: str | None = None


def authorize(*, id_tag: str) -> TokenInfo:
    """The tenant's verdict on an id token; unknown tokens are Invalid."""
    # Asked up to three times per session (Authorize, start, stop): one fixed statement.
    token = one_row(IdToken, ignore_case=True, uid=id_tag)
    if token is None:
        return TokenInfo(status="Invalid")
    status = token.status()
    if status == "Accepted" and token.group is not None and token.group.status() != "Accepted":
        status = token.group.status()
    return TokenInfo(
        status=status,
        token=token,
        expires_at=token.expires_at,
        group_uid=token.group.uid if token.group else None,
    )


# --- Sessions ----------------------------------------------------------------------------------


@dataclass
class StartAnswer:
    session: ChargingSession
    token: TokenInfo


def start_transaction_v16(
    *,
    charger_id: int,
    connector_id: int,
    id_tag: str,
    meter_start: int,
    timestamp: datetime,
    reservation_id: int | None = None,
) -> StartAnswer:
    """A 1.6 StartTransaction. A resend of the same start returns the same session and id."""
    token = authorize(id_tag=id_tag)
    dedupe_key = f"{connector_id}|{timestamp.isoformat()}|{meter_start}|{id_tag.upper()}"
    existing = one_row(ChargingSession, charger_id=charger_id, dedupe_key=dedupe_key)
    if existing is not None:
        return StartAnswer(session=existing, token=token)
    charger = one_row(Charger, id=charger_id)
    try:
        with transaction.atomic():
            session = ChargingSession.objects.create(
                charger_id=charger_id,
                site_id=charger.site_id,
                evse_id=connector_id,
                connector_id=1 if connector_id else 0,
                dedupe_key=dedupe_key,
                id_token=token.token,
                id_tag=id_tag,
                auth_status=token.status,
                reservation_id=reservation_id,
                started_at=timestamp,
                timestamp_suspect=is_suspect(timestamp),
                meter_start_wh=Decimal(meter_start),
                meter_last_wh=Decimal(meter_start),
            )
            # The 1.6 transaction id is ours to choose: the row's id is unique and stable.
            session.transaction_id = str(session.pk)
            ChargingSession.objects.filter(pk=session.pk).update(
                transaction_id=session.transaction_id
            )
            publish_session("session.started", session)
    except IntegrityError:
        # Two sockets of the same charger raced with the same resend.
        session = ChargingSession.objects.get(charger_id=charger_id, dedupe_key=dedupe_key)
    return StartAnswer(session=session, token=token)


@transaction.atomic
def stop_transaction(
    *,
    charger_id: int,
    transaction_id: str,
    meter_stop: Decimal | None,
    timestamp: datetime,
    reason: str = "",
    id_tag: str = "",
    samples: list[dict] | None = None,
    payload: dict | None = None,
) -> tuple[ChargingSession | None, TokenInfo | None]:
    """Close a session. A resend changes nothing; an unknown id is kept aside, not an error."""
    token = authorize(id_tag=id_tag) if id_tag else None
    session = _locked_session(charger_id, transaction_id)
    if session is None:
        _keep_aside(charger_id, f"Stop of unknown transaction {transaction_id}", payload, timestamp)
        return None, token
    if samples:
        store_samples(
            charger_id=charger_id, evse_id=session.evse_id, session=session, samples=samples
        )
        update_session_meter(session, samples)
    if session.state == SessionState.COMPLETED:
        return session, token
    session.state = SessionState.COMPLETED
    session.stopped_at = timestamp
    session.stop_reason = reason or "Local"
    session.stop_id_tag = id_tag or ""
    session.timestamp_suspect = session.timestamp_suspect or is_suspect(timestamp)
    if meter_stop is not None:
        session.meter_stop_wh = meter_stop
        session.meter_last_wh = meter_stop
    session.energy_wh = session_energy(session)
    session.power_w = None
    session.save()
    publish_session("session.stopped", session)
    return session, token


def publish_session(name: str, session: ChargingSession) -> None:
    publish(
        name,
        tenant_id=session.tenant_id,
        session_id=session.pk,
        charger_id=session.charger_id,
        transaction_id=session.transaction_id,
        evse_id=session.evse_id,
        id_tag=session.id_tag,
        state=session.state,
        energy_wh=str(session.energy_wh),
        power_w=None if session.power_w is None else str(session.power_w),
        started_at=session.started_at.isoformat(),
        stopped_at=session.stopped_at.isoformat() if session.stopped_at else None,
        stop_reason=session.stop_reason,
    )


def _locked_session(charger_id: int, transaction_id: str) -> ChargingSession | None:
    return locked_row(ChargingSession, charger_id=charger_id, transaction_id=transaction_id)


def _keep_aside(charger_id: int, summary: str, payload: dict | None, at=None) -> None:
    """A message about a transaction we do not know: answered, and kept for an operator."""
    record_event(
        charger_id=charger_id,
        kind=EventKind.UNMATCHED,
        summary=summary,
        payload=payload or {},
        at=at,
    )


def session_energy(session: ChargingSession) -> Decimal:
    end = session.meter_stop_wh if session.meter_stop_wh is not None else session.meter_last_wh
    if end is None or session.meter_start_wh is None:
        return session.energy_wh
    return max(end - session.meter_start_wh, Decimal(0))


# --- Meter values ------------------------------------------------------------------------------

ENERGY = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"
TO_BASE_UNIT = {"Wh": 1, "kWh": 1000, "W": 1, "kW": 1000}


def to_decimal(value) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def store_samples(
    *, charger_id: int, evse_id: int, session: ChargingSession | None, samples: list[dict]
) -> None:
    """Insert normalised samples; resends hit the unique constraint and are skipped.

    A sample is a dict with timestamp, measurand, phase, location, context, unit, value and
    signed_data.
    """
    now = timezone.now()
    tenant_id = session.tenant_id if session else _tenant_of(charger_id)
    rows = [
        {
            "tenant_id": tenant_id,
            "charger_id": charger_id,
            "session_id": session.pk if session else None,
            "evse_id": evse_id,
            "timestamp": s["timestamp"],
            "timestamp_suspect": is_suspect(s["timestamp"], now),
            "measurand": s["measurand"],
            "phase": s["phase"],
            "location": s["location"],
            "context": s["context"],
            "unit": s["unit"],
            "value": s["value"],
            "signed_data": s["signed_data"],
        }
        for s in samples
    ]
    insert_rows(MeterSample, rows, ignore_conflicts=True)


def _tenant_of(charger_id: int) -> int:
    # The socket's scope names the tenant already; only work outside one reads it.
    tenant = scoping.current_tenant()
    if tenant is not None:
        return tenant.pk
    return Charger.objects.values_list("tenant_id", flat=True).get(pk=charger_id)


def update_session_meter(session: ChargingSession, samples: list[dict]) -> None:
    """The live figures of a running session: latest register reading and power."""
    latest = max(samples, key=lambda s: s["timestamp"])["timestamp"]
    changed = []
    for sample in samples:
        if sample["phase"] or sample["value"] is None or sample["location"] not in ("", "Outlet"):
            continue
        factor = TO_BASE_UNIT.get(sample["unit"] or "Wh")
        if factor is None:
            continue
        value = sample["value"] * factor
        if sample["measurand"] == ENERGY and (
            session.meter_last_wh is None or value > session.meter_last_wh
        ):
            session.meter_last_wh = value
            changed.append("meter_last_wh")
        elif (
            sample["measurand"] == POWER
            and session.state == SessionState.ACTIVE
            and sample["timestamp"] == latest
        ):
            session.power_w = value
            changed.append("power_w")
    if "meter_last_wh" in changed and session.state == SessionState.ACTIVE:
        session.energy_wh = session_energy(session)
        changed.append("energy_wh")
    if changed:
        session.save(update_fields=[*set(changed), "updated_at"])
        publish_session("session.updated", session)


@transaction.atomic
def record_meter_values(
    *, charger_id: int, evse_id: int, transaction_id: str | None, samples: list[dict], payload: dict
) -> None:
    session = None
    if transaction_id:
        session = _locked_session(charger_id, transaction_id)
        if session is None:
            _keep_aside(
                charger_id, f"Meter values for unknown transaction {transaction_id}", payload
            )
    store_samples(charger_id=charger_id, evse_id=evse_id, session=session, samples=samples)
    if session is not None and samples:
        update_session_meter(session, samples)


# --- Other notifications -----------------------------------------------------------------------


def record_event(
    *,
    charger_id: int,
    kind: str,
    summary: str = "",
    payload: dict | None = None,
    critical: bool = False,
    at: datetime | None = None,
) -> ChargerEvent:
    event = ChargerEvent.objects.create(
        charger_id=charger_id,
        kind=kind,
        summary=summary[:255],
        payload=payload or {},
        critical=critical,
        at=at or timezone.now(),
    )
    publish(
        "charger.event",
        tenant_id=event.tenant_id,
        charger_id=charger_id,
        event_id=event.pk,
        kind=kind,
        summary=event.summary,
        critical=critical,
        at=event.at.isoformat(),
    )
    return event


def set_charger_status_field(*, charger_id: int, field: str, value: str) -> None:
    Charger.objects.filter(pk=charger_id).update(**{field: value[:40]})


# --- Operator actions --------------------------------------------------------------------------


def set_password(*, charger: Charger, password: str | None = None) -> str:
    """Set or rotate a charger's password; returns it (shown to the operator once)."""
    password = password or credentials.generate()
    problem = credentials.validate(password)
    if problem:
        raise ValueError(problem)
    _store_password(charger.pk, password)
    return password


def set_onboarding_password(*, tenant: Tenant, password: str | None) -> str | None:
    if password is None:
        Tenant.objects.filter(pk=tenant.pk).update(onboarding_password_hash="")
        return None
    problem = credentials.validate(password)
    if problem:
        raise ValueError(problem)
    Tenant.objects.filter(pk=tenant.pk).update(
        onboarding_password_hash=credentials.make_hash(password)
    )
    return password


def set_registration(*, charger: Charger, status: str) -> None:
    """Approve (Accepted) or reject a charger; the socket's consumer picks it up at once."""
    Charger.objects.filter(pk=charger.pk).update(registration_status=status)
    charger.registration_status = status
    from chargers.commands import notify_consumer

    notify_consumer(charger, {"type": "charger.changed"})


# --- OCPP 2.0.1 transactions and device model ---------------------------------------------------


@dataclass
class TransactionEventAnswer:
    session: ChargingSession
    token: TokenInfo | None
    duplicate: bool


@transaction.atomic
def transaction_event(
    *,
    charger_id: int,
    transaction_id: str,
    event_type: str,
    seq_no: int,
    timestamp: datetime,
    trigger_reason: str,
    offline: bool = False,
    evse_id: int | None = None,
    connector_id: int | None = None,
    id_tag: str | None = None,
    charging_state: str | None = None,
    stopped_reason: str | None = None,
    remote_start_id: int | None = None,
    reservation_id: int | None = None,
    samples: list[dict] | None = None,
) -> TransactionEventAnswer:
    """A 2.0.1 TransactionEvent: Started, Updated or Ended, in any order, any number of times.

    The session is found or created by its transaction id, whichever event arrives first (a
    queued Ended after a long offline period still closes it). A resend (same seqNo) changes
    nothing. Energy is the last register reading minus the first.
    """
    now = timezone.now()
    token = authorize(id_tag=id_tag) if id_tag else None
    charger = Charger.objects.only("site_id", "tenant_id").get(pk=charger_id)
    session, created = ChargingSession.objects.select_for_update().get_or_create(
        charger_id=charger_id,
        transaction_id=transaction_id,
        defaults={
            "site_id": charger.site_id,
            "evse_id": evse_id or 0,
            "connector_id": connector_id or (1 if evse_id else 0),
            "started_at": timestamp,
            "timestamp_suspect": is_suspect(timestamp, now),
        },
    )
    try:
        with transaction.atomic():
            TransactionEventRecord.objects.create(
                session=session,
                seq_no=seq_no,
                event_type=event_type,
                trigger_reason=trigger_reason,
                timestamp=timestamp,
                offline=offline,
                received_at=now,
            )
    except IntegrityError:
        return TransactionEventAnswer(session=session, token=token, duplicate=True)

    if timestamp < session.started_at and not created:
        # An earlier event delivered late: the session began when it says.
        session.started_at = timestamp
    if evse_id and not session.evse_id:
        session.evse_id, session.connector_id = evse_id, connector_id or 1
    if token is not None and not session.id_tag:
        session.id_tag, session.id_token, session.auth_status = id_tag, token.token, token.status
    if charging_state:
        session.charging_state = charging_state
    if remote_start_id is not None:
        session.remote_start_id = remote_start_id
    if reservation_id is not None:
        session.reservation_id = reservation_id
    session.timestamp_suspect = session.timestamp_suspect or is_suspect(timestamp, now)
    if samples:
        store_samples(
            charger_id=charger_id, evse_id=session.evse_id, session=session, samples=samples
        )
        _follow_register(session, samples)
    ending = event_type == "Ended" and session.state != SessionState.COMPLETED
    if ending:
        session.state = SessionState.COMPLETED
        session.stopped_at = timestamp
        session.stop_reason = stopped_reason or "Local"
        session.meter_stop_wh = session.meter_last_wh
        session.power_w = None
    elif event_type == "Ended" and timestamp > (session.stopped_at or timestamp):
        session.stopped_at = timestamp
    session.energy_wh = session_energy(session)
    session.save()
    if created:
        publish_session("session.started", session)
    publish_session("session.stopped" if ending else "session.updated", session)
    return TransactionEventAnswer(session=session, token=token, duplicate=False)


def _follow_register(session: ChargingSession, samples: list[dict]) -> None:
    """Track a 2.0.1 session's meter from samples that may arrive out of order: the session
    starts at its lowest register reading and has reached its highest."""
    readings = []
    for sample in samples:
        factor = TO_BASE_UNIT.get(sample["unit"] or "Wh")
        if (
            sample["measurand"] == ENERGY
            and not sample["phase"]
            and factor
            and sample["value"] is not None
            and sample["location"] in ("", "Outlet")
        ):
            readings.append((sample["timestamp"], sample["value"] * factor))
        elif (
            sample["measurand"] == POWER
            and not sample["phase"]
            and factor
            and sample["value"] is not None
            and session.state == SessionState.ACTIVE
        ):
            session.power_w = sample["value"] * factor
    if not readings:
        return
    first, last = min(readings)[1], max(readings)[1]
    if session.meter_start_wh is None or first < session.meter_start_wh:
        session.meter_start_wh = first
    if session.meter_last_wh is None or last > session.meter_last_wh:
        session.meter_last_wh = last


def store_device_model(*, charger_id: int, report_data: list[dict]) -> int:
    """Upsert the variables of a NotifyReport (camelCase, as sent); returns how many."""
    count = 0
    for item in report_data:
        characteristics = item.get("variableCharacteristics") or {}
        for attribute in item.get("variableAttribute") or []:
            _store_variable(
                charger_id,
                item["component"],
                item["variable"],
                attribute.get("type", "Actual"),
                {
                    "value": str(attribute.get("value", ""))[:2500],
                    "mutability": attribute.get("mutability", ""),
                    "persistent": attribute.get("persistent"),
                    "constant": attribute.get("constant"),
                    "characteristics": characteristics,
                },
            )
            count += 1
    return count


def store_variable_values(*, charger_id: int, results: list[dict]) -> None:
    """Keep the values a GetVariables reply returned as Accepted (camelCase, as sent)."""
    for result in results:
        if result.get("attributeStatus") != "Accepted" or "attributeValue" not in result:
            continue
        _store_variable(
            charger_id,
            result["component"],
            result["variable"],
            result.get("attributeType", "Actual"),
            {"value": str(result["attributeValue"])[:2500]},
        )


def variable_key(component: dict, variable: dict, attribute_type: str | None) -> dict:
    """How 2.0.1 identifies one device-model attribute (component and variable with their
    instances, the component's EVSE and connector, the attribute type, Actual when absent),
    from a payload's camelCase parts, as DeviceModelVariable's fields in their model order."""
    evse = component.get("evse") or {}
    return {
        "component": component.get("name", ""),
        "component_instance": component.get("instance", ""),
        "evse_id": evse.get("id", 0),
        "connector_id": evse.get("connectorId", 0),
        "variable": variable.get("name", ""),
        "variable_instance": variable.get("instance", ""),
        "attribute_type": attribute_type or "Actual",
    }


def _store_variable(
    charger_id: int, component: dict, variable: dict, attribute_type: str, values: dict
) -> None:
    """Upsert one attribute, identified as 2.0.1 identifies it (`variable_key`)."""
    DeviceModelVariable.objects.update_or_create(
        charger_id=charger_id,
        **variable_key(component, variable, attribute_type),
        defaults=values,
    )


def learn_from_reply(*, charger_id: int, action: str, payload: dict, reply: dict) -> None:
    """Facts a command's reply establishes, kept where the rest of the charger's state is.

    A charger that accepts a new basic-auth password (1.6 AuthorizationKey, 2.0.1
    SecurityCtrlr.BasicAuthPassword) uses it from its next connection on, so the stored hash
    must follow at once or the charger would be locked out.
    """
    if action == "ChangeConfiguration" and payload.get("key") == "AuthorizationKey":
        if reply.get("status") == "Accepted":
            _store_password(charger_id, payload["value"])
    elif action == "SetVariables":
        results = reply.get("setVariableResult") or []
        for data, result in zip(payload.get("setVariableData") or [], results, strict=False):
            if result.get("attributeStatus") != "Accepted":
                continue
            if data.get("variable", {}).get("name") == "BasicAuthPassword":
                _store_password(charger_id, data["attributeValue"])
            else:
                # The device model shows what the charger now holds, as a GetVariables would.
                _store_variable(
                    charger_id,
                    data["component"],
                    data["variable"],
                    data.get("attributeType", "Actual"),
                    {"value": str(data["attributeValue"])[:2500]},
                )
    elif action == "GetVariables":
        store_variable_values(charger_id=charger_id, results=reply.get("getVariableResult") or [])


def _store_password(charger_id: int, password: str) -> None:
    Charger.objects.filter(pk=charger_id).update(
        password_hash=credentials.make_hash(password), password_set_at=timezone.now()
    )
