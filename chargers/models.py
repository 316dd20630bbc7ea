"""Chargers' world: id tokens now; chargers, connectors, sessions and samples with OCPP."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from chargers.tags import validate_tags
from cpms.tenancy.scoping import TenantOwned, log_tenant


class IdTokenType(models.TextChoices):
    """OCPP 2.0.1 IdTokenEnumType; 1.6 idTags are stored as ISO14443 unless told otherwise."""

    ISO14443 = "ISO14443", _("RFID (ISO 14443)")
    ISO15693 = "ISO15693", _("RFID (ISO 15693)")
    EMAID = "eMAID", _("Contract (eMAID)")
    CENTRAL = "Central", _("Central (app, remote start)")
    KEY_CODE = "KeyCode", _("Key code")
    LOCAL = "Local", _("Local")
    MAC_ADDRESS = "MacAddress", _("MAC address")
    NO_AUTHORIZATION = "NoAuthorization", _("No authorization")


class IdTokenStatus(models.TextChoices):
    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"


def validate_token_uid(value: str) -> None:
    """The one rule for an id token's uid (OCPP 2.0.1 IdToken: up to 36 characters)."""
    if not value or len(value) > 36 or not value.isprintable() or " " in value:
        raise ValidationError(
            gettext("A token is 1 to 36 printable characters without spaces."),
            code="invalid_token",
        )


