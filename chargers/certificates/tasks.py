"""The certificates domain's Celery tasks: each fetches by id, in its tenant's scope, and calls
one service. The daily beat job asks chargers whose certificate nears its end for a new one;
another settles, every few minutes, what a lost task left unfinished."""

from celery import shared_task

from chargers.certificates.services import renewal, roots, settle, signing
from cpms.tenancy import scoping


@shared_task
def sign(*, tenant_id: int, request_id: int) -> None:
    signing.signing_request_sign(request_id=request_id)


@shared_task
def command_finished(*, tenant_id: int, command_id: int) -> None:
    if not signing.signing_command_finished(command_id=command_id):
        roots.operation_command_finished(command_id=command_id)


@shared_task
def renew_tenant(*, tenant_id: int) -> None:
    renewal.certificates_renew_due()


@shared_task(platform=True)
def renew_due() -> None:
    """Beat, daily: each tenant's chargers due for a new certificate are asked for one."""
    for tenant in scoping.each_tenant():
        renew_tenant.delay(tenant_id=tenant.pk)


@shared_task
def settle_tenant(*, tenant_id: int) -> None:
    settle.certificates_settle()


@shared_task(platform=True)
def settle_all() -> None:
    """Beat: each tenant's replies nobody applied and requests nobody signed."""
    for tenant in scoping.each_tenant():
        settle_tenant.delay(tenant_id=tenant.pk)
