"""A tenant's charging-station PKI: its CA (a CPO sub-CA, built in or imported), the requests
chargers make for a certificate, the certificates it issued, the root certificates each charger
holds, and the operations on those (install, list, delete) an operator starts."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cpms.tenancy.scoping import TenantOwned


class CertificateUse(models.TextChoices):
    """What a charger's own certificate is for (the CSR's certificate type)."""

    CHARGING_STATION = "charging_station", _("Charging station (TLS client)")
    V2G = "v2g", _("V2G (ISO 15118)")


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
    # The CPO CA that signed a charging-station certificate; a V2G (SECC) certificate is
    # signed by the V2G PKI's CPO sub-CA instead (`V2gAuthority`), and has none.
    authority = models.ForeignKey(
        CertificateAuthority,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="issued",
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


# --- Plug & Charge (ISO 15118 through OCPP 2.0.1) ---------------------------------------------


class ProviderKind(models.TextChoices):
    """Where contract certificates come from (Get15118EVCertificate is forwarded there)."""

    LOCAL = "local", _("Built-in test V2G PKI")
    REMOTE = "remote", _("Remote provider (URL and credentials)")


class OcspMode(models.TextChoices):
    """Who answers for a contract certificate's status."""

    LOCAL = "local", _("Built-in responder only")
    REMOTE = "remote", _("Built-in responder, else the certificate's responder URL")


class PlugAndChargeSettings(TenantOwned):
    """The tenant's Plug & Charge configuration: the contract-certificate provider, OCSP, the
    roots contracts are validated against and the group of the eMAID tokens it creates."""

    provider = models.CharField(
        max_length=10, choices=ProviderKind.choices, default=ProviderKind.LOCAL
    )
    remote_url = models.URLField(blank=True, max_length=300)
    remote_username = models.CharField(max_length=150, blank=True)
    remote_secret_sealed = models.TextField(
        blank=True, help_text="The remote provider's password or token, AES-GCM sealed."
    )
    remote_timeout = models.PositiveIntegerField(default=20)
    ocsp_mode = models.CharField(max_length=10, choices=OcspMode.choices, default=OcspMode.LOCAL)
    trusted_roots_pem = models.TextField(
        blank=True, help_text="V2G roots trusted besides the built-in one (PEM)."
    )
    token_group = models.ForeignKey(
        "chargers.IdToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="pncsettings_one_per_tenant")
        ]


class V2gAuthority(TenantOwned):
    """The tenant's built-in test V2G PKI: a V2G root, the mobility operator (MO) sub-CA
    under it that signs contract certificates, and the CPO sub-CA under it that signs the
    chargers' V2G (SECC) certificates, made when the first is asked for. Keys sealed as the
    CPO CA's is."""

    root_pem = models.TextField()
    root_key_sealed = models.TextField()
    mo_pem = models.TextField()
    mo_key_sealed = models.TextField()
    cpo_pem = models.TextField(blank=True)
    cpo_key_sealed = models.TextField(blank=True)
    mo_subject = models.CharField(max_length=300)
    mo_fingerprint = models.CharField(max_length=64)
    not_after = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="v2gauthority_one_per_tenant")
        ]


class ContractCertificate(TenantOwned):
    """A contract certificate the tenant's MO sub-CA issued (subject CN = the eMAID), with
    its key sealed, its OCSP identity (SHA-256 hash data) and its revocation."""

    authority = models.ForeignKey(V2gAuthority, on_delete=models.PROTECT, related_name="issued")
    emaid = models.CharField(max_length=36, db_index=True)
    id_token = models.ForeignKey(
        "chargers.IdToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    charger = models.ForeignKey(
        "chargers.Charger",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The charger the EV asked through, when it came by Get15118EVCertificate.",
    )
    serial = models.CharField(max_length=40, help_text="Hexadecimal, lower case.")
    issuer_name_hash = models.CharField(max_length=64)
    issuer_key_hash = models.CharField(max_length=64)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    fingerprint = models.CharField(max_length=64)
    pem = models.TextField()
    key_sealed = models.TextField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "issuer_key_hash", "serial"], name="contract_unique_serial"
            )
        ]

    def __str__(self):
        return f"{self.emaid} ({self.serial})"

    def state(self, at=None) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.not_after <= (at or timezone.now()) else "valid"


class EvRequestStatus(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    FAILED = "failed", _("Failed")


class EvCertificateRequest(TenantOwned):
    """One Get15118EVCertificate a charger forwarded for an EV, and what the provider said."""

    charger = models.ForeignKey(
        "chargers.Charger", on_delete=models.CASCADE, related_name="ev_certificate_requests"
    )
    action = models.CharField(max_length=10, help_text="install or update")
    provider = models.CharField(max_length=10, choices=ProviderKind.choices)
    emaid = models.CharField(max_length=36, blank=True)
    status = models.CharField(max_length=10, choices=EvRequestStatus.choices)
    reason = models.CharField(max_length=300, blank=True)
    contract = models.ForeignKey(
        ContractCertificate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class OcspCacheEntry(TenantOwned):
    """An OCSP response kept until its next update, per certificate (SHA-256 hash data);
    `served` counts the answers given from it."""

    issuer_name_hash = models.CharField(max_length=64)
    issuer_key_hash = models.CharField(max_length=64)
    serial = models.CharField(max_length=40)
    response_der = models.BinaryField()
    cert_status = models.CharField(max_length=10)
    next_update = models.DateTimeField()
    served = models.PositiveIntegerField(default=0)
    fetched_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "issuer_name_hash", "issuer_key_hash", "serial"],
                name="ocspcache_unique_certificate",
            )
        ]
