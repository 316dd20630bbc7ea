"""Configuration templates (the desired values per vendor, model or site), the drift of each
charger from them, and the runs that apply a template through the command path."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cpms.tenancy.scoping import TenantOwned

# 1.6 ChangeConfiguration takes values of up to 500 characters; 2.0.1 allows more, but a
# setting longer than this is no configuration an operator types.
VALUE_LENGTH = 500
# How a setting is named in drift and results (see `TemplateEntry.setting`).
SETTING_LENGTH = 300


class Protocol(models.TextChoices):
    V16 = "1.6", _("OCPP 1.6 (configuration keys)")
    V201 = "2.0.1", _("OCPP 2.0.1 / 2.1 (device-model variables)")


class ConfigTemplate(TenantOwned):
    """The desired configuration of the chargers it matches: a vendor and/or model, or a site
    (with both, a charger must match all). Where several match, the most specific wins per
    setting: site over model over vendor over a template that names nothing (the fleet's)."""

    name = models.CharField(max_length=200)
    protocol = models.CharField(max_length=8, choices=Protocol.choices)
    vendor = models.CharField(max_length=50, blank=True)
    model = models.CharField(max_length=50, blank=True)
    site = models.ForeignKey(
        "cpms.Site", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="config_template_unique_name")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def rank(self) -> int:
        """Specificity: a site counts most, then a model, then a vendor."""
        return (4 if self.site_id else 0) + (2 if self.model else 0) + (1 if self.vendor else 0)

    @property
    def applies_to(self) -> str:
        site = gettext("site %(site)s") % {"site": self.site} if self.site_id else ""
        parts = [self.vendor, self.model, site]
        return " / ".join(part for part in parts if part) or gettext("every charger")


class TemplateEntry(TenantOwned):
    """One desired value: a 1.6 key, or a 2.0.1 attribute (component with its instance and
    EVSE/connector, variable with its instance, attribute type)."""

    template = models.ForeignKey(ConfigTemplate, on_delete=models.CASCADE, related_name="entries")
    position = models.PositiveIntegerField(default=0)
    key = models.CharField(max_length=50, blank=True)
    component = models.CharField(max_length=50, blank=True)
    component_instance = models.CharField(max_length=50, blank=True)
    evse_id = models.PositiveIntegerField(default=0)
    connector_id = models.PositiveIntegerField(default=0)
    variable = models.CharField(max_length=50, blank=True)
    variable_instance = models.CharField(max_length=50, blank=True)
    attribute_type = models.CharField(max_length=10, default="Actual")
    value = models.CharField(max_length=VALUE_LENGTH, blank=True)

    class Meta:
        ordering = ["position", "id"]

    @property
    def setting(self) -> str:
        """The setting's name, unique within a protocol: the 1.6 key, or for 2.0.1
        Component[/instance][@evse[/connector]].Variable[/instance][#AttributeType]."""
        from chargers.configuration.desired import setting_name

        return setting_name(self)


class Drift(TenantOwned):
    """A setting of a charger that differs from its effective desired value (or that the
    charger changes only after a restart it has not had yet). Rewritten whenever the
    charger's reported values or the templates change; `since` stays while it lasts."""

    charger = models.ForeignKey(
        "chargers.Charger", on_delete=models.CASCADE, related_name="config_drift"
    )
    setting = models.CharField(max_length=SETTING_LENGTH)
    template = models.ForeignKey(ConfigTemplate, on_delete=models.CASCADE, related_name="+")
    desired = models.CharField(max_length=VALUE_LENGTH, blank=True)
    # None: the charger does not report the setting at all ("missing").
    actual = models.CharField(max_length=VALUE_LENGTH, null=True, blank=True)
    since = models.DateTimeField()
    # Set while the charger accepted the desired value only with a restart it has not had.
    reboot_required = models.BooleanField(default=False)

    class Meta:
        ordering = ["setting"]
        constraints = [
            models.UniqueConstraint(fields=["charger", "setting"], name="drift_unique_setting")
        ]

    @property
    def missing(self) -> bool:
        return self.actual is None


class RunState(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")


class ResultState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent, waiting for the reply")
    ACCEPTED = "accepted", _("Accepted")
    REBOOT_REQUIRED = "reboot_required", _("Accepted, takes effect after a restart")
    REJECTED = "rejected", _("Rejected")
    NOT_SUPPORTED = "not_supported", _("Not supported")
    OFFLINE = "offline", _("Charger offline")
    TIMED_OUT = "timed_out", _("No reply in time")
    FAILED = "failed", _("Failed")
    NOTHING = "nothing", _("Nothing to send")


FINISHED_RESULTS = tuple(state for state in ResultState.values if state not in ("pending", "sent"))


class ApplyRun(TenantOwned):
    """One operator's "apply this template" to one charger, some or all it matches."""

    template = models.ForeignKey(ConfigTemplate, on_delete=models.CASCADE, related_name="runs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=10, choices=RunState.choices, default=RunState.RUNNING)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class ApplyResult(TenantOwned):
    """What one charger of a run said: its state over all settings, and per setting
    (`items`: setting, value, status) as the replies came."""

    run = models.ForeignKey(ApplyRun, on_delete=models.CASCADE, related_name="results")
    charger = models.ForeignKey("chargers.Charger", on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=20, choices=ResultState.choices, default="pending")
    items = models.JSONField(default=list)
    # English, and as a text shown in the reader's language (`cpms.texts`); a command's error
    # is the charger's own words and has no text.
    detail = models.CharField(max_length=255, blank=True)
    detail_text = models.JSONField(null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["charger__identity", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "charger"], name="apply_result_unique_charger")
        ]


class ApplyCommand(TenantOwned):
    """One command a result sent (1.6: one per key; 2.0.1: one SetVariables for all), with
    the settings it carries in order and each one's status once answered."""

    result = models.ForeignKey(ApplyResult, on_delete=models.CASCADE, related_name="commands")
    command = models.OneToOneField(
        "chargers.Command", on_delete=models.CASCADE, related_name="config_apply"
    )
    settings = models.JSONField(default=list)
    statuses = models.JSONField(default=list)
    finished_at = models.DateTimeField(null=True, blank=True)
