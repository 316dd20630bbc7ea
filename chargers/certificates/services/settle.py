"""The certificate flows' safety net, run by beat: what a lost task or a reply that raced the
linking of its command left unfinished.

A charger's reply is applied by a task when its command finishes; that task finds nothing when
the reply came between the command being sent and the request (or operation) being linked to
it, and the linking saw the command still unfinished. A request accepted for signing waits for
a task the answer path handed off, which a stalled broker may drop. Both are found here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from chargers.certificates.models import (
    CertificateOperation,
    OperationState,
    RequestState,
    SigningRequest,
)
from chargers.certificates.services import roots, signing
from chargers.services.commands import UNFINISHED

# How long a request accepted for signing may wait for its task before this signs it.
SIGNING_PATIENCE = timedelta(minutes=2)


def certificates_settle(*, now: datetime | None = None) -> int:
    """In the tenant's scope: apply the outcomes of finished commands nobody applied, and sign
    requests whose signing task never came. Returns how many were settled."""
    now = now or timezone.now()
    settled = 0
    answered = SigningRequest.objects.filter(state=RequestState.SENT, command__isnull=False)
    for command_id in answered.exclude(command__status__in=UNFINISHED).values_list(
        "command_id", flat=True
    ):
        settled += signing.signing_command_finished(command_id=command_id)
    operations = CertificateOperation.objects.filter(
        state=OperationState.SENT, command__isnull=False
    )
    for command_id in operations.exclude(command__status__in=UNFINISHED).values_list(
        "command_id", flat=True
    ):
        settled += roots.operation_command_finished(command_id=command_id)
    waiting = SigningRequest.objects.filter(
        state=RequestState.ACCEPTED, created_at__lt=now - SIGNING_PATIENCE
    )
    for request_id in waiting.values_list("pk", flat=True):
        settled += signing.signing_request_sign(request_id=request_id) is not None
    return settled
