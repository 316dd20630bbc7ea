"""The certificate flows' safety net: a reply applied by nobody (it came before its command was
linked) and a request whose signing task was lost are settled by the beat job's service."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chargers.certificates import crypto
from chargers.certificates.models import (
    CertificateOperation,
    CertificateUse,
    InstalledCertificate,
    OperationKind,
    OperationState,
    RequestState,
    RootKind,
    SigningRequest,
)
from chargers.certificates.services.settle import certificates_settle
from chargers.models import Charger, Command, CommandStatus
from cpms.tenancy import scoping
from tests.chargers.certificates.pki import csr

pytestmark = pytest.mark.django_db


def test_an_answered_install_nobody_applied_is_applied_once(tenant_a):
    root = crypto.new_authority(organization="Acme Root", now=timezone.now()).root
    with scoping.scope(tenant_a):
        charger = Charger.objects.create(identity="CP-SETTLE-1")
        command = Command.objects.create(
            charger=charger,
            action="InstallCertificate",
            status=CommandStatus.ANSWERED,
            response={"status": "Accepted"},
        )
        operation = CertificateOperation.objects.create(
            charger=charger,
            kind=OperationKind.INSTALL,
            root_kind=RootKind.CSMS,
            pem=crypto.pem_of(root),
            state=OperationState.SENT,
            command=command,
        )
        unanswered = CertificateOperation.objects.create(
            charger=charger,
            kind=OperationKind.LIST,
            state=OperationState.SENT,
            command=Command.objects.create(
                charger=charger, action="GetInstalledCertificateIds", status=CommandStatus.SENT
            ),
        )

        assert certificates_settle() == 1
        assert certificates_settle() == 0

        operation.refresh_from_db()
        unanswered.refresh_from_db()
        assert operation.state == OperationState.DONE
        assert unanswered.state == OperationState.SENT  # still waiting for its reply
        assert InstalledCertificate.objects.filter(charger=charger).count() == 1


@pytest.mark.django_db(transaction=True)  # sending opens connections of its own
def test_a_request_whose_signing_task_was_lost_is_signed(tenant_a):
    with scoping.scope(tenant_a):
        charger = Charger.objects.create(identity="CP-SETTLE-2")
        request = SigningRequest.objects.create(
            charger=charger,
            use=CertificateUse.CHARGING_STATION,
            csr_pem=csr("CP-SETTLE-2"),
            state=RequestState.ACCEPTED,
        )
        fresh = SigningRequest.objects.create(
            charger=charger,
            use=CertificateUse.CHARGING_STATION,
            csr_pem=csr("CP-SETTLE-2"),
            state=RequestState.ACCEPTED,
        )
        SigningRequest.objects.filter(pk=request.pk).update(
            created_at=timezone.now() - timedelta(minutes=10)
        )

        assert certificates_settle() == 1

        request.refresh_from_db()
        fresh.refresh_from_db()
        # Signed and sent; the charger is offline, so the send itself failed and says so.
        assert request.certificate is not None
        assert request.command is not None
        assert request.state in (RequestState.SENT, RequestState.FAILED)
        assert fresh.state == RequestState.ACCEPTED  # its own task may still come
