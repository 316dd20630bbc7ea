"""Writes a person makes to their own account."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from cpms.models import User


def user_set_language(*, user: User, language: str) -> str:
    """Blank is "as the browser asks"; anything else must be a language the product speaks."""
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": [_("Choose one of the languages offered.")]})
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language
    return language
