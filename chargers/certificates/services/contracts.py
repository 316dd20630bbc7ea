"""Writes of Plug & Charge: the tenant's built-in test V2G PKI (created on first use), the
contract certificates it issues (their key sealed, their eMAID token created or linked), their
revocation, the record of each EV certificate request, and the OCSP cache."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from chargers.certificates import crypto, v2g
from chargers.certificates.models import (
    ContractCertificate,
    EvCertificateRequest,
    OcspCacheEntry,
    V2gAuthority,
)
from chargers.certificates.services.pnc_settings import pnc_settings
from chargers.models import EventKind, IdToken, IdTokenType
from chargers.services.reports import charger_event_record
from cpms.tenancy import scoping
from cpms.tenancy.rows import one_row


def _context(tenant_id: int) -> bytes:
    return f"tenant:{tenant_id}:v2g".encode()


def _seal(key: crypto.PrivateKey, tenant_id: int) -> str:
    return crypto.encrypt_key(
        key, secret=settings.CERTIFICATE_KEY_SECRET, context=_context(tenant_id)
    )


def open_key(sealed: str, tenant_id: int) -> crypto.PrivateKey:
    return crypto.decrypt_key(
        sealed, secret=settings.CERTIFICATE_KEY_SECRET, context=_context(tenant_id)
    )


def v2g_authority() -> V2gAuthority:
    """The tenant's built-in V2G root and MO sub-CA, created on first use; ValidationError
    while the built-in test V2G PKI is off (PNC_TEST_PKI)."""
    if not settings.PNC_TEST_PKI:
        raise ValidationError(
            {"provider": [_("The built-in test V2G PKI is off here (PNC_TEST_PKI).")]}
        )
    found = V2gAuthority.objects.first()
    if found is not None:
        return found
    tenant = scoping.current_tenant()
    if tenant is None:
        raise scoping.TenantScopeError("a V2G PKI is created in a tenant's scope")
    made = v2g.new_pki(organization=tenant.name, now=timezone.now())
    try:
        with transaction.atomic():
            return V2gAuthority.objects.create(
                root_pem=crypto.pem_of(made.root),
                root_key_sealed=_seal(made.root_key, tenant.pk),
                mo_pem=crypto.pem_of(made.sub_ca),
                mo_key_sealed=_seal(made.sub_ca_key, tenant.pk),
                mo_subject=made.sub_ca.subject.rfc4514_string()[:300],
                mo_fingerprint=crypto.fingerprint(made.sub_ca),
                not_after=made.sub_ca.not_valid_after_utc,
            )
    except IntegrityError:  # another socket created it meanwhile
        return V2gAuthority.objects.get()


def secc_issuer() -> tuple[crypto.x509.Certificate, crypto.PrivateKey]:
    """The built-in V2G PKI's CPO sub-CA (certificate, key), which signs chargers' V2G (SECC)
    certificates; made under the V2G root when first needed."""
    authority = V2gAuthority.objects.select_for_update().get(pk=v2g_authority().pk)
    if not authority.cpo_pem:
        root = crypto.load_certificates(authority.root_pem)[0]
        key = crypto.new_key()
        organization = v2g.organization(root)
        cpo = crypto.sub_ca_certificate(
            subject=crypto.name(f"{organization} CPO Sub-CA (V2G)", organization),
            public_key=key.public_key(),
            issuer=root,
            issuer_key=open_key(authority.root_key_sealed, authority.tenant_id),
            now=timezone.now(),
            days=v2g.CPO_DAYS,
        )
        authority.cpo_pem, authority.cpo_key_sealed = (
            crypto.pem_of(cpo),
            _seal(key, authority.tenant_id),
        )
        authority.save(update_fields=["cpo_pem", "cpo_key_sealed"])
    cpo = crypto.load_certificates(authority.cpo_pem)[0]
    return cpo, open_key(authority.cpo_key_sealed, authority.tenant_id)


@dataclass(frozen=True)
class IssuedContract:
    contract: ContractCertificate
    chain: list[crypto.x509.Certificate]
    key: ec.EllipticCurvePrivateKey


def _emaid_token(emaid: str) -> IdToken:
    """The eMAID's token: an operator-provisioned one (any type) wins and keeps its group;
    otherwise a new eMAID token in the group the settings name."""
    token = one_row(IdToken, ignore_case=True, uid=emaid)
    if token is not None:
        return token
    return IdToken.objects.create(
        uid=emaid,
        type=IdTokenType.EMAID,
        label=_("Plug & Charge contract"),
        group=pnc_settings().token_group,
    )


@transaction.atomic
def contract_issue(
    *,
    emaid: str,
    charger_id: int | None = None,
    days: int = v2g.CONTRACT_DAYS,
    now: datetime | None = None,
) -> IssuedContract:
    """A contract certificate for `emaid` from the built-in MO sub-CA. The provider makes the
    contract key, as ISO 15118-2 has it (the EV receives it encrypted); it is kept sealed."""
    problem = v2g.emaid_problem(emaid)
    if problem:
        raise ValidationError({"emaid": [problem]})
    if days < 1:
        raise ValidationError({"days": [_("At least one day.")]})
    authority = v2g_authority()
    mo = crypto.load_certificates(authority.mo_pem)[0]
    key = crypto.new_key()
    leaf = v2g.issue_contract(
        emaid=emaid,
        public_key=key.public_key(),
        mo=mo,
        mo_key=open_key(authority.mo_key_sealed, authority.tenant_id),
        now=now or timezone.now(),
        days=days,
    )
    ident = v2g.OcspId.of(leaf, mo)
    contract = ContractCertificate.objects.create(
        authority=authority,
        emaid=emaid,
        id_token=_emaid_token(emaid),
        charger_id=charger_id,
        serial=ident.serial,
        issuer_name_hash=ident.issuer_name_hash,
        issuer_key_hash=ident.issuer_key_hash,
        not_before=leaf.not_valid_before_utc,
        not_after=leaf.not_valid_after_utc,
        fingerprint=crypto.fingerprint(leaf),
        pem=crypto.pem_of(leaf),
        key_sealed=_seal(key, authority.tenant_id),
    )
    return IssuedContract(contract=contract, chain=[leaf, mo], key=key)


@transaction.atomic
def contract_revoke(*, contract: ContractCertificate) -> ContractCertificate:
    """Revoke a contract certificate: the built-in responder says so from now on (a cached
    response about it is dropped at once)."""
    locked = ContractCertificate.objects.select_for_update().get(pk=contract.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
    OcspCacheEntry.objects.filter(
        issuer_key_hash=locked.issuer_key_hash, serial=locked.serial
    ).delete()
    return locked


@transaction.atomic
def ev_certificate_record(
    *,
    charger_id: int,
    action: str,
    provider: str,
    status: str,
    emaid: str = "",
    reason: str = "",
    contract_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> EvCertificateRequest:
    """Record an EV certificate request and its outcome, and keep the message as an event."""
    summary = f"{action} {emaid or '?'}: {status}" + (f" ({reason})" if reason else "")
    charger_event_record(
        charger_id=charger_id, kind=EventKind.EV_CERTIFICATE, summary=summary, payload=payload
    )
    return EvCertificateRequest.objects.create(
        charger_id=charger_id,
        action=action[:10],
        provider=provider,
        emaid=emaid[:36],
        status=status,
        reason=reason[:300],
        contract_id=contract_id,
    )


# --- OCSP ---------------------------------------------------------------------------------------


def ocsp_local(ident: v2g.OcspId) -> v2g.OcspAnswer | None:
    """The built-in responder: a response signed by the issuing CA for a certificate of the
    tenant's V2G PKI (a contract by the MO sub-CA, the MO sub-CA by the root); None when the
    issuer is not the tenant's."""
    authority = V2gAuthority.objects.first()
    if authority is None or not settings.PNC_TEST_PKI:
        return None
    mo = crypto.load_certificates(authority.mo_pem)[0]
    root = crypto.load_certificates(authority.root_pem)[0]
    for issuer, sealed in ((mo, authority.mo_key_sealed), (root, authority.root_key_sealed)):
        if crypto.issuer_hashes(issuer) != (ident.issuer_name_hash, ident.issuer_key_hash):
            continue
        if issuer is mo:
            contract = ContractCertificate.objects.filter(
                issuer_key_hash=ident.issuer_key_hash, serial=ident.serial
            ).first()
            known, revoked_at = contract is not None, contract and contract.revoked_at
        else:
            known, revoked_at = format(mo.serial_number, "x") == ident.serial, None
        return v2g.ocsp_sign(
            ident=ident,
            revoked_at=revoked_at or None,
            known=known,
            responder=issuer,
            responder_key=open_key(sealed, authority.tenant_id),
            now=timezone.now(),
        )
    return None


def ocsp_cached(ident: v2g.OcspId) -> v2g.OcspAnswer | None:
    """A cached response still before its next update (counted as served), or None."""
    entry = OcspCacheEntry.objects.filter(
        issuer_name_hash=ident.issuer_name_hash,
        issuer_key_hash=ident.issuer_key_hash,
        serial=ident.serial,
        next_update__gt=timezone.now(),
    ).first()
    if entry is None:
        return None
    OcspCacheEntry.objects.filter(pk=entry.pk).update(served=F("served") + 1)
    return v2g.OcspAnswer(bytes(entry.response_der), entry.cert_status, entry.next_update)


@transaction.atomic
def ocsp_cache_store(*, ident: v2g.OcspId, answer: v2g.OcspAnswer) -> None:
    """Keep a response until its next update (one without a next update is not kept)."""
    if answer.next_update is None or not answer.cert_status:
        return
    OcspCacheEntry.objects.update_or_create(
        issuer_name_hash=ident.issuer_name_hash,
        issuer_key_hash=ident.issuer_key_hash,
        serial=ident.serial,
        defaults={
            "response_der": answer.der,
            "cert_status": answer.cert_status,
            "next_update": answer.next_update,
            "served": 1,
        },
    )
