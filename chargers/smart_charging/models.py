"""A site's electrical tree and limits, the sessions' priorities and needs, the plans the
control loop computed with the profiles it sent, and what chargers and ISO 15118 EVs said back
(the EVs' needs and schedules, the profiles a charger reports it holds).

Currents are amperes per phase. The grid connection is the top of a site's tree; circuits hang
below it (or below another circuit) and chargers on circuits. A charger on no circuit sits
directly below the grid connection.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from cpms.fastjson import FastJSONEncoder
from cpms.tenancy.scoping import TenantOwned

NOMINAL_VOLTAGE = 230  # volts between a phase and neutral, for kW <-> A
DEFAULT_MIN_CURRENT = Decimal("6.0")  # IEC 61851: an EV cannot charge below 6 A


class Phases(models.TextChoices):
    THREE = "L1L2L3", _("Three phases")
    L1 = "L1", _("L1 only")
    L2 = "L2", _("L2 only")
    L3 = "L3", _("L3 only")


class Sharing(models.TextChoices):
    EQUAL = "equal", _("Equally")
    PRIORITY = "priority", _("By priority (higher first)")
    NEED = "need", _("By need (energy before departure)")


def _amperes(**kwargs):
    return models.DecimalField(
        max_digits=7,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("10000"))],
        **kwargs,
    )


class SiteElectrical(TenantOwned):
    """The grid connection of a site and how its current is shared. A site with this row and
    `managed` set is load-managed."""

    site = models.OneToOneField("cpms.Site", on_delete=models.CASCADE, related_name="electrical")
    managed = models.BooleanField(default=True, help_text="Recompute and send limits.")
    grid_limit_a = _amperes(
        null=True,
        blank=True,
        help_text="Per phase. Empty: derived from the site's grid limit in kW (230 V, 3 phases).",
    )
    sharing = models.CharField(max_length=10, choices=Sharing.choices, default=Sharing.EQUAL)
    min_current_a = _amperes(default=DEFAULT_MIN_CURRENT, help_text="Default EV minimum.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("site electrical settings")
        verbose_name_plural = _("site electrical settings")

    def __str__(self):
        return f"Grid connection of {self.site}"

    def static_limit_a(self) -> Decimal | None:
        """The grid connection's limit per phase without schedules or signals."""
        if self.grid_limit_a is not None:
            return self.grid_limit_a
        kw = self.site.grid_limit_kw
        if kw is None:
            return None
        return (kw * 1000 / (NOMINAL_VOLTAGE * 3)).quantize(Decimal("0.1"), rounding="ROUND_DOWN")


class Circuit(TenantOwned):
    """A sub-circuit of a site (a distribution board, a cable, a fuse)."""

    site = models.ForeignKey("cpms.Site", on_delete=models.CASCADE, related_name="circuits")
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="Empty: directly below the grid connection.",
    )
    name = models.CharField(max_length=100)
    limit_a = _amperes(help_text="Per phase.")
    phases = models.CharField(max_length=6, choices=Phases.choices, default=Phases.THREE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["site_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="circuit_unique_name"),
            models.CheckConstraint(condition=models.Q(limit_a__gt=0), name="circuit_limit_pos"),
        ]

    def __str__(self):
        return self.name


class ChargerElectrical(TenantOwned):
    """How a charger is wired: on which circuit, on how many phases (and which, for a
    single-phase charger), and the current its connectors take."""

    charger = models.OneToOneField(
        "chargers.Charger", on_delete=models.CASCADE, related_name="electrical"
    )
    circuit = models.ForeignKey(
        Circuit, null=True, blank=True, on_delete=models.SET_NULL, related_name="chargers"
    )
    phases = models.CharField(max_length=6, choices=Phases.choices, default=Phases.THREE)
    min_current_a = _amperes(null=True, blank=True, help_text="Empty: the site's default.")
    max_current_a = _amperes(default=Decimal("32.0"))
    connector_max_a = models.JSONField(
        default=dict,
        blank=True,
        help_text='Per EVSE where it differs from the charger: {"2": 16}.',
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("charger electrical settings")
        verbose_name_plural = _("charger electrical settings")

    def __str__(self):
        return f"Wiring of {self.charger}"


class GridLimitWindow(TenantOwned):
    """A lower grid limit at certain hours (site local time), e.g. 17:00 to 20:00."""

    site = models.ForeignKey("cpms.Site", on_delete=models.CASCADE, related_name="limit_windows")
    starts = models.TimeField()
    ends = models.TimeField(help_text="Before `starts`: the window runs past midnight.")
    weekdays = models.JSONField(default=list, blank=True, help_text="0 Monday..6; empty: daily.")
    limit_a = _amperes(help_text="Per phase.")

    class Meta:
        ordering = ["site_id", "starts"]

    def __str__(self):
        return f"{self.starts:%H:%M}-{self.ends:%H:%M} {self.limit_a} A"


class LimitSignal(TenantOwned):
    """A limit an integrator (a DSO, an energy manager) posted, valid until it expires."""

    site = models.ForeignKey("cpms.Site", on_delete=models.CASCADE, related_name="limit_signals")
    limit_a = _amperes(help_text="Per phase.")
    starts_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    source = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["site", "expires_at"])]

    def __str__(self):
        return f"{self.limit_a} A until {self.expires_at}"


