from django.apps import AppConfig


class ChargersConfig(AppConfig):
    name = "chargers"
    verbose_name = "Chargers and sessions"

    def ready(self):
        from chargers import events  # noqa: F401 (the charger domain's events, catalogued)
        from chargers.dashboard.push import push_to_dashboards
        from cpms.events import AFTER_COMMIT, DomainEvent, subscribe

        # Every committed event of a tenant rings its live dashboards, whichever app's it is.
        subscribe(DomainEvent, push_to_dashboards, phase=AFTER_COMMIT)