class IdToken(TenantOwned):
    """An RFID card, app account or key code the tenant accepts for charging.

    Chargers are inconsistent about case and type for the same card (a reader may report
    `Local` in Authorize and `ISO14443` in TransactionEvent), so a token is identified by its
    uid alone, case-insensitively, within its tenant.
    """

    uid = models.CharField(_("token"), max_length=36, validators=[validate_token_uid])
    type = models.CharField(
        max_length=20,
        choices=IdTokenType.choices,
        default=IdTokenType.ISO14443,
        verbose_name=_("type"),
    )
    label = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("Who holds it, e.g. a driver's name or fleet vehicle."),
        verbose_name=_("label"),
    )
    group = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
        help_text=_("Sent to chargers as parentIdTag (1.6) / groupIdToken (2.0.1)."),
        verbose_name=_("group"),
    )
    blocked = models.BooleanField(default=False, verbose_name=_("blocked"))
    expires_at = models.DateTimeField(null=True, blank=True, verbose_name=_("expires at"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("id token")
        verbose_name_plural = _("id tokens")
        ordering = ["uid"]
        constraints = [
            models.UniqueConstraint("tenant", Upper("uid"), name="idtoken_unique_uid"),
        ]

    def __str__(self):
        return f"{self.uid} ({self.label})" if self.label else self.uid

    def status(self, at=None) -> str:
        at = at or timezone.now()
        if self.blocked:
            return IdTokenStatus.BLOCKED
        if self.expires_at is not None and self.expires_at <= at:
            return IdTokenStatus.EXPIRED
        return IdTokenStatus.ACCEPTED


class OcppVersion(models.TextChoices):
    V16 = "1.6", "OCPP 1.6J"
    V201 = "2.0.1", "OCPP 2.0.1"
    V21 = "2.1", "OCPP 2.1"


class RegistrationStatus(models.TextChoices):
    """The operator's decision about a charger; it is what BootNotification answers."""

    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


class SecurityProfile(models.IntegerChoices):
    """What the server demands on the upgrade. Profiles 1 and 2 differ only in TLS on the
    charger's side, which the proxy offers; the server checks the same password for both."""

    PASSWORD = 1, _("1 or 2: password (HTTP Basic auth)")
    CERTIFICATE = 3, _("3: TLS client certificate")


# OCPP 2.0.1 identities are up to 48 characters; ':' separates user and password in HTTP Basic.
MAX_IDENTITY = 48


def validate_identity(value: str) -> None:
    """The one rule for a charge point id, wherever one arrives: a form, the API, a command,
    the OCPP handshake."""
    if not value or len(value) > MAX_IDENTITY or ":" in value or not value.isprintable():
        raise ValidationError(
            gettext("A charge point id is 1 to %(max)s printable characters without ':'.")
            % {"max": MAX_IDENTITY},
            code="invalid_identity",
        )


class Charger(TenantOwned):
    """A charge point (1.6) or charging station (2.0.1), identified by its id in the URL."""

    identity = models.CharField(
        _("charge point id"),
        max_length=MAX_IDENTITY,
        validators=[validate_identity],
    )
    site = models.ForeignKey(
        "cpms.Site",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chargers",
        verbose_name=_("site"),
    )
    password_hash = models.CharField(max_length=200, blank=True, editable=False)
    password_set_at = models.DateTimeField(null=True, blank=True, editable=False)
    security_profile = models.PositiveSmallIntegerField(
        choices=SecurityProfile.choices, default=SecurityProfile.PASSWORD
    )
    certificate_fingerprint = models.CharField(
        max_length=64,
        blank=True,
        help_text=(
            "Profile 3: the SHA-256 of the one client certificate accepted (hex); empty "
            "accepts any certificate of the operator's CA whose CN is the charge point id."
        ),
    )
    registration_status = models.CharField(
        max_length=10,
        choices=RegistrationStatus.choices,
        default=RegistrationStatus.ACCEPTED,
        verbose_name=_("registration status"),
    )
    # Slugs operators group chargers by (`chargers.tags`: the rule and the filter).
    tags = models.JSONField(
        default=list, blank=True, validators=[validate_tags], verbose_name=_("tags")
    )

    # What the charger reported at its last boot.
    ocpp_version = models.CharField(
        max_length=8, choices=OcppVersion.choices, blank=True, verbose_name=_("OCPP version")
    )
    vendor = models.CharField(max_length=50, blank=True, verbose_name=_("vendor"))
    model = models.CharField(max_length=50, blank=True, verbose_name=_("model"))
    serial_number = models.CharField(max_length=50, blank=True)
    charge_box_serial_number = models.CharField(max_length=50, blank=True)
    firmware_version = models.CharField(
        max_length=50, blank=True, verbose_name=_("firmware version")
    )
    iccid = models.CharField(max_length=20, blank=True)
    imsi = models.CharField(max_length=20, blank=True)
    meter_type = models.CharField(max_length=25, blank=True)
    meter_serial_number = models.CharField(max_length=25, blank=True)
    last_boot_at = models.DateTimeField(null=True, blank=True)
    firmware_status = models.CharField(max_length=40, blank=True)
    diagnostics_status = models.CharField(max_length=40, blank=True)

    # The connection, as the server sees it.
    is_online = models.BooleanField(default=False, verbose_name=_("online"))
    last_seen = models.DateTimeField(null=True, blank=True, verbose_name=_("last seen"))
    connected_at = models.DateTimeField(null=True, blank=True)
    channel_name = models.CharField(
        max_length=200, blank=True, help_text="The Channels channel of the socket's consumer."
    )
    node = models.CharField(max_length=100, blank=True, help_text="The server process (host:pid).")
    remote_addr = models.CharField(max_length=64, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("charger")
        verbose_name_plural = _("chargers")
        ordering = ["identity"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "identity"], name="charger_unique_identity"),
        ]
        indexes = [
            models.Index(fields=["tenant", "is_online"]),
            models.Index(fields=["tenant", "registration_status"]),
        ]

    def __str__(self):
        return self.identity


class ChargerBoot(TenantOwned):
    """One BootNotification: what the charger said about itself and what changed since."""

    charger = models.ForeignKey(Charger, on_delete=models.CASCADE, related_name="boots")
    at = models.DateTimeField()
    reason = models.CharField(max_length=40, blank=True, help_text="2.0.1 boot reason.")
    reported = models.JSONField(default=dict)
    changes = models.JSONField(default=dict, help_text="field: [before, after]")
    answered = models.CharField(max_length=10, choices=RegistrationStatus.choices)

    class Meta:
        ordering = ["-at"]


class Connector(TenantOwned):
    """An EVSE's connector. OCPP 1.6 connector N is stored as EVSE N, connector 1 (0 as 0/0)."""

    charger = models.ForeignKey(Charger, on_delete=models.CASCADE, related_name="connectors")
    evse_id = models.PositiveIntegerField()
    connector_id = models.PositiveIntegerField()
    status = models.CharField(max_length=20, blank=True)
    error_code = models.CharField(max_length=50, blank=True)
    info = models.CharField(max_length=50, blank=True)
    vendor_id = models.CharField(max_length=255, blank=True)
    vendor_error_code = models.CharField(max_length=50, blank=True)
    status_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["evse_id", "connector_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["charger", "evse_id", "connector_id"], name="connector_unique"
            ),
        ]

    def __str__(self):
        return f"{self.charger_id}/{self.evse_id}/{self.connector_id}"


