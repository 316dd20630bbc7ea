from celery import shared_task

from cpms.tenancy import scoping


@shared_task(platform=True)
def purge_all() -> int:
    """Beat, daily: every tenant's entries older than AUDIT_RETENTION_DAYS go."""
    from cpms.audit.services import audit_purge

    return sum(audit_purge() for _tenant in scoping.each_tenant())
