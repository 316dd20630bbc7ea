"""Why applying a configuration template did nothing at a charger, as messages shown in the
reader's language (`cpms.texts`)."""

from django.utils.translation import gettext_noop

from cpms.texts import message

GOVERNED_ELSEWHERE = message(
    "configuration.governed_elsewhere",
    gettext_noop("More specific templates govern every setting of this one here."),
)
NO_LONGER_MATCHES = message(
    "configuration.no_longer_matches", gettext_noop("The charger no longer matches the template.")
)
