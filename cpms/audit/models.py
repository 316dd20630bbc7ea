"""One audit entry per write by a person or an API key. Entries are never changed: `save()`
refuses an existing row, `delete()` refuses always (the retention job purges through
`AuditEntryQuerySet.purge`), and on PostgreSQL a trigger refuses UPDATE and any DELETE the
purge did not announce (migration 0002)."""

from __future__ import annotations

from typing import Any, ClassVar, cast

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cpms.tenancy.scoping import TenantManager, TenantOwned, TenantQuerySet


class ImmutableEntry(RuntimeError):
    """Something tried to change or delete an audit entry."""


class ActorKind(models.TextChoices):
    USER = "user", _("Person")
    API_KEY = "api_key", _("API key")
    PLATFORM_KEY = "platform_key", _("Platform API key")


class Door(models.TextChoices):
    WEB = "web", _("Dashboard")
    API = "api", _("API")
    COMMAND = "command", _("Management command")


class Verb(models.TextChoices):
    """What was done; an entry's `action`."""

    CREATE = "create", _("Created")
    UPDATE = "update", _("Changed")
    DELETE = "delete", _("Deleted")
    APPROVE = "approve", _("Approved")
    REJECT = "reject", _("Rejected")
    PASSWORD = "password", _("Password set")
    OPEN = "open", _("Opened")
    CLOSE = "close", _("Closed")
    BLOCK = "block", _("Blocked")
    UNBLOCK = "unblock", _("Unblocked")
    IMPORT = "import", _("Imported")
    INVITE = "invite", _("Invited")
    REMOVE = "remove", _("Removed")
    REVOKE = "revoke", _("Revoked")
    ROTATE = "rotate", _("Rotated")
    START = "start", _("Started")
    PAUSE = "pause", _("Paused")
    RESUME = "resume", _("Resumed")
    CANCEL = "cancel", _("Cancelled")
    APPLY = "apply", _("Applied")
    INSTALL = "install", _("Installed")
    POST = "post", _("Posted")
    WITHDRAW = "withdraw", _("Withdrawn")
    SEND = "send", _("Sent")


class ObjectType(models.TextChoices):
    """What it was done to. The names are the domain's, written here as plain strings: this
    app is part of the platform and imports no domain package."""

    CHARGER = "charger", _("Charger")
    CHARGER_CREDENTIALS = "charger_credentials", _("Charger credentials")
    ONBOARDING = "onboarding", _("Onboarding password")
    FLEET_SETTINGS = "fleet_settings", _("Charger settings")
    ID_TOKEN = "id_token", _("Id token")
    MEMBER = "member", _("Member")
    API_KEY = "api_key", _("API key")
    SITE = "site", _("Site")
    SITE_OWNER = "site_owner", _("Site owner")
    WEBHOOK = "webhook", _("Webhook")
    TARIFF = "tariff", _("Tariff")
    TARIFF_ASSIGNMENT = "tariff_assignment", _("Tariff assignment")
    BILLING_SETTINGS = "billing_settings", _("Billing settings")
    FIRMWARE_CAMPAIGN = "firmware_campaign", _("Firmware campaign")
    GRID_CONNECTION = "grid_connection", _("Grid connection")
    CIRCUIT = "circuit", _("Circuit")
    CHARGER_WIRING = "charger_wiring", _("Charger wiring")
    GRID_LIMIT_WINDOW = "grid_limit_window", _("Grid limit window")
    LIMIT_SIGNAL = "limit_signal", _("External limit signal")
    RESERVATION = "reservation", _("Reservation")
    LOCAL_LIST_POLICY = "local_list_policy", _("Local list policy")
    CONFIG_TEMPLATE = "config_template", _("Configuration template")
    CERTIFICATE_AUTHORITY = "certificate_authority", _("Certificate authority")
    ROOT_CERTIFICATE = "root_certificate", _("Root certificate")
    CERTIFICATE = "certificate", _("Charger certificate")
    CERTIFICATE_SETTINGS = "certificate_settings", _("Certificate settings")
    COMMAND = "command", _("Command")


class AuditEntryQuerySet(TenantQuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise ImmutableEntry("Audit entries are never changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ImmutableEntry("Audit entries are deleted only by the retention job (purge).")

    def purge(self) -> int:
        """Delete these entries (the retention job only); returns how many."""
        from cpms.audit import guard

        with guard.purging():
            return self._raw_delete(self.db)


class AuditEntryManager(TenantManager["AuditEntry"]):
    _queryset_class = AuditEntryQuerySet

    def get_queryset(self) -> AuditEntryQuerySet:
        return cast(AuditEntryQuerySet, super().get_queryset())


class AuditEntry(TenantOwned):
    """Who did what, when and from where. The actor is kept by id and by name (no foreign key):
    removing a person or a key changes no entry."""

    at = models.DateTimeField(default=timezone.now, verbose_name=_("when"))
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    actor_key_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=200, verbose_name=_("who"))
    actor_role = models.CharField(max_length=16, blank=True, verbose_name=_("role"))
    door = models.CharField(max_length=10, choices=Door.choices)
    ip_address = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("from"))
    user_agent = models.CharField(max_length=300, blank=True)
    action = models.CharField(max_length=20, choices=Verb.choices)
    object_type = models.CharField(max_length=30, choices=ObjectType.choices)
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=200, blank=True)
    # {field: {"before": value, "after": value}}; secrets are masked before they get here.
    changes = models.JSONField(default=dict, blank=True)

    objects: ClassVar[AuditEntryManager] = AuditEntryManager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [
            models.Index(fields=["tenant", "-at"], name="audit_tenant_at"),
            models.Index(fields=["tenant", "object_type", "object_id"], name="audit_object"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.object_type} {self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None or not self._state.adding:
            raise ImmutableEntry("Audit entries are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ImmutableEntry("Audit entries are deleted only by the retention job (purge).")
