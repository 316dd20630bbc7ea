"""Reservations: a connector (or any connector) of a charger held for an id token until a
time, as the charger was asked to hold it (1.6 and 2.0.1 ReserveNow) and what became of it."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cpms.tenancy.scoping import TenantOwned


class ReservationStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    ACCEPTED = "accepted", _("Accepted by the charger")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")
    USED = "used", _("Used by a session")


# A reservation still holding (or about to hold) its connector.
OPEN = (ReservationStatus.REQUESTED, ReservationStatus.ACCEPTED)


class Reservation(TenantOwned):
    """One reservation. `ocpp_id` is the reservation id the charger knows it by: allocated
    here, unique per charger; sessions name it when they use the reservation."""

    charger = models.ForeignKey(
        "chargers.Charger", on_delete=models.CASCADE, related_name="reservations"
    )
    evse_id = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="The connector (1.6) or EVSE (2.0.1); empty: any connector of the charger.",
    )
    # The token is kept as it was sent: a token deleted later leaves the record readable.
    id_token = models.ForeignKey(
        "chargers.IdToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    id_tag = models.CharField(max_length=36)
    group_id_tag = models.CharField(
        max_length=36, blank=True, help_text="The token's group, sent so its members may use it."
    )
    expires_at = models.DateTimeField()
    ocpp_id = models.PositiveIntegerField("reservation id")
    status = models.CharField(
        max_length=10, choices=ReservationStatus.choices, default=ReservationStatus.REQUESTED
    )
    charger_status = models.CharField(
        max_length=20,
        blank=True,
        help_text="The charger's answer: Accepted, Occupied, Faulted, Unavailable or Rejected.",
    )
    # English, and as a text shown in the reader's language (`cpms.texts`; null before).
    detail = models.CharField(max_length=300, blank=True, help_text="Why it is in its status.")
    detail_text = models.JSONField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        "cpms.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    command = models.ForeignKey(
        "chargers.Command", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        "cpms.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancel_command = models.ForeignKey(
        "chargers.Command", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    session = models.ForeignKey(
        "chargers.ChargingSession",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["charger", "ocpp_id"], name="reservation_unique_id"),
        ]
        indexes = [
            models.Index(fields=["tenant", "status", "expires_at"]),
            models.Index(fields=["charger", "status"]),
        ]

    def __str__(self):
        return f"reservation {self.ocpp_id} of {self.charger_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @property
    def connector_label(self) -> str:
        if self.evse_id is None:
            return gettext("any connector")
        return gettext("connector %(evse)s") % {"evse": self.evse_id}
