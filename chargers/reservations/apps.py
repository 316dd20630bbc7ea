from django.apps import AppConfig


class ReservationsConfig(AppConfig):
    name = "chargers.reservations"
    label = "reservations"
    verbose_name = "Reservations"

    def ready(self):
        from chargers.events import ChargerBooted, CommandFinished, SessionStarted, SessionUpdated
        from chargers.reservations import (
            events,  # noqa: F401 (the reservation events, catalogued)
            listeners,
        )
        from cpms.events import AFTER_COMMIT, subscribe

        # Replies to our commands and the sessions that use a reservation are heard through
        # the charger domain's events: the protocol layer knows nothing of reservations
        # beyond the station's own ReservationStatusUpdate.
        subscribe(CommandFinished, listeners.on_command_finished, phase=AFTER_COMMIT)
        subscribe(SessionStarted, listeners.on_session, phase=AFTER_COMMIT)
        subscribe(SessionUpdated, listeners.on_session, phase=AFTER_COMMIT)
        subscribe(ChargerBooted, listeners.on_boot, phase=AFTER_COMMIT)
