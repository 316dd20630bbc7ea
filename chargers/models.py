"""Chargers' world: id tokens now; chargers, connectors, sessions and samples with OCPP."""

from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone

from cpms.scoping import TenantOwned


class IdTokenType(models.TextChoices):
    """OCPP 2.0.1 IdTokenEnumType; 1.6 idTags are stored as ISO14443 unless told otherwise."""

    ISO14443 = "ISO14443", "RFID (ISO 14443)"
    ISO15693 = "ISO15693", "RFID (ISO 15693)"
    EMAID = "eMAID", "Contract (eMAID)"
    CENTRAL = "Central", "Central (app, remote start)"
    KEY_CODE = "KeyCode", "Key code"
    LOCAL = "Local", "Local"
    MAC_ADDRESS = "MacAddress", "MAC address"
    NO_AUTHORIZATION = "NoAuthorization", "No authorization"


class IdTokenStatus(models.TextChoices):
    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"


class IdToken(TenantOwned):
    """An RFID card, app account or key code the tenant accepts for charging.

    Chargers are inconsistent about case and type for the same card (a reader may report
    `Local` in Authorize and `ISO14443` in TransactionEvent), so a token is identified by its
    uid alone, case-insensitively, within its tenant.
    """

    uid = models.CharField("token", max_length=36)
    type = models.CharField(
        max_length=20, choices=IdTokenType.choices, default=IdTokenType.ISO14443
    )
    label = models.CharField(
        max_length=200, blank=True, help_text="Who holds it, e.g. a driver's name or fleet vehicle."
    )
    group = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
        help_text="Sent to chargers as parentIdTag (1.6) / groupIdToken (2.0.1).",
    )
    blocked = models.BooleanField(default=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
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
