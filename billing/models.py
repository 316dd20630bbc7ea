"""Tariffs (versioned, OCPI 2.2.1-shaped), where they apply, and charge detail records.

Money is stored as integers of the currency's minor unit next to the currency code; unit prices
stay in the tariff's JSON as the operator wrote them (six decimals and more are common there).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

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
    meter reading) issues the next `version` of the session's record, which supersedes it.
    A reservation that expired unused is priced in a record of its own, with no session."""

    session = models.ForeignKey(
        "chargers.ChargingSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="charge_records",
    )
    reservation = models.ForeignKey(
        "reservations.Reservation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The expired reservation this record prices (a record without a session).",
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
            models.UniqueConstraint(
                fields=["reservation"],
                condition=models.Q(reservation__isnull=False),
                name="cdr_once_per_reservation",
            ),
            models.CheckConstraint(
                condition=models.Q(session__isnull=False) | models.Q(reservation__isnull=False),
                name="cdr_prices_something",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "issued_at"]),
            models.Index(fields=["tenant", "start_date_time"]),
        ]

    def __str__(self):
        return f"CDR {self.session_id} v{self.version}"


class CustomerKind(models.TextChoices):
    FLEET = "fleet", _("Fleet")
    EMPLOYER = "employer", _("Employer")
    DRIVER = "driver", _("Driver account")


class Customer(TenantOwned):
    """Who pays for the sessions of the id-token groups it owns: a fleet, an employer, a
    driver's account. Invoiced monthly."""

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=CustomerKind.choices, default=CustomerKind.FLEET)
    email = models.EmailField(blank=True, help_text="Where invoices go.")
    street = models.CharField(max_length=200, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True)
    vat_id = models.CharField("VAT id", max_length=30, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name


class CustomerGroup(TenantOwned):
    """An id-token group a customer pays for; a group is billed to one customer."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="groups")
    group = models.OneToOneField(
        "chargers.IdToken", on_delete=models.CASCADE, related_name="billed_to"
    )

    def __str__(self):
        return f"{self.group_id} -> {self.customer_id}"


class InvoiceSeries(TenantOwned):
    """A numbering series of the tenant. A number is taken under this row's lock, in the
    transaction that issues the invoice: a rollback gives it back, so there are no gaps."""

    code = models.CharField(max_length=20)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="invoiceseries_unique"),
        ]

    def __str__(self):
        return f"{self.code} #{self.last_number}"


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


class Invoice(TenantOwned):
    """An invoice (or a credit note) as issued: never changed afterwards; a mistake is
    corrected by a credit note that names the invoice it credits."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    kind = models.CharField(max_length=12, choices=InvoiceKind.choices)
    series = models.CharField(max_length=20)
    number = models.PositiveIntegerField()
    period_start = models.DateField()
    period_end = models.DateField(help_text="Inclusive.")
    issued_at = models.DateTimeField()
    currency = models.CharField(max_length=3)
    total_excl_vat_minor = models.BigIntegerField()
    total_incl_vat_minor = models.BigIntegerField()
    vat_groups = models.JSONField(default=list)
    credits = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_notes"
    )
    reason = models.CharField(max_length=300, blank=True)
    # The parties as they were at issue (`billing.parties`): a later change of the tenant's
    # legal details or the customer's address leaves the document as it was sent.
    issuer = models.JSONField(default=dict)
    recipient = models.JSONField(default=dict)
    payment_terms = models.CharField(max_length=300, blank=True)
    facturx = models.BooleanField(
        default=False, help_text="Issued as a Factur-X e-invoice: its PDF carries the EN 16931 XML."
    )

    class Meta:
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "series", "number"], name="invoice_unique_number"
            ),
            models.UniqueConstraint(
                fields=["customer", "currency", "period_start"],
                condition=models.Q(kind="invoice"),
                name="invoice_once_a_month",
            ),
        ]

    def __str__(self):
        return self.display_number

    @property
    def display_number(self) -> str:
        return f"{self.series}-{self.number:06d}"


