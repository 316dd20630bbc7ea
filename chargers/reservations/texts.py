"""Why a reservation is in its status, as messages shown in the reader's language
(`cpms.texts`)."""

from django.utils.translation import gettext_noop

from cpms.texts import message

NOT_ANSWERED = message(
    "reservation.not_answered", gettext_noop("The charger did not answer (%(status)s).")
)
NOT_ANSWERED_ERROR = message(
    "reservation.not_answered_error",
    gettext_noop("The charger did not answer (%(status)s). %(error)s"),
)
ANSWERED = message("reservation.answered", gettext_noop("The charger answered %(said)s."))
ANSWERED_NOTHING = message("reservation.answered_nothing", gettext_noop("nothing"))
CANCEL_FAILED = message("reservation.cancel_failed", gettext_noop("Cancelling failed: %(why)s"))
CANCELLED = message("reservation.cancelled", gettext_noop("Cancelled at the charger."))
NO_LONGER_HELD = message(
    "reservation.no_longer_held", gettext_noop("The charger no longer held it.")
)
CANCELLED_UNSENT = message(
    "reservation.cancelled_unsent", gettext_noop("Cancelled before it was sent to the charger.")
)
EXPIRED_AT_CHARGER = message(
    "reservation.expired_at_charger", gettext_noop("The charger reported it expired.")
)
REMOVED = message("reservation.removed", gettext_noop("The charger removed it."))
EXPIRED_UNUSED = message("reservation.expired_unused", gettext_noop("Expired unused."))
RESEEDED = message("reservation.reseeded", gettext_noop("Replaced when the demo was seeded again."))