class StatusEvent(TenantOwned):
    """Every status a connector reported, in order: the history behind uptime figures."""

    tenant = log_tenant()
    # The history's index leads with the charger: no second one to write at each insert.
    charger = models.ForeignKey(
        Charger, on_delete=models.CASCADE, related_name="status_events", db_index=False
    )
    evse_id = models.PositiveIntegerField()
    connector_id = models.PositiveIntegerField()
    status = models.CharField(max_length=20)
    error_code = models.CharField(max_length=50, blank=True)
    info = models.CharField(max_length=50, blank=True)
    vendor_id = models.CharField(max_length=255, blank=True)
    vendor_error_code = models.CharField(max_length=50, blank=True)
    timestamp = models.DateTimeField(help_text="As the charger sent it.")
    timestamp_suspect = models.BooleanField(default=False)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["-timestamp"]
        indexes = [models.Index(fields=["charger", "evse_id", "timestamp"])]


class SessionState(models.TextChoices):
    ACTIVE = "active", _("Charging")
    COMPLETED = "completed", _("Completed")


class ChargingSession(TenantOwned):
    """One transaction, whichever OCPP version reported it."""

    # The indexes below lead with the tenant and the charger: none of their own.
    tenant = models.ForeignKey(
        "cpms.Tenant", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    charger = models.ForeignKey(
        Charger,
        on_delete=models.PROTECT,
        related_name="sessions",
        verbose_name=_("charger"),
        db_index=False,
    )
    site = models.ForeignKey(
        "cpms.Site", null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions"
    )
    evse_id = models.PositiveIntegerField(verbose_name=_("EVSE"))
    connector_id = models.PositiveIntegerField()
    transaction_id = models.CharField(max_length=36, blank=True, verbose_name=_("transaction id"))
    # 1.6 resends of StartTransaction are recognised by what they say, not by their message id.
    dedupe_key = models.CharField(max_length=200, null=True, blank=True)
    state = models.CharField(
        max_length=10,
        choices=SessionState.choices,
        default=SessionState.ACTIVE,
        verbose_name=_("state"),
    )

    id_token = models.ForeignKey(
        IdToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions"
    )
    id_tag = models.CharField(
        max_length=36, blank=True, help_text="As the charger sent it.", verbose_name=_("id tag")
    )
    auth_status = models.CharField(max_length=20, blank=True)
    reservation_id = models.IntegerField(null=True, blank=True)
    remote_start_id = models.IntegerField(null=True, blank=True)

    started_at = models.DateTimeField(verbose_name=_("started at"))
    stopped_at = models.DateTimeField(null=True, blank=True, verbose_name=_("stopped at"))
    timestamp_suspect = models.BooleanField(default=False)
    meter_start_wh = models.DecimalField(max_digits=16, decimal_places=3, null=True, blank=True)
    meter_stop_wh = models.DecimalField(max_digits=16, decimal_places=3, null=True, blank=True)
    meter_last_wh = models.DecimalField(max_digits=16, decimal_places=3, null=True, blank=True)
    power_w = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    energy_wh = models.DecimalField(
        max_digits=16, decimal_places=3, default=0, verbose_name=_("energy (Wh)")
    )
    stop_reason = models.CharField(max_length=40, blank=True, verbose_name=_("stop reason"))
    closed_by_server = models.BooleanField(
        default=False,
        help_text=(
            "Closed by the server: the charger came back without it. A stop the charger "
            "sends later replaces the server's figures."
        ),
    )
    stop_id_tag = models.CharField(max_length=36, blank=True)
    charging_state = models.CharField(max_length=20, blank=True, help_text="2.0.1 chargingState.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("charging session")
        verbose_name_plural = _("charging sessions")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["charger", "transaction_id"],
                condition=~models.Q(transaction_id=""),
                name="session_unique_transaction",
            ),
            models.UniqueConstraint(fields=["charger", "dedupe_key"], name="session_unique_start"),
        ]
        indexes = [
            models.Index(fields=["tenant", "state"]),
            # A charger's running sessions, on an EVSE or all: asked at every start (one still
            # open there?), boot, smart charging and firmware step. Through (tenant, state)
            # each of those read every running session of the tenant.
            models.Index(fields=["charger", "state", "evse_id"], name="session_charger_state"),
            # Covering: the ids of a deep page of the sessions list are read from the index
            # alone (bench.pages). The figures a MeterValues moves (energy, register, power)
            # stay out of every index, so that its UPDATE writes no index entry (HOT).
            models.Index(
                fields=["tenant", "started_at"],
                include=["id"],
                name="session_tenant_started",
            ),
        ]

    def __str__(self):
        return f"{self.charger_id}:{self.transaction_id}"


