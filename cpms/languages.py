"""Which language a person reads: their own choice when they made one, else their browser's.

Pages follow the signed-in person's `User.language`; people who have not chosen (and visitors)
get the best of `settings.LANGUAGES` for their browser's Accept-Language. Emails follow the
recipient's choice, since the recipient is rarely the person whose request sends them.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


def language_of(user: object) -> str:
    """The language to write to a person in: their choice, or the site's default."""
    return getattr(user, "language", "") or settings.LANGUAGE_CODE


def recipient_language(user: object) -> translation.override:
    """`with recipient_language(user):` renders an email in the language its reader chose."""
    return translation.override(language_of(user))


class LanguageMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware (Accept-Language, cookie), with the person's choice first."""

    def process_request(self, request: HttpRequest) -> None:
        user = getattr(request, "user", None)
        chosen = getattr(user, "language", "") if user is not None and user.is_authenticated else ""
        if not chosen:
            super().process_request(request)
            return
        translation.activate(chosen)
        request.LANGUAGE_CODE = translation.get_language()