class NeedsSource(models.TextChoices):
    OPERATOR = "operator", _("Operator")
    INTEGRATOR = "integrator", _("Integrator")
    EV = "ev", _("The EV (ISO 15118)")


class SessionNeeds(TenantOwned):
    """A session's priority and, when known, what the EV needs before it leaves and the
    current it takes.

    An ISO 15118 EV states its own needs (`EvChargingNeeds`); a row it created has `source`
    ev. Whoever created the row, what an operator or integrator wrote wins field by field: the
    EV's values fill only the fields left empty, and keep those up to date while they still
    hold what the EV said before.
    """

    session = models.OneToOneField(
        "chargers.ChargingSession", on_delete=models.CASCADE, related_name="needs"
    )
    priority = models.SmallIntegerField(
        default=0, validators=[MinValueValidator(-10), MaxValueValidator(10)]
    )
    priority_label = models.CharField(max_length=40, blank=True, help_text="e.g. fleet")
    departure_at = models.DateTimeField(null=True, blank=True)
    energy_needed_wh = models.PositiveIntegerField(null=True, blank=True)
    min_current_a = _amperes(
        null=True, blank=True, help_text="Per phase: the least the EV charges with."
    )
    max_current_a = _amperes(null=True, blank=True, help_text="Per phase: the most the EV takes.")
    max_schedule_tuples = models.PositiveIntegerField(
        null=True, blank=True, help_text="The most periods a schedule sent to the EV may have."
    )
    source = models.CharField(
        max_length=10, choices=NeedsSource.choices, default=NeedsSource.OPERATOR
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = _("session needs")

    def __str__(self):
        return f"Needs of session {self.session_id}"


class GroupPriority(TenantOwned):
    """The priority of every session of an id-token group (a fleet, employees, members): what
    a session gets unless an operator or an integrator set its own."""

    group = models.OneToOneField(
        "chargers.IdToken", on_delete=models.CASCADE, related_name="charging_priority"
    )
    priority = models.SmallIntegerField(validators=[MinValueValidator(-10), MaxValueValidator(10)])
    label = models.CharField(max_length=40, blank=True, help_text="e.g. fleet")

    class Meta:
        verbose_name_plural = _("group priorities")

    def __str__(self):
        return f"Priority {self.priority} for group {self.group_id}"


class NeedsAnswer(models.TextChoices):
    """What the CSMS promised an EV that stated its needs."""

    SCHEDULE = "schedule", _("A schedule follows")
    LATER = "later", _("A schedule follows once its transaction has started")
    NONE = "none", _("No schedule: the site is not load-managed")


class EvStatement(TenantOwned):
    """What an ISO 15118 EV said at an EVSE, as its charger passed it on: one row per
    statement, on the session running there (none yet when it came before the transaction)."""

    charger = models.ForeignKey("chargers.Charger", on_delete=models.CASCADE, related_name="+")
    evse_id = models.PositiveIntegerField()
    session = models.ForeignKey(
        "chargers.ChargingSession",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    received_at = models.DateTimeField()

    class Meta:
        abstract = True


class EvChargingNeeds(EvStatement):
    """What an EV needs. Needs that come before their transaction wait on the EVSE until a
    session starts there."""

    transfer = models.CharField(max_length=30, help_text="The energy transfer the EV asked for.")
    departure_at = models.DateTimeField(null=True, blank=True)
    energy_wh = models.PositiveIntegerField(null=True, blank=True)
    min_current_a = _amperes(null=True, blank=True)
    max_current_a = _amperes(null=True, blank=True)
    max_power_w = models.PositiveIntegerField(null=True, blank=True)
    max_schedule_tuples = models.PositiveIntegerField(null=True, blank=True)
    answer = models.CharField(max_length=10, choices=NeedsAnswer.choices)

    class Meta:
        verbose_name_plural = _("EV charging needs")
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["charger", "evse_id", "-received_at"])]

    def __str__(self):
        return f"EV needs at {self.charger_id}/{self.evse_id}"


