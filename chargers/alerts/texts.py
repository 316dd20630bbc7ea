"""What the alert rules write in an alert's title and detail, as messages shown in the reader's
language (`cpms.texts`). Codes are part of the API: change a wording, never a code."""

from django.utils.translation import gettext_noop

from cpms.texts import message

OFFLINE = message("alert.charger_offline", gettext_noop("%(charger)s is offline"))
OFFLINE_DETAIL = message(
    "alert.charger_offline.detail",
    gettext_noop("No message arrived within the heartbeat allowance, or the connection closed."),
)
FAULTED = message(
    "alert.connector_faulted", gettext_noop("%(charger)s connector %(evse)s faulted: %(code)s")
)
NO_ERROR_CODE = message("alert.connector_faulted.no_code", gettext_noop("no error code"))
BOOT_REJECTED = message("alert.boot_rejected", gettext_noop("%(charger)s was rejected at boot"))
BOOT_REJECTED_DETAIL = message(
    "alert.boot_rejected.detail",
    gettext_noop("Approve the charger on its page if it belongs to your network."),
)
REBOOTS = message(
    "alert.repeated_reboots",
    gettext_noop("%(charger)s rebooted %(count)s times in %(minutes)s min"),
)
REFUSED = message(
    "alert.handshake_refused", gettext_noop("Connection refused for %(identity)s: %(reason)s")
)
REFUSED_NO_ID = message("alert.handshake_refused.no_id", gettext_noop("(no id)"))
REFUSED_FROM = message("alert.handshake_refused.detail", gettext_noop("From %(address)s."))
REFUSED_FROM_UNKNOWN = message(
    "alert.handshake_refused.detail_unknown", gettext_noop("From an unknown address.")
)
SECURITY_EVENT = message("alert.security_event", gettext_noop("%(charger)s: %(event)s"))
SESSION_STUCK = message(
    "alert.session_stuck", gettext_noop("Session %(session)s on %(charger)s looks stuck")
)
SESSION_STUCK_DETAIL = message(
    "alert.session_stuck.detail", gettext_noop("No meter values lately, or it never stopped.")
)
CERTIFICATE_EXPIRED = message(
    "alert.certificate_expired", gettext_noop("%(charger)s's certificate expired %(date)s")
)
CERTIFICATE_EXPIRING = message(
    "alert.certificate_expiring", gettext_noop("%(charger)s's certificate expires %(date)s")
)
CERTIFICATE_DETAIL = message(
    "alert.certificate.detail",
    gettext_noop("Serial %(serial)s; the charger is asked for a new one."),
)
