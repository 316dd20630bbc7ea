"""What a firmware campaign writes in a charger's timeline, its failure reason and the
campaign's pause reason, as messages shown in the reader's language (`cpms.texts`)."""

from django.utils.translation import gettext_noop

from cpms.texts import message

RETRY = message("firmware.retry", gettext_noop("%(reason)s Trying again."))
SILENT = message(
    "firmware.silent", gettext_noop("Nothing heard from the charger in time while '%(state)s'.")
)
WAVE_FAILED = message(
    "firmware.wave_failed",
    gettext_noop("%(wave)s: %(failed)s of %(size)s chargers failed, more than %(threshold)s%%."),
)
CANARY = message("firmware.canary", gettext_noop("The canary"))
WAVE = message("firmware.wave", gettext_noop("Wave %(number)s"))
SESSION_RUNNING = message("firmware.deferred", gettext_noop("A session is running."))
DEFERRAL_OVER = message(
    "firmware.deferral_over", gettext_noop("Still in a session when its deferral ran out.")
)
ATTEMPT = message("firmware.attempt", gettext_noop("Attempt %(number)s."))
ATTEMPT_IN_SESSION = message(
    "firmware.attempt_in_session",
    gettext_noop(
        "Attempt %(number)s. Still in a session at the end of its deferral: it installs once free."
    ),
)
STOPPED_FIRST = message("firmware.stopped_first", gettext_noop("The campaign stopped first."))
CANNOT_SEND = message("firmware.cannot_send", gettext_noop("The update cannot be sent: %(error)s"))
TOOK_ON = message("firmware.accepted", gettext_noop("The charger took the update on."))
NOT_DELIVERED = message(
    "firmware.not_delivered", gettext_noop("The update was not delivered. %(status)s.")
)
NOT_DELIVERED_ERROR = message(
    "firmware.not_delivered_error",
    gettext_noop("The update was not delivered. %(status)s: %(error)s"),
)
REPORTED = message("firmware.reported", gettext_noop("The charger reported %(status)s."))
REPORTED_INSTALLED = message(
    "firmware.reported_installed",
    gettext_noop("The charger reported %(status)s. Waiting for it to boot on the new version."),
)
BOOTED_ON = message("firmware.booted_on", gettext_noop("Booted on %(version)s."))
BOOTED_OLD = message(
    "firmware.booted_old",
    gettext_noop("Reported %(said)s but booted on %(version)s, not %(wanted)s."),
)
UNKNOWN_VERSION = message("firmware.unknown_version", gettext_noop("an unknown version"))
CANCELLED = message("firmware.cancelled", gettext_noop("The campaign was cancelled."))
PAUSED_BY_OPERATOR = message("firmware.paused", gettext_noop("Paused by an operator."))
