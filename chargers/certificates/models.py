"""A tenant's charging-station PKI: its CA (a CPO sub-CA, built in or imported), the requests
chargers make for a certificate, the certificates it issued, the root certificates each charger
holds, and the operations on those (install, list, delete) an operator starts."""

from __future__ import annotations

from django.db import models

from cpms.tenancy.scoping import TenantOwned


class CertificateUse(models.TextChoices):
    """What a charger's own certificate is for (the CSR's certificate type)."""

    CHARGING_STATION = "charging_station", "Charging station (TLS client)"
    V2G = "v2g", "V2G (ISO 15118)"


class RootKind(models.TextChoices):
    """The root certificates a charger can hold; 1.6 knows the first two only."""

    CSMS = "csms_root", "CSMS root"
    MANUFACTURER = "manufacturer_root", "Manufacturer root"
    V2G = "v2g_root", "V2G root"
    MO = "mo_root", "Mobility operator root"


class AuthoritySource(models.TextChoices):
    BUILT_IN = "built_in", "Created here"
    IMPORTED = "imported", "Imported"


class CertificateAuthority(TenantOwned):
    """The CPO sub-CA that signs the tenant's chargers; one is active, an import or a new one
    replaces it (earlier ones are kept, inactive, for the certificates they issued)."""

    source = models.CharField(max_length=10, choices=AuthoritySource.choices)
    subject = models.CharField(max_length=300)
    certificate_pem = models.TextField(help_text="The sub-CA's certificate.")
    chain_pem = models.TextField(blank=True, help_text="The certificates above it, to the root.")
    key_encrypted = models.TextField(help_text="The private key, AES-GCM sealed (never shown).")
    fingerprint = models.CharField(max_length=64)
    not_after = models.DateTimeField()
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"],
                condition=models.Q(active=True),
                name="certificateauthority_one_active",
            )
        ]

    def __str__(self):
        return self.subject


class CertificateSettings(TenantOwned):
    """The tenant's certificate policy."""

    renew_days = models.PositiveIntegerField(
        default=30, help_text="Ask a charger for a new certificate this many days before expiry."
    )
    pin_issued = models.BooleanField(
        default=False,
        help_text="Security profile 3: accept only a client certificate issued here to that "
        "charger and still valid.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="certificatesettings_one_per_tenant")
        ]


class RequestState(models.TextChoices):
    REJECTED = "rejected", "Rejected"
    ACCEPTED = "accepted", "Accepted, to be signed"
    SENT = "sent", "Certificate sent"
    INSTALLED = "installed", "Installed by the charger"
    FAILED = "failed", "Failed"


class SigningRequest(TenantOwned):
    """A CSR a charger sent (SignCertificate) and what became of it."""

    charger = models.ForeignKey(
        "chargers.Charger", on_delete=models.CASCADE, related_name="signing_requests"
    )
    use = models.CharField(max_length=20, choices=CertificateUse.choices)
    csr_pem = models.TextField()
    state = models.CharField(max_length=10, choices=RequestState.choices)
    reason = models.CharField(max_length=300, blank=True)
    certificate = models.ForeignKey(
        "IssuedCertificate", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    command = models.ForeignKey(
        "chargers.Command", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class IssuedState(models.TextChoices):
    SENT = "sent", "Sent to the charger"
    INSTALLED = "installed", "Installed"
    REFUSED = "refused", "Refused by the charger"
    SUPERSEDED = "superseded", "Superseded by a newer one"


class IssuedCertificate(TenantOwned):
    """A certificate the tenant's CA signed for one of its chargers."""

    charger = models.ForeignKey(
        "chargers.Charger", on_delete=models.CASCADE, related_name="issued_certificates"
    )
    authority = models.ForeignKey(
        CertificateAuthority, on_delete=models.PROTECT, related_name="issued"
    )
    use = models.CharField(max_length=20, choices=CertificateUse.choices)
    serial = models.CharField(max_length=40, help_text="Hexadecimal.")
    subject = models.CharField(max_length=300)
    issuer = models.CharField(max_length=300)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the DER, hex.")
    pem = models.TextField()
    state = models.CharField(max_length=10, choices=IssuedState.choices, default=IssuedState.SENT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-not_after", "-id"]
        indexes = [models.Index(fields=["state", "not_after"])]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "fingerprint"], name="issuedcertificate_unique_fingerprint"
            )
        ]

    def __str__(self):
        return f"{self.subject} ({self.serial})"


class InstalledCertificate(TenantOwned):
    """A root certificate a charger holds, as it last listed it (or as we installed it)."""

    charger = models.ForeignKey(
        "chargers.Charger", on_delete=models.CASCADE, related_name="installed_certificates"
    )
    kind = models.CharField(max_length=20, choices=RootKind.choices)
    hash_algorithm = models.CharField(max_length=10, default="SHA256")
    issuer_name_hash = models.CharField(max_length=128)
    issuer_key_hash = models.CharField(max_length=128)
    serial_number = models.CharField(max_length=40)
    subject = models.CharField(max_length=300, blank=True, help_text="Known when installed here.")
    pem = models.TextField(blank=True)
    seen_at = models.DateTimeField()

    class Meta:
        ordering = ["kind", "subject", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["charger", "issuer_name_hash", "issuer_key_hash", "serial_number"],
                name="installedcertificate_unique",
            )
        ]


class OperationKind(models.TextChoices):
    INSTALL = "install", "Install"
    LIST = "list", "List installed"
    DELETE = "delete", "Delete"


class OperationState(models.TextChoices):
    SENT = "sent", "Sent"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class CertificateOperation(TenantOwned):
    """One install, list or delete sent to one charger; a fleet operation is a batch of them."""

    charger = models.ForeignKey(
        "chargers.Charger", on_delete=models.CASCADE, related_name="certificate_operations"
    )
    batch = models.CharField(max_length=32, blank=True, db_index=True)
    kind = models.CharField(max_length=10, choices=OperationKind.choices)
    root_kind = models.CharField(max_length=20, choices=RootKind.choices, blank=True)
    pem = models.TextField(blank=True)
    hash_data = models.JSONField(default=dict, blank=True)
    state = models.CharField(
        max_length=10, choices=OperationState.choices, default=OperationState.SENT
    )
    detail = models.CharField(max_length=300, blank=True)
    command = models.ForeignKey(
        "chargers.Command", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by = models.ForeignKey(
        "cpms.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