class EvChargingSchedule(EvStatement):
    """The schedule an EV chose within the limits it was given, and whether it stays within
    the last session limit the CSMS sent (checked period by period)."""

    time_base = models.DateTimeField(help_text="The periods start from here.")
    schedule = models.JSONField(help_text="unit, start, duration_s, periods [[s, limit, phases]]")
    within_limits = models.BooleanField()
    verdict = models.CharField(max_length=255, help_text="Why it is (not) within the limits.")

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["charger", "-received_at"])]

    def __str__(self):
        return f"EV schedule at {self.charger_id}/{self.evse_id}"


class ProfilesReport(TenantOwned):
    """The charging profiles a charger listed in answer to a GetChargingProfiles, gathered
    from its reports of the request (it may send several) until it says there are no more."""

    charger = models.ForeignKey(
        "chargers.Charger", on_delete=models.CASCADE, related_name="profile_reports"
    )
    request_id = models.IntegerField()
    command = models.ForeignKey(
        "chargers.Command", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    complete = models.BooleanField(default=False)
    parts = models.PositiveIntegerField(default=0)
    profiles = models.JSONField(default=list, help_text="The profiles, as the charger holds them.")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["charger", "request_id"])]

    def __str__(self):
        return f"Profiles of {self.charger_id} (request {self.request_id})"


class LoadPlan(TenantOwned):
    """One run of the allocator for a site: its inputs, the limit per connector with the
    reason, and what was sent."""

    site = models.ForeignKey("cpms.Site", on_delete=models.CASCADE, related_name="load_plans")
    computed_at = models.DateTimeField()
    trigger = models.CharField(max_length=40)
    # A site of a thousand connectors writes these on every run: encoded by orjson.
    inputs = models.JSONField(default=dict, encoder=FastJSONEncoder)
    allocations = models.JSONField(default=list, encoder=FastJSONEncoder)
    changed = models.BooleanField(default=False, help_text="A connector's limit changed.")
    commands_sent = models.PositiveIntegerField(default=0)
    duration_ms = models.FloatField(default=0)
    # A run whose inputs and plan are those of an earlier one keeps only its history and
    # points at that run (`same_as`): an idle site's tick stores a few bytes, not the site.
    digest = models.CharField(max_length=64, blank=True)
    same_as = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        ordering = ["-computed_at", "-id"]
        indexes = [models.Index(fields=["site", "-computed_at"])]

    def __str__(self):
        return f"Plan of {self.site_id} at {self.computed_at}"


class ProfileKind(models.TextChoices):
    SESSION = "session", _("Session limit (TxProfile)")
    FALLBACK = "fallback", _("Offline fallback (TxDefaultProfile)")


class ProfileStatus(models.TextChoices):
    PENDING = "pending", _("Sent, no answer yet")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    FAILED = "failed", _("Not delivered (offline, timeout, error)")


class SentProfile(TenantOwned):
    """The limit last sent to a charger's EVSE (0: the fallback for the whole charger), so that
    only what changed is sent, and rejections and timeouts are retried."""

    charger = models.ForeignKey(
        "chargers.Charger", on_delete=models.CASCADE, related_name="sent_profiles"
    )
    evse_id = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=ProfileKind.choices)
    session = models.ForeignKey(
        "chargers.ChargingSession", null=True, blank=True, on_delete=models.SET_NULL
    )
    periods = models.JSONField(default=list, help_text="[[start ISO, limit A], ...]")
    limit_a = _amperes()
    command = models.ForeignKey(
        "chargers.Command", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=ProfileStatus.choices)
    attempts = models.PositiveIntegerField(default=1)
    error = models.CharField(max_length=255, blank=True)
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["charger", "evse_id", "kind"], name="sentprofile_unique_place"
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.limit_a} A to {self.charger_id}/{self.evse_id}"
