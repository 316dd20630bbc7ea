"""Writes of the tenant's CA: a built-in one created on demand, or a sub-CA imported as
certificate and key (PEM). The private key is sealed at rest with a key derived from
`CERTIFICATE_KEY_SECRET` (the SECRET_KEY by default) and bound to the tenant."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from chargers.certificates import crypto
from chargers.certificates.models import AuthoritySource, CertificateAuthority
from cpms.audit import services as audit
from cpms.audit.models import ObjectType, Verb
from cpms.tenancy import scoping


def _context(tenant_id: int) -> bytes:
    return f"tenant:{tenant_id}".encode()


def authority_key(authority: CertificateAuthority) -> crypto.PrivateKey:
    """The CA's private key, opened for signing (never stored open, never shown)."""
    return crypto.decrypt_key(
        authority.key_encrypted,
        secret=settings.CERTIFICATE_KEY_SECRET,
        context=_context(authority.tenant_id),
    )


def _store(
    *,
    source: str,
    certificate: crypto.x509.Certificate,
    chain: list[crypto.x509.Certificate],
    key: crypto.PrivateKey,
) -> CertificateAuthority:
    tenant = scoping.current_tenant()
    if tenant is None:
        raise scoping.TenantScopeError("a CA is created in a tenant's scope")
    CertificateAuthority.objects.select_for_update().filter(active=True).update(active=False)
    return CertificateAuthority.objects.create(
        source=source,
        subject=certificate.subject.rfc4514_string()[:300],
        certificate_pem=crypto.pem_of(certificate),
        chain_pem="".join(crypto.pem_of(c) for c in chain),
        key_encrypted=crypto.encrypt_key(
            key, secret=settings.CERTIFICATE_KEY_SECRET, context=_context(tenant.pk)
        ),
        fingerprint=crypto.fingerprint(certificate),
        not_after=certificate.not_valid_after_utc,
    )


@transaction.atomic
def authority_create() -> CertificateAuthority:
    """A new built-in CA for the tenant (a self-signed root and the CPO sub-CA under it); it
    replaces the active one, whose certificates stay valid until they expire."""
    tenant = scoping.current_tenant()
    organization = tenant.name if tenant is not None else "CPMS"
    made = crypto.new_authority(organization=organization, now=timezone.now())
    created = _store(
        source=AuthoritySource.BUILT_IN,
        certificate=made.sub_ca,
        chain=[made.root],
        key=made.sub_ca_key,
    )
    _record(created, Verb.CREATE)
    return created


# What the audit log keeps of a CA: the key only as "set" (masked), never its sealed bytes.
AUDITED_FIELDS = ("source", "subject", "fingerprint", "not_after", "key_encrypted")


def _record(authority: CertificateAuthority, action: str) -> None:
    audit.record(
        action=action,
        object_type=ObjectType.CERTIFICATE_AUTHORITY,
        target=authority,
        label=authority.subject,
        changes=audit.new_values(audit.snapshot(authority, AUDITED_FIELDS)),
    )


@transaction.atomic
def authority_import(*, certificate_pem: str, key_pem: str) -> CertificateAuthority:
    """Replace the tenant's CA with a sub-CA of the operator's own PKI: `certificate_pem` holds
    the sub-CA's certificate first, then those above it; `key_pem` its unencrypted key."""
    errors: dict[str, list[str]] = {}
    certificates: list[crypto.x509.Certificate] = []
    key = None
    try:
        certificates = crypto.load_certificates(certificate_pem)
    except crypto.CertificateError as error:
        errors["certificate"] = [str(error)]
    try:
        key = crypto.load_private_key(key_pem)
    except crypto.CertificateError as error:
        errors["key"] = [str(error)]
    if errors or key is None:
        raise ValidationError(errors)
    problem = crypto.check_authority(certificates[0], key, now=timezone.now())
    if problem:
        raise ValidationError({"certificate": [f"Cannot sign with it: {problem}."]})
    imported = _store(
        source=AuthoritySource.IMPORTED,
        certificate=certificates[0],
        chain=certificates[1:],
        key=key,
    )
    _record(imported, Verb.IMPORT)
    return imported


def authority_for_signing() -> CertificateAuthority:
    """The tenant's active CA, created on first use."""
    active = CertificateAuthority.objects.filter(active=True).first()
    if active is not None:
        return active
    try:
        with transaction.atomic():
            return authority_create()
    except IntegrityError:  # another worker created it meanwhile
        return CertificateAuthority.objects.get(active=True)