class MeterSample(TenantOwned):
    """One sampled value. Resends are dropped by the unique constraint, never double-counted.

    Optional OCPP fields are stored as "" rather than NULL so that the constraint sees them.
    """

    tenant = log_tenant()
    # The unique constraint leads with the charger, the (session, timestamp) index with the
    # session: no index of their own to write nine times per MeterValues.
    charger = models.ForeignKey(
        Charger, on_delete=models.CASCADE, related_name="samples", db_index=False
    )
    session = models.ForeignKey(
        ChargingSession,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="samples",
        db_index=False,
    )
    evse_id = models.PositiveIntegerField()
    timestamp = models.DateTimeField()
    timestamp_suspect = models.BooleanField(default=False)
    measurand = models.CharField(max_length=50)
    phase = models.CharField(max_length=8, blank=True)
    location = models.CharField(max_length=8, blank=True)
    context = models.CharField(max_length=30, blank=True)
    unit = models.CharField(max_length=20, blank=True)
    value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    signed_data = models.TextField(blank=True, help_text="The value when its format is signed.")

    class Meta:
        ordering = ["timestamp"]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "charger",
                    "evse_id",
                    "timestamp",
                    "measurand",
                    "phase",
                    "location",
                    "context",
                ],
                name="sample_unique",
            ),
        ]
        indexes = [models.Index(fields=["session", "timestamp"])]


class EventKind(models.TextChoices):
    DATA_TRANSFER = "data_transfer", _("Data transfer")
    DIAGNOSTICS_STATUS = "diagnostics_status", _("Diagnostics status")
    FIRMWARE_STATUS = "firmware_status", _("Firmware status")
    SIGNED_FIRMWARE_STATUS = "signed_firmware_status", _("Signed firmware status")
    LOG_STATUS = "log_status", _("Log upload status")
    SECURITY_EVENT = "security_event", _("Security event")
    SIGN_CERTIFICATE = "sign_certificate", _("Certificate signing request")
    UNMATCHED = "unmatched", _("Kept aside (refers to an unknown transaction)")
    SESSION_LOST = (
        "session_lost",
        _("Session closed by the server (the charger came back without it)"),
    )
    # OCPP 2.0.1 notifications kept as they were sent.
    NOTIFY_EVENT = "notify_event", _("Device event")
    MONITORING_REPORT = "monitoring_report", _("Monitoring report")
    CHARGING_LIMIT = "charging_limit", _("Charging limit set by an external source")
    CHARGING_LIMIT_CLEARED = "charging_limit_cleared", _("External charging limit cleared")
    EV_CHARGING_NEEDS = "ev_charging_needs", _("EV charging needs")
    EV_CHARGING_SCHEDULE = "ev_charging_schedule", _("EV charging schedule")
    CHARGING_PROFILES_REPORT = "charging_profiles_report", _("Charging profiles report")
    RESERVATION_STATUS = "reservation_status", _("Reservation status")
    DISPLAY_MESSAGES = "display_messages", _("Display messages")
    CUSTOMER_INFORMATION = "customer_information", _("Customer information")
    EV_CERTIFICATE = "ev_certificate", _("ISO 15118 EV certificate request")
    CERTIFICATE_STATUS = "certificate_status", _("Certificate status request")
    PUBLISH_FIRMWARE_STATUS = "publish_firmware_status", _("Published firmware status")


class ChargerEvent(TenantOwned):
    """A notification a charger sent that is a fact to keep rather than state to update."""

    charger = models.ForeignKey(Charger, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30, choices=EventKind.choices)
    summary = models.CharField(max_length=255, blank=True)
    payload = models.JSONField(default=dict)
    critical = models.BooleanField(default=False)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["charger", "kind", "at"])]


class CommandStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent, waiting for the reply")
    ANSWERED = "answered", _("Answered")
    CALL_ERROR = "call_error", _("Charger answered with an error")
    TIMEOUT = "timeout", _("No reply in time")
    OFFLINE = "offline", _("Charger offline")
    REFUSED = "refused", _("Refused before sending")

    @property
    def english(self) -> str:
        """The label as records' stored English sentences quote it (the label itself follows
        the reader's language)."""
        with translation.override("en"):
            return str(self.label)