class InvoiceLine(TenantOwned):
    """One priced session on an invoice (negative on a credit note)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    cdr = models.ForeignKey(ChargeDetailRecord, on_delete=models.PROTECT, related_name="+")
    description = models.CharField(max_length=300)
    total_excl_vat_minor = models.BigIntegerField()
    total_incl_vat_minor = models.BigIntegerField()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "cdr"], name="invoiceline_unique"),
        ]


class SiteShare(TenantOwned):
    """What a site's owner gets of its sessions' revenue: a share (percent of the revenue
    excluding VAT), less a monthly fee withheld (the site's connectivity and service)."""

    site = models.OneToOneField("cpms.Site", on_delete=models.CASCADE, related_name="share")
    revenue_share_percent = models.DecimalField(max_digits=5, decimal_places=2)
    monthly_fee = models.DecimalField(
        max_digits=12, decimal_places=2, default=0, help_text="Withheld each month."
    )

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"{self.site_id}: {self.revenue_share_percent} %"


class Statement(TenantOwned):
    """A site owner's monthly settlement statement, per currency: the revenue of their sites'
    sessions, the agreed share, the fees withheld, the payout. Issued once, never changed."""

    site_owner = models.ForeignKey(
        "cpms.SiteOwner", on_delete=models.PROTECT, related_name="statements"
    )
    period_start = models.DateField()
    period_end = models.DateField()
    issued_at = models.DateTimeField()
    currency = models.CharField(max_length=3)
    revenue_minor = models.BigIntegerField(help_text="Excluding VAT.")
    share_minor = models.BigIntegerField()
    fees_minor = models.BigIntegerField()
    payout_minor = models.BigIntegerField()
    sites = models.JSONField(help_text="Per site: sessions, energy, revenue, share, fee.")
    # Records of earlier months corrected (or first priced) after their month's statement was
    # issued: that statement stays as it was; the difference is settled here, and in payout.
    adjustments = models.JSONField(
        default=list, help_text="Per corrected record: its month, revenue before and now, share."
    )
    adjustment_minor = models.BigIntegerField(
        default=0, help_text="The share of the adjustments' revenue difference."
    )
    # The tenant and the site owner as they were at issue, like an invoice's parties.
    issuer = models.JSONField(default=dict)
    recipient = models.JSONField(default=dict)

    class Meta:
        ordering = ["-period_start", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["site_owner", "currency", "period_start"], name="statement_once"
            ),
        ]

    def __str__(self):
        return f"{self.site_owner_id} {self.period_start:%Y-%m}"


DEFAULT_COST_UPDATE_SECONDS = 60
DEFAULT_PAYMENT_TERMS = "Payable within 14 days of the issue date."


class BillingSettings(TenantOwned):
    """The tenant's billing settings, one row (a tenant without one has the defaults): how
    often chargers are sent a running session's cost (2.0.1 CostUpdated, 1.6 California
    Pricing RunningCost; 0 sends none), the seller's legal details its invoices show, and
    whether invoices are issued as Factur-X e-invoices."""

    cost_update_seconds = models.PositiveIntegerField(default=DEFAULT_COST_UPDATE_SECONDS)
    legal_name = models.CharField(
        max_length=200, blank=True, help_text="As registered; the tenant's name when empty."
    )
    street = models.CharField(max_length=200, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 alpha-2, e.g. DE.")
    vat_id = models.CharField("VAT id", max_length=30, blank=True)
    payment_terms = models.CharField(max_length=300, blank=True, default=DEFAULT_PAYMENT_TERMS)
    facturx = models.BooleanField(
        "Factur-X e-invoices",
        default=False,
        help_text="Invoices issued from now on are PDF/A-3 documents with their EN 16931 XML "
        "(Factur-X / ZUGFeRD) embedded.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="billingsettings_unique"),
        ]

    def __str__(self):
        return f"billing settings of {self.tenant_id}"


class RunningCost(TenantOwned):
    """The last cost a running session's charger was sent, and when."""

    session = models.OneToOneField(
        "chargers.ChargingSession", on_delete=models.CASCADE, related_name="running_cost"
    )
    amount = models.DecimalField(max_digits=14, decimal_places=4)
    currency = models.CharField(max_length=3)
    sent_at = models.DateTimeField()
    final = models.BooleanField(default=False, help_text="The session's total was sent.")

    def __str__(self):
        return f"{self.session_id}: {self.amount} {self.currency}"
