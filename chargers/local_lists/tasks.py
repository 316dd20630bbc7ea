"""The local lists' Celery tasks: each runs in its tenant's scope and calls one service. The
beat tick syncs every connected charger whose list differs from its policy's."""

from celery import shared_task

from chargers.local_lists import selectors
from chargers.local_lists.services import sync
from cpms.models import User
from cpms.tenancy import scoping


def _user(user_id: int | None) -> User | None:
    return User.objects.filter(pk=user_id).first() if user_id else None


@shared_task
def charger_booted(*, tenant_id: int, charger_id: int) -> None:
    sync.local_list_refresh(charger_id=charger_id)


@shared_task
def command_finished(*, tenant_id: int, command_id: int) -> None:
    sync.local_list_command_finished(command_id=command_id)


@shared_task
def sync_charger(
    *, tenant_id: int, charger_id: int, user_id: int | None = None, refresh: bool = False
) -> None:
    """One charger: `refresh` checks its limits and version first (an operator's sync now)."""
    if refresh:
        sync.local_list_refresh(charger_id=charger_id, requested_by=_user(user_id))
    else:
        sync.local_list_sync(charger_id=charger_id, requested_by=_user(user_id))


@shared_task
def sync_chargers(*, tenant_id: int, charger_ids: list[int], user_id: int | None = None) -> None:
    """An operator's sync now for many chargers (the fleet, a site), one command each."""
    user = _user(user_id)
    for charger_id in charger_ids:
        sync.local_list_refresh(charger_id=charger_id, requested_by=user)


@shared_task
def sync_due(*, tenant_id: int) -> None:
    """The tenant's chargers whose list differs from their policy's (a token blocked, added,
    expired or moved to another group; a policy changed)."""
    lists = selectors.DesiredLists()
    for charger_id in selectors.chargers_due(now=lists.now):
        sync.local_list_sync(charger_id=charger_id, lists=lists)


@shared_task(platform=True)
def tick() -> None:
    """Beat, every minute: each tenant's due chargers, through the tenant's own task."""
    for tenant in scoping.each_tenant():
        if selectors.Policies.load().any_managed():
            sync_due.delay(tenant_id=tenant.pk)
