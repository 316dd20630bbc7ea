"""An alert is one occurrence of a condition; a rule says how a tenant wants it handled."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from cpms.tenancy.scoping import TenantOwned
from cpms.texts import localized


class AlertKind(models.TextChoices):
    CHARGER_OFFLINE = "charger_offline", _("Charger offline")
    CONNECTOR_FAULTED = "connector_faulted", _("Connector faulted")
    BOOT_REJECTED = "boot_rejected", _("Boot rejected")
    REPEATED_REBOOTS = "repeated_reboots", _("Repeated reboots")
    HANDSHAKE_REFUSED = "handshake_refused", _("Connection refused")
    SECURITY_EVENT = "security_event", _("Critical security event")
    SESSION_STUCK = "session_stuck", _("Session stuck")
    CERTIFICATE_EXPIRING = "certificate_expiring", _("Certificate expiring")
    CERTIFICATE_EXPIRED = "certificate_expired", _("Certificate expired")


class Severity(models.TextChoices):
    INFO = "info", _("Info")
    WARNING = "warning", _("Warning")
    CRITICAL = "critical", _("Critical")


DEFAULT_SEVERITY: dict[str, str] = {
    AlertKind.CHARGER_OFFLINE: Severity.WARNING,
    AlertKind.CONNECTOR_FAULTED: Severity.CRITICAL,
    AlertKind.BOOT_REJECTED: Severity.WARNING,
    AlertKind.REPEATED_REBOOTS: Severity.WARNING,
    AlertKind.HANDSHAKE_REFUSED: Severity.INFO,
    AlertKind.SECURITY_EVENT: Severity.CRITICAL,
    AlertKind.SESSION_STUCK: Severity.WARNING,
    AlertKind.CERTIFICATE_EXPIRING: Severity.WARNING,
    AlertKind.CERTIFICATE_EXPIRED: Severity.CRITICAL,
}

# Minutes: silence of a session's meter, a session's age, or the window for counting reboots.
DEFAULT_THRESHOLD: dict[str, int] = {
    AlertKind.SESSION_STUCK: 30,
    AlertKind.REPEATED_REBOOTS: 60,
}


class AlertRule(TenantOwned):
    """A tenant's choices for one kind of alert. Without a row, the defaults above apply."""

    kind = models.CharField(max_length=30, choices=AlertKind.choices, verbose_name=_("kind"))
    enabled = models.BooleanField(default=True, verbose_name=_("enabled"))
    severity = models.CharField(max_length=10, choices=Severity.choices, verbose_name=_("severity"))
    threshold_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=(
            "Session stuck: minutes without meter values. Repeated reboots: the window "
            "in which three boots open an alert."
        ),
        verbose_name=_("threshold (minutes)"),
    )
    never_stopped_hours = models.PositiveIntegerField(
        default=24,
        help_text="Session stuck: a session running longer than this is stuck too.",
        verbose_name=_("never stopped (hours)"),
    )
    notify = models.ManyToManyField(
        "cpms.Membership", blank=True, related_name="+", help_text="Who gets an email."
    )

    class Meta:
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "kind"], name="alertrule_unique_kind"),
        ]

    def __str__(self):
        return self.get_kind_display()


class Alert(TenantOwned):
    """One occurrence of a condition. `subject` names what it is about (a charger, a connector,
    a session, an identity) so that the same condition can be open only once."""

    kind = models.CharField(max_length=30, choices=AlertKind.choices, verbose_name=_("kind"))
    severity = models.CharField(max_length=10, choices=Severity.choices, verbose_name=_("severity"))
    subject = models.CharField(max_length=120)
    charger = models.ForeignKey(
        "chargers.Charger",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alerts",
        verbose_name=_("charger"),
    )
    evse_id = models.PositiveIntegerField(null=True, blank=True)
    connector_id = models.PositiveIntegerField(null=True, blank=True)
    session = models.ForeignKey(
        "chargers.ChargingSession",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alerts",
    )
    # The English wording (the API's and old rows'), and the text as a message code with its
    # parameters, shown in each reader's language (`cpms.texts`); null for rows written before.
    title = models.CharField(max_length=200, verbose_name=_("title"))
    detail = models.CharField(max_length=500, blank=True)
    title_text = models.JSONField(null=True, blank=True, editable=False)
    detail_text = models.JSONField(null=True, blank=True, editable=False)
    opened_at = models.DateTimeField(verbose_name=_("opened at"))
    acknowledged_by = models.ForeignKey(
        "cpms.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True, verbose_name=_("acknowledged at"))
    acknowledgement_note = models.CharField(max_length=500, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "subject"],
                condition=models.Q(resolved_at__isnull=True),
                name="alert_open_once",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "resolved_at"])]

    def __str__(self):
        return self.shown_title

    @property
    def shown_title(self) -> str:
        return localized(self.title_text, self.title)

    @property
    def shown_detail(self) -> str:
        return localized(self.detail_text, self.detail)

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
