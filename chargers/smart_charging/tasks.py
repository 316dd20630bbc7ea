from celery import shared_task

from chargers.smart_charging import services
from chargers.smart_charging.listeners import pending_release
from chargers.smart_charging.models import SiteElectrical
from cpms.tenancy import scoping


@shared_task
def recompute_site(*, tenant_id: int, site_id: int, trigger: str) -> None:
    """One step of the control loop for one site (queued debounced by the listeners)."""
    # Events from now on queue another run: this one may already have read past them.
    pending_release(site_id)
    services.site_recompute(site_id=site_id, trigger=trigger)


@shared_task
def charger_reconnected(*, tenant_id: int, charger_id: int) -> None:
    """A charger of a managed site came back: send it everything again."""
    from chargers.models import Charger

    services.charger_profiles_forget(charger_id=charger_id)
    site_id = Charger.objects.filter(pk=charger_id).values_list("site_id", flat=True).first()
    if site_id is not None:
        services.site_recompute(site_id=site_id, trigger="charger.online")


@shared_task(platform=True)
def recompute_all() -> None:
    """Beat's tick: every managed site of every tenant (schedules and signals that start or
    expire, retries of profiles that failed, the safety net for lost events)."""
    for _tenant in scoping.each_tenant():
        for site_id in SiteElectrical.objects.filter(managed=True).values_list(
            "site_id", flat=True
        ):
            services.site_recompute(site_id=site_id, trigger="tick")
