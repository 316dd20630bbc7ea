"""Writes of chargers' certificate requests: a CSR is checked and recorded (refused ones with
their reason, as a charger event too), an accepted one is signed by the tenant's CA in a task
and sent to the charger (CertificateSigned, through the command path), and the charger's reply
decides whether the certificate is installed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from chargers.certificates import crypto
from chargers.certificates.models import (
    CertificateAuthority,
    CertificateUse,
    IssuedCertificate,
    IssuedState,
    ProviderKind,
    RequestState,
    SigningRequest,
)
from chargers.certificates.services import contracts
from chargers.certificates.services.authority import authority_for_signing, authority_key
from chargers.certificates.services.pnc_settings import pnc_settings
from chargers.models import Charger, Command, CommandStatus, EventKind
from chargers.ocpp import builders, readers
from chargers.services.commands import UNFINISHED
from chargers.services.reports import charger_event_record
from cpms.handoff import queue_task

SOURCE = "certificates"
V2G_REMOTE = (
    "V2G certificates are signed by the built-in test V2G PKI only; with a remote provider "
    "the charger's V2G certificate comes from that PKI"
)


@dataclass(frozen=True)
class SigningVerdict:
    accepted: bool
    reason: str
    request_id: int


@transaction.atomic
def signing_request_record(
    *, charger_id: int, csr: str, use: str, payload: dict[str, Any] | None = None
) -> SigningVerdict:
    """Check a CSR the charger on this socket sent and record the verdict; an accepted one is
    signed by a task once this commits. `payload` is the message, kept as the charger event."""
    charger = Charger.objects.get(pk=charger_id)
    if use == CertificateUse.CHARGING_STATION:
        reason = crypto.check_csr(csr, identity=charger.identity).problem
    elif use == CertificateUse.V2G:
        reason = _v2g_problem(csr)
    else:
        reason = f"unknown certificate type {use.removeprefix('other:')!r}"
    request = SigningRequest.objects.create(
        charger=charger,
        use=use if use in CertificateUse.values else CertificateUse.CHARGING_STATION,
        csr_pem=csr[:10000],
        state=RequestState.REJECTED if reason else RequestState.ACCEPTED,
        reason=reason[:300],
    )
    charger_event_record(
        charger_id=charger_id,
        kind=EventKind.SIGN_CERTIFICATE,
        summary=f"CSR rejected: {reason}" if reason else "CSR accepted; signing",
        payload=payload or {},
    )
    if not reason:
        from chargers.certificates.tasks import sign

        tenant_id, request_id = charger.tenant_id, request.pk
        transaction.on_commit(lambda: queue_task(sign, tenant_id=tenant_id, request_id=request_id))
    return SigningVerdict(accepted=not reason, reason=reason, request_id=request.pk)


def _v2g_problem(csr: str) -> str:
    """Why the tenant does not sign this V2G (SECC) CSR, or ''."""
    if not settings.PNC_TEST_PKI:
        return "the built-in test V2G PKI is off here (PNC_TEST_PKI)"
    if pnc_settings().provider != ProviderKind.LOCAL:
        return V2G_REMOTE
    return crypto.check_v2g_csr(csr).problem


def _issue(request: SigningRequest) -> tuple[IssuedCertificate, str]:
    """The certificate signed for the request and the chain above it (PEM)."""
    if request.use == CertificateUse.V2G:
        check = crypto.check_v2g_csr(request.csr_pem)
    else:  # checked when it arrived; the charger's id may have changed since
        check = crypto.check_csr(request.csr_pem, identity=request.charger.identity)
    if check.csr is None:
        raise crypto.CertificateError(check.problem)
    authority: CertificateAuthority | None = None
    if request.use == CertificateUse.V2G:
        try:
            issuer, issuer_key = contracts.secc_issuer()
        except ValidationError as error:  # the test V2G PKI was turned off meanwhile
            raise crypto.CertificateError(" ".join(error.messages)) from None
    else:
        authority = authority_for_signing()
        issuer = crypto.load_certificates(authority.certificate_pem)[0]
        issuer_key = authority_key(authority)
    leaf = crypto.sign_csr(
        check.csr,
        issuer=issuer,
        issuer_key=issuer_key,
        now=timezone.now(),
        v2g=request.use == CertificateUse.V2G,
    )
    issued = IssuedCertificate.objects.create(
        charger=request.charger,
        authority=authority,
        use=request.use,
        serial=format(leaf.serial_number, "x"),
        subject=leaf.subject.rfc4514_string()[:300],
        issuer=leaf.issuer.rfc4514_string()[:300],
        not_before=leaf.not_valid_before_utc,
        not_after=leaf.not_valid_after_utc,
        fingerprint=crypto.fingerprint(leaf),
        pem=crypto.pem_of(leaf),
    )
    return issued, crypto.pem_of(issuer)


def signing_request_sign(*, request_id: int) -> Command | None:
    """Sign an accepted request with the tenant's CA and send the chain (leaf, then the
    sub-CA) to the charger; once per request. Returns the command sent."""
    with transaction.atomic():
        request = (
            SigningRequest.objects.select_for_update(of=("self",))
            .select_related("charger")
            .filter(pk=request_id, state=RequestState.ACCEPTED)
            .first()
        )
        if request is None:
            return None
        try:
            issued, above = _issue(request)
        except crypto.CertificateError as error:
            request.state, request.reason = RequestState.FAILED, str(error)[:300]
            request.save(update_fields=["state", "reason"])
            return None
        request.certificate, request.state = issued, RequestState.SENT
        request.save(update_fields=["certificate", "state"])
        chain = issued.pem + above
    built = builders.certificate_signed(request.charger, chain=chain, use=request.use)
    command = builders.perform(request.charger, built, wait=False, source=SOURCE)
    with transaction.atomic():
        request = SigningRequest.objects.select_for_update().get(pk=request_id)
        request.command = command
        request.save(update_fields=["command"])
        command.refresh_from_db()
        if command.status not in UNFINISHED:
            _apply_outcome(request, command)
    return command


def _apply_outcome(request: SigningRequest, command: Command) -> None:
    if request.state != RequestState.SENT or request.certificate_id is None:
        return
    issued = IssuedCertificate.objects.select_for_update().get(pk=request.certificate_id)
    status = ""
    if command.status == CommandStatus.ANSWERED:
        status = readers.certificate_status(command.response)
    if status == "Accepted":
        # The charger now uses the new certificate: its earlier ones are superseded.
        IssuedCertificate.objects.filter(
            charger_id=issued.charger_id, use=issued.use, state=IssuedState.INSTALLED
        ).exclude(pk=issued.pk).update(state=IssuedState.SUPERSEDED)
        issued.state, request.state = IssuedState.INSTALLED, RequestState.INSTALLED
    else:
        label = status or CommandStatus(command.status).english
        issued.state, request.state = IssuedState.REFUSED, RequestState.FAILED
        request.reason = f"The charger answered {label}. {command.error}".strip()[:300]
    issued.save(update_fields=["state"])
    request.save(update_fields=["state", "reason"])


@transaction.atomic
def signing_command_finished(*, command_id: int) -> bool:
    """The charger's reply to a CertificateSigned we sent; whether it was one of ours."""
    request = (
        SigningRequest.objects.select_for_update(of=("self",)).filter(command_id=command_id).first()
    )
    if request is None:
        return False
    _apply_outcome(request, Command.objects.get(pk=command_id))
    return True
