"""Root certificates on chargers: InstallCertificate, GetInstalledCertificateIds and
DeleteCertificate sent to one charger or to many (a fleet operation, one batch), each recorded
with its outcome, and the set each charger holds kept from their replies."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from chargers.certificates import crypto
from chargers.certificates.models import (
    CertificateOperation,
    InstalledCertificate,
    OperationKind,
    OperationState,
    RootKind,
)
from chargers.models import Charger, Command, CommandStatus
from chargers.ocpp import builders, readers
from chargers.services.commands import UNFINISHED
from cpms.audit import services as audit
from cpms.audit.models import ObjectType, Verb
from cpms.models import User

SOURCE = "certificates"


def _root(pem: str) -> crypto.x509.Certificate:
    try:
        found = crypto.load_certificates(pem)
    except crypto.CertificateError as error:
        raise ValidationError({"certificate": [str(error)]}) from None
    if len(found) != 1:
        raise ValidationError({"certificate": ["Give exactly one certificate."]})
    return found[0]


def _send(operation: CertificateOperation, built: builders.Request) -> CertificateOperation:
    command = builders.perform(
        operation.charger, built, wait=False, requested_by=operation.requested_by, source=SOURCE
    )
    with transaction.atomic():
        operation = CertificateOperation.objects.select_for_update().get(pk=operation.pk)
        operation.command = command
        operation.save(update_fields=["command"])
        command.refresh_from_db()
        if command.status not in UNFINISHED:
            _apply(operation, command)
    return operation


def _operations(
    chargers: Iterable[Charger],
    *,
    kind: str,
    build,
    requested_by: User | None,
    root_kind: str = "",
    pem: str = "",
    hash_data: dict[str, str] | None = None,
    batch: str = "",
) -> list[CertificateOperation]:
    """Record one operation per charger (refused at once where its version cannot say it),
    then send each."""
    batch = batch or secrets.token_hex(8)
    pending: list[tuple[CertificateOperation, builders.Request]] = []
    done: list[CertificateOperation] = []
    with transaction.atomic():
        for charger in chargers:
            operation = CertificateOperation(
                charger=charger,
                batch=batch,
                kind=kind,
                root_kind=root_kind,
                pem=pem,
                hash_data=hash_data or {},
                requested_by=requested_by,
            )
            try:
                built = build(charger)
            except builders.ActionError as error:
                operation.state, operation.detail = OperationState.FAILED, str(error)[:300]
                operation.save()
                done.append(operation)
                continue
            operation.save()
            pending.append((operation, built))
    return done + [_send(operation, built) for operation, built in pending]


def _check_kind(root_kind: str) -> None:
    if root_kind not in RootKind.values:
        raise ValidationError({"kind": [f"One of {', '.join(RootKind.values)}."]})


def roots_install(
    *, chargers: Iterable[Charger], root_kind: str, pem: str, requested_by: User | None = None
) -> list[CertificateOperation]:
    """Install one root certificate (PEM) on each charger."""
    _check_kind(root_kind)
    certificate = _root(pem)
    pem = crypto.pem_of(certificate)
    chargers = list(chargers)
    audit.record(
        action=Verb.INSTALL,
        object_type=ObjectType.ROOT_CERTIFICATE,
        object_id=crypto.fingerprint(certificate),
        label=certificate.subject.rfc4514_string(),
        changes=audit.new_values(
            {"kind": root_kind, "chargers": sorted(c.identity for c in chargers)}
        ),
    )
    return _operations(
        chargers,
        kind=OperationKind.INSTALL,
        root_kind=root_kind,
        pem=pem,
        requested_by=requested_by,
        build=lambda charger: builders.install_certificate(charger, kind=root_kind, pem=pem),
    )


def roots_list(
    *, chargers: Iterable[Charger], requested_by: User | None = None
) -> list[CertificateOperation]:
    """Ask each charger which roots it holds (a 1.6 charger: each kind it knows in turn); the
    replies refresh the installed set."""
    operations: list[CertificateOperation] = []
    batch = secrets.token_hex(8)
    for charger in chargers:
        kinds = [""] if builders.is_v2(charger) else [RootKind.CSMS, RootKind.MANUFACTURER]
        for kind in kinds:
            operations += _operations(
                [charger],
                kind=OperationKind.LIST,
                root_kind=kind,
                requested_by=requested_by,
                batch=batch,
                build=lambda c, k=kind: builders.installed_certificates(c, kind=k),
            )
    return operations


def roots_delete(
    *, chargers: Iterable[Charger], hash_data: dict[str, str], requested_by: User | None = None
) -> list[CertificateOperation]:
    """Delete the certificate these hash data name from each charger."""
    missing = [
        key
        for key in ("issuer_name_hash", "issuer_key_hash", "serial_number")
        if not hash_data.get(key)
    ]
    if missing:
        raise ValidationError({key: ["This field is required."] for key in missing})
    data = {key: str(hash_data.get(key) or "") for key in crypto.HashData.__dataclass_fields__}
    data["hash_algorithm"] = data["hash_algorithm"] or "SHA256"
    chargers = list(chargers)
    audit.record(
        action=Verb.DELETE,
        object_type=ObjectType.ROOT_CERTIFICATE,
        object_id=data["serial_number"],
        changes=audit.new_values({**data, "chargers": sorted(c.identity for c in chargers)}),
    )
    return _operations(
        chargers,
        kind=OperationKind.DELETE,
        hash_data=data,
        requested_by=requested_by,
        build=lambda charger: builders.delete_certificate(charger, hash_data=data),
    )


def _same(installed: InstalledCertificate, data: dict[str, str]) -> bool:
    return (
        installed.issuer_name_hash.lower() == data["issuer_name_hash"].lower()
        and installed.issuer_key_hash.lower() == data["issuer_key_hash"].lower()
        and installed.serial_number.lower().lstrip("0") == data["serial_number"].lower().lstrip("0")
    )


def _known_pems(charger_id: int) -> dict[tuple[str, str, str], CertificateOperation]:
    """Certificates we installed on the charger, by their hash data: a listed one is named."""
    known = {}
    for operation in CertificateOperation.objects.filter(
        charger_id=charger_id, kind=OperationKind.INSTALL, state=OperationState.DONE
    ):
        certificate = crypto.load_certificates(operation.pem)[0]
        data = crypto.hash_data(certificate)
        known[(data.issuer_name_hash, data.issuer_key_hash, data.serial_number)] = operation
    return known


def _installed_add(operation: CertificateOperation) -> None:
    certificate = crypto.load_certificates(operation.pem)[0]
    data = crypto.hash_data(certificate)
    InstalledCertificate.objects.update_or_create(
        charger_id=operation.charger_id,
        issuer_name_hash=data.issuer_name_hash,
        issuer_key_hash=data.issuer_key_hash,
        serial_number=data.serial_number,
        defaults={
            "kind": operation.root_kind,
            "hash_algorithm": data.hash_algorithm,
            "subject": certificate.subject.rfc4514_string()[:300],
            "pem": operation.pem,
            "seen_at": timezone.now(),
        },
    )


def _installed_replace(operation: CertificateOperation, command: Command) -> int:
    """The kinds listed are held exactly as the reply says; returns how many."""
    kinds = readers.listed_kinds(command.payload)
    listed = readers.installed_ids(command.payload, command.response)
    known = _known_pems(operation.charger_id)
    kept: list[int] = []
    for entry in listed:
        data = entry.hash_data
        key = (data["issuer_name_hash"], data["issuer_key_hash"], data["serial_number"])
        source = known.get(key)
        row, _ = InstalledCertificate.objects.update_or_create(
            charger_id=operation.charger_id,
            issuer_name_hash=data["issuer_name_hash"],
            issuer_key_hash=data["issuer_key_hash"],
            serial_number=data["serial_number"],
            defaults={
                "kind": entry.kind,
                "hash_algorithm": data["hash_algorithm"],
                "seen_at": timezone.now(),
                **(
                    {
                        "pem": source.pem,
                        "subject": crypto.load_certificates(source.pem)[0].subject.rfc4514_string()[
                            :300
                        ],
                    }
                    if source
                    else {}
                ),
            },
        )
        kept.append(row.pk)
    InstalledCertificate.objects.filter(charger_id=operation.charger_id, kind__in=kinds).exclude(
        pk__in=kept
    ).delete()
    return len(listed)


def _apply(operation: CertificateOperation, command: Command) -> None:
    if operation.state != OperationState.SENT:
        return
    if command.status != CommandStatus.ANSWERED:
        label = CommandStatus(command.status).english
        operation.state = OperationState.FAILED
        operation.detail = f"Did not reach the charger ({label}). {command.error}".strip()[:300]
        operation.save(update_fields=["state", "detail"])
        return
    status = readers.certificate_status(command.response)
    operation.detail = status
    if operation.kind == OperationKind.LIST and status in ("Accepted", "NotFound"):
        count = _installed_replace(operation, command)
        operation.state, operation.detail = OperationState.DONE, f"{count} installed"
    elif operation.kind == OperationKind.INSTALL and status == "Accepted":
        _installed_add(operation)
        operation.state = OperationState.DONE
    elif operation.kind == OperationKind.DELETE and status in ("Accepted", "NotFound"):
        for installed in InstalledCertificate.objects.filter(charger_id=operation.charger_id):
            if _same(installed, operation.hash_data):
                installed.delete()
        operation.state = OperationState.DONE
    else:
        operation.state = OperationState.FAILED
    operation.save(update_fields=["state", "detail"])


@transaction.atomic
def operation_command_finished(*, command_id: int) -> bool:
    """A charger's reply to one of our certificate commands; whether it was one of ours."""
    operation = (
        CertificateOperation.objects.select_for_update().filter(command_id=command_id).first()
    )
    if operation is None:
        return False
    _apply(operation, Command.objects.get(pk=command_id))
    return True
