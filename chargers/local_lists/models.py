"""Local authorization lists: the policy that says which of the tenant's id tokens go on the
lists (for the tenant, a site or a charger), and per charger the list it last confirmed."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cpms.tenancy.scoping import TenantOwned


class PolicyMode(models.TextChoices):
    OFF = "off", _("Off: the lists are not managed")
    ALL = "all", _("All of the tenant's tokens")
    GROUPS = "groups", _("The tokens of chosen groups")
    NONE = "none", _("None: the lists are kept empty")


class LocalListPolicy(TenantOwned):
    """Which tokens chargers keep for offline authorization. One for the tenant (no site, no
    charger) and, optionally, one per site and one per charger that override it."""

    site = models.ForeignKey(
        "cpms.Site", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    charger = models.ForeignKey(
        "chargers.Charger", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    mode = models.CharField(max_length=10, choices=PolicyMode.choices, default=PolicyMode.OFF)
    groups = models.ManyToManyField(
        "chargers.IdToken",
        blank=True,
        related_name="+",
        help_text="With mode groups: the group tokens whose members (and themselves) are listed.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["site", "charger", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"],
                condition=models.Q(site__isnull=True, charger__isnull=True),
                name="local_list_policy_one_per_tenant",
            ),
            models.UniqueConstraint(
                fields=["tenant", "site"],
                condition=models.Q(site__isnull=False),
                name="local_list_policy_one_per_site",
            ),
            models.UniqueConstraint(
                fields=["charger"],
                condition=models.Q(charger__isnull=False),
                name="local_list_policy_one_per_charger",
            ),
            models.CheckConstraint(
                condition=models.Q(site__isnull=True) | models.Q(charger__isnull=True),
                name="local_list_policy_site_or_charger",
            ),
        ]

    def __str__(self):
        return gettext("%(scope)s: %(mode)s") % {
            "scope": self.scope_label,
            "mode": self.get_mode_display(),
        }

    @property
    def scope_label(self) -> str:
        if self.charger_id is not None:
            return gettext("charger %(charger)s") % {"charger": self.charger}
        if self.site_id is not None:
            return gettext("site %(site)s") % {"site": self.site}
        return gettext("every charger")


class SyncStep(models.TextChoices):
    IDLE = "", _("Idle")
    PROBE = "probe", _("Asking for the list's limits")
    VERSION = "version", _("Asking for the list's version")
    UPDATE = "update", _("Sending an update")


class SyncOutcome(models.TextChoices):
    NEVER = "", _("Never synchronised")
    IN_SYNC = "in_sync", _("In sync")
    FAILED = "failed", _("Failed")
    UNSUPPORTED = "unsupported", _("No local list")
    OFFLINE = "offline", _("Charger offline")


class ChargerLocalList(TenantOwned):
    """A charger's local list as it last confirmed it, what it can hold, and the sync under way.

    `entries` is the list the charger accepted (uid -> [type, status, expires, group, group
    type]), so the next update sends only the difference; `version` is its version."""

    charger = models.OneToOneField(
        "chargers.Charger", on_delete=models.CASCADE, related_name="local_list"
    )
    # None: not asked yet.
    supported = models.BooleanField(null=True)
    support_note = models.CharField(max_length=200, blank=True)
    capacity = models.PositiveIntegerField(null=True, blank=True, help_text="Entries it holds.")
    per_message = models.PositiveIntegerField(null=True, blank=True)
    bytes_per_message = models.PositiveIntegerField(null=True, blank=True)
    capabilities_at = models.DateTimeField(null=True, blank=True)

    version = models.PositiveIntegerField(default=0)
    entries = models.JSONField(default=dict, blank=True)
    entries_hash = models.CharField(max_length=64, blank=True)
    # What the charger said its version was when last asked (None: not asked yet).
    reported_version = models.IntegerField(null=True, blank=True)
    needs_full = models.BooleanField(
        default=True, help_text="The next update replaces the whole list."
    )

    # The step under way: the command it waits for, and what an accepted update makes of the list.
    step = models.CharField(max_length=10, choices=SyncStep.choices, blank=True, default="")
    step_since = models.DateTimeField(null=True, blank=True)
    step_command = models.ForeignKey(
        "chargers.Command", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    pending_version = models.PositiveIntegerField(null=True, blank=True)
    pending_full = models.BooleanField(default=False)
    pending_entries = models.JSONField(null=True, blank=True)

    last_sync_at = models.DateTimeField(null=True, blank=True)
    last_outcome = models.CharField(
        max_length=12, choices=SyncOutcome.choices, blank=True, default=""
    )
    last_error = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["charger"]

    def __str__(self):
        return f"{self.charger}: version {self.version}, {len(self.entries)} entries"
