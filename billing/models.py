"""Tariffs (versioned, OCPI 2.2.1-shaped), where they apply, and charge detail records.

Money is stored as integers of the currency's minor unit next to the currency code; unit prices
stay in the tariff's JSON as the operator wrote them (six decimals and more are common there).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from cpms.tenancy.scoping import TenantOwned


class Tariff(TenantOwned):
    """A named price list in one currency. Its terms live in versions: a change adds a version
    and leaves the ones that priced issued records as they were."""

    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3, help_text="ISO 4217, e.g. EUR.")
    created_at = models.DateTimeField(auto_now_add=True)
    archived_at = models.DateTimeField(
        null=True, blank=True, help_text="Deleted: no longer assigned, kept for its records."
    )

    class Meta:
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["tenant", "archived_at"])]

    def __str__(self):
        return f"{self.name} ({self.currency})"

    @property
    def current(self) -> TariffVersion:
        """The newest version (from the prefetched versions when a list prefetched them)."""
        return max(self.versions.all(), key=lambda version: version.number)


class TariffVersion(TenantOwned):
    """The tariff's terms from `effective_from` on: a session is priced by the version in force
    when it started. `elements`, `min_price` and `max_price` are OCPI 2.2.1's, as validated."""

    tariff = models.ForeignKey(Tariff, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    effective_from = models.DateTimeField()
    elements = models.JSONField()
    min_price = models.JSONField(null=True, blank=True)
    max_price = models.JSONField(null=True, blank=True)
    start_date_time = models.DateTimeField(null=True, blank=True)
    end_date_time = models.DateTimeField(null=True, blank=True)
    parking_grace_minutes = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["tariff", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["tariff", "number"], name="tariffversion_unique"),
        ]

    def __str__(self):
        return f"{self.tariff_id} v{self.number}"

    def ocpi(self) -> dict:
        """The pricing fields as OCPI spells them."""
        data: dict = {"currency": self.tariff.currency, "elements": self.elements}
        if self.min_price is not None:
            data["min_price"] = self.min_price
        if self.max_price is not None:
            data["max_price"] = self.max_price
        return data


class TariffAssignment(TenantOwned):
    """Where a tariff applies: the whole tenant (no site, charger or connector), a site, a
    charger or one connector; with a `group`, only to sessions of that id-token group, over
    any assignment without one. Among group assignments the highest `priority` wins; among
    the others the most specific place, then the highest priority."""

    tariff = models.ForeignKey(Tariff, on_delete=models.CASCADE, related_name="assignments")
    site = models.ForeignKey(
        "cpms.Site", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    charger = models.ForeignKey(
        "chargers.Charger", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    connector = models.ForeignKey(
        "chargers.Connector", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    group = models.ForeignKey(
        "chargers.IdToken",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="An id-token group: the token other tokens name as their group.",
    )
    priority = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-priority", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(site__isnull=True, charger__isnull=True)
                    | models.Q(site__isnull=True, connector__isnull=True)
                    | models.Q(charger__isnull=True, connector__isnull=True)
                ),
                name="tariffassignment_one_place",
            ),
        ]

    def __str__(self):
        return f"{self.tariff_id} at {self.place}"

    @property
    def place(self) -> str:
        if self.connector_id:
            return "connector"
        if self.charger_id:
            return "charger"
        if self.site_id:
            return "site"
        return "tenant"


class ChargeDetailRecord(TenantOwned):
    """A priced session, as issued. Never changed: a correction (a late stop, a corrected
    meter reading) issues the next `version` of the session's record, which supersedes it."""

    session = models.ForeignKey(
        "chargers.ChargingSession", on_delete=models.PROTECT, related_name="charge_records"
    )
    version = models.PositiveIntegerField(default=1)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    issued_at = models.DateTimeField()
    # Who, where, when.
    charger = models.ForeignKey("chargers.Charger", on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(
        "cpms.Site", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    evse_id = models.PositiveIntegerField()
    connector_id = models.PositiveIntegerField()
    id_tag = models.CharField(max_length=36, blank=True)
    id_token = models.ForeignKey(
        "chargers.IdToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    group = models.ForeignKey(
        "chargers.IdToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    start_date_time = models.DateTimeField()
    end_date_time = models.DateTimeField()
    # What priced it.
    tariff = models.ForeignKey(Tariff, on_delete=models.PROTECT, related_name="records")
    tariff_version = models.ForeignKey(
        TariffVersion, on_delete=models.PROTECT, related_name="records"
    )
    currency = models.CharField(max_length=3)
    # Figures in OCPI's units: kWh and hours.
    total_energy = models.DecimalField(max_digits=14, decimal_places=6)
    total_time = models.DecimalField(max_digits=14, decimal_places=6)
    total_parking_time = models.DecimalField(max_digits=14, decimal_places=6)
    total_excl_vat_minor = models.BigIntegerField()
    total_incl_vat_minor = models.BigIntegerField()
    charging_periods = models.JSONField()
    lines = models.JSONField()
    vat_groups = models.JSONField()
    adjustment = models.JSONField(default=dict, help_text="What min_price or max_price changed.")
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of what was priced.")

    class Meta:
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["session", "version"], name="cdr_unique_version"),
        ]
        indexes = [
            models.Index(fields=["tenant", "issued_at"]),
            models.Index(fields=["tenant", "start_date_time"]),
        ]

    def __str__(self):
        return f"CDR {self.session_id} v{self.version}"