class Command(TenantOwned):
    """The audit record of one call to a charger: who asked what, the reply, the timings."""

    # Set for a page's command log (`dashboard.fleet.command_log`), not stored.
    outcome: list[tuple[str, str]]
    pending: bool

    charger = models.ForeignKey(Charger, on_delete=models.CASCADE, related_name="commands")
    action = models.CharField(max_length=50)
    payload = models.JSONField(default=dict, help_text="Secrets are redacted.")
    requested_by = models.ForeignKey(
        "cpms.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=20, default="system")
    status = models.CharField(
        max_length=12, choices=CommandStatus.choices, default=CommandStatus.QUEUED
    )
    response = models.JSONField(null=True, blank=True)
    error = models.CharField(max_length=255, blank=True)
    # Kept so that a command nobody waits for any more can be given up on at its own deadline.
    timeout = models.FloatField(default=30.0, help_text="Seconds the charger had to answer.")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["charger", "created_at"]),
            # The periodic sweep of stale commands reads only the few still unfinished.
            models.Index(
                fields=["created_at"],
                name="command_unfinished_idx",
                condition=models.Q(status__in=["queued", "sent"]),
            ),
        ]

    @property
    def duration_ms(self) -> int | None:
        if self.completed_at is None:
            return None
        return int((self.completed_at - self.created_at).total_seconds() * 1000)

    @property
    def reply_status(self) -> str:
        """The `status` field of the charger's reply, if it has one."""
        if isinstance(self.response, dict):
            return str(self.response.get("status", ""))
        return ""


class OcppMessage(TenantOwned):
    """The raw message log operators read for support; bounded per charger by a periodic job."""

    tenant = log_tenant()
    # The (charger, at) index serves every read by charger.
    charger = models.ForeignKey(
        Charger, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    at = models.DateTimeField()
    incoming = models.BooleanField()
    message_type = models.PositiveSmallIntegerField()
    unique_id = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=50, blank=True)
    body = models.TextField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["charger", "at"])]


class ConnectionEvent(TenantOwned):
    """One socket's life: when it opened and closed, from where, held by which process."""

    charger = models.ForeignKey(Charger, on_delete=models.CASCADE, related_name="connections")
    connected_at = models.DateTimeField()
    disconnected_at = models.DateTimeField(null=True, blank=True)
    ocpp_version = models.CharField(max_length=8)
    remote_addr = models.CharField(max_length=64, blank=True)
    node = models.CharField(max_length=100, blank=True)
    close_reason = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-connected_at"]


class HandshakeRefusal(TenantOwned):
    """A refused OCPP upgrade. Refusals for unknown tenants belong to the platform (no tenant):
    the nullable field tells the base class so."""

    # Narrowing the base's field to a nullable one is the point; mypy sees a changed type.
    tenant = models.ForeignKey(  # type: ignore[assignment]
        "cpms.Tenant", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    at = models.DateTimeField()
    identity = models.CharField(max_length=100, blank=True)
    tenant_slug = models.CharField(max_length=100, blank=True)
    remote_addr = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=40)
    detail = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-at"]


class TransactionEventRecord(TenantOwned):
    """One 2.0.1 TransactionEvent of a session. Resends carry new message ids but the same
    seqNo, so (session, seq_no) is what makes them harmless; gaps in seqNo are legal."""

    session = models.ForeignKey(ChargingSession, on_delete=models.CASCADE, related_name="events")
    seq_no = models.PositiveIntegerField()
    event_type = models.CharField(max_length=10)
    trigger_reason = models.CharField(max_length=40)
    timestamp = models.DateTimeField(
        help_text="As the charger sent it; the receipt time when that was implausible."
    )
    timestamp_as_sent = models.CharField(
        max_length=64, blank=True, help_text="The charger's time when it was implausible."
    )
    offline = models.BooleanField(default=False)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["seq_no"]
        constraints = [
            models.UniqueConstraint(fields=["session", "seq_no"], name="txevent_unique_seq"),
        ]


class DeviceModelVariable(TenantOwned):
    """One attribute of a 2.0.1 device-model variable, as the charger last reported it."""

    # Set for the configuration page (`dashboard.fleet.charger_configuration`), not stored.
    last_reply: dict[str, Any] | None

    charger = models.ForeignKey(Charger, on_delete=models.CASCADE, related_name="variables")
    component = models.CharField(max_length=50)
    component_instance = models.CharField(max_length=50, blank=True)
    # 0 when the component is not tied to an EVSE or connector (2.0.1 numbers them from 1).
    evse_id = models.PositiveIntegerField(default=0)
    connector_id = models.PositiveIntegerField(default=0)
    variable = models.CharField(max_length=50)
    variable_instance = models.CharField(max_length=50, blank=True)
    attribute_type = models.CharField(max_length=10, default="Actual")
    value = models.CharField(max_length=2500, blank=True)
    mutability = models.CharField(max_length=10, blank=True)
    persistent = models.BooleanField(null=True)
    constant = models.BooleanField(null=True)
    characteristics = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["component", "component_instance", "evse_id", "variable", "attribute_type"]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "charger",
                    "component",
                    "component_instance",
                    "evse_id",
                    "connector_id",
                    "variable",
                    "variable_instance",
                    "attribute_type",
                ],
                name="variable_unique",
            ),
        ]

    def __str__(self):
        return f"{self.component}.{self.variable}"
