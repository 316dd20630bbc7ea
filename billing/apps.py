from django.apps import AppConfig


class BillingConfig(AppConfig):
    """Tariffs, pricing and charge detail records."""

    name = "billing"
    verbose_name = "Billing"

    def ready(self):
        from billing import events  # noqa: F401 (billing's events, catalogued)
        from billing.display import price_text, session_cost
        from billing.listeners import queue_final_cost, queue_pricing, queue_reservation_pricing
        from chargers import costs
        from chargers.events import SessionStopped, SessionUpdated
        from chargers.reservations.events import ReservationChanged
        from cpms.events import AFTER_COMMIT, subscribe

        # A stop, and the correction of a stopped session (late stop, corrected meter).
        subscribe(SessionStopped, queue_pricing, phase=AFTER_COMMIT)
        subscribe(SessionUpdated, queue_pricing, phase=AFTER_COMMIT)
        subscribe(SessionStopped, queue_final_cost, phase=AFTER_COMMIT)
        # A reservation that expired unused: a record of its own.
        subscribe(ReservationChanged, queue_reservation_pricing, phase=AFTER_COMMIT)
        # The driver's price and the session's cost, on the charger's screen (OCPP 2.0.1 I01/I02).
        costs.register(price_text=price_text, session_cost=session_cost)
