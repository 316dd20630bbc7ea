"""Why the allocator gave a connector its limit, as messages shown in the reader's language
(`cpms.texts`). Amps are floats: the reader's decimal separator applies."""

from django.utils.translation import gettext_noop

from cpms.texts import message

PRIORITY = message("load.priority", gettext_noop("; priority %(priority)s"))
FIXED = message("load.fixed", gettext_noop("%(why)s: counted at %(amps)s A%(priority)s"))
PAUSED = message(
    "load.paused",
    gettext_noop(
        "paused: %(node)s at %(node_limit)s A cannot give %(min)s A to every session "
        "(%(waiting)s waiting); paused sessions take turns every %(turn)s min%(priority)s"
    ),
)
AT_MAX = message("load.max", gettext_noop("at its maximum %(limit)s A%(priority)s"))
AT_EV_MAX = message("load.ev_max", gettext_noop("at the EV's maximum %(limit)s A%(priority)s"))
DRAW = message(
    "load.draw",
    gettext_noop("limited to %(limit)s A: drawing %(draw)s A, the rest given to others"),
)
HYSTERESIS = message(
    "load.hysteresis",
    gettext_noop("held at %(limit)s A: less than %(gain)s A more to gain%(priority)s"),
)
# Two messages rather than a plural: German, French and Spanish need no third form here.
SHARED_BY_ONE = message(
    "load.shared_by_one",
    gettext_noop(
        "limited to %(limit)s A: %(node)s at %(node_limit)s A shared by %(shared)s session"
        "%(priority)s"
    ),
)
SHARED = message(
    "load.shared",
    gettext_noop(
        "limited to %(limit)s A: %(node)s at %(node_limit)s A shared by %(shared)s sessions"
        "%(priority)s"
    ),
)

# Why a session is counted at a fixed current rather than given a limit.
NOT_FOLLOWING = message("load.why.not_following", gettext_noop("does not follow its limit"))
OFFLINE_HOLDING = message(
    "load.why.offline_holding", gettext_noop("offline, holding the limit it accepted")
)
OFFLINE = message("load.why.offline", gettext_noop("offline without a limit it accepted"))
REJECTED = message("load.why.rejected", gettext_noop("its limit was rejected"))
UNDELIVERED = message("load.why.undelivered", gettext_noop("its limit was not delivered"))
OVER_LIMIT = message(
    "load.why.over_limit", gettext_noop("draws %(draw)s A over its limit of %(limit)s A")
)

# The multi-period planner moved the session's charging into cheaper hours (`cheaper`).
CHEAPER = message("load.cheaper", gettext_noop("%(reason)s; planned for cheaper hours"))
