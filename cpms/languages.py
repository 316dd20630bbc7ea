"""Which language a person reads: their own choice when they made one, else their browser's.

Pages follow the signed-in person's `User.language`; people who have not chosen (and visitors)
get the best of `settings.LANGUAGES` for their browser's Accept-Language. Emails follow the
recipient's choice, since the recipient is rarely the person whose request sends them.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.middleware.locale import LocaleMiddleware
from django.utils import formats, translation


def language_of(user: object) -> str:
    """The language to write to a person in: their choice, or the site's default."""
    return getattr(user, "language", "") or settings.LANGUAGE_CODE


def recipient_language(user: object, *, otherwise: str | None = None) -> translation.override:
    """`with recipient_language(user):` renders an email in the language its reader chose; for
    a reader who chose none, in `otherwise` when given (e.g. the inviter's), else the site's."""
    chosen = getattr(user, "language", "") or otherwise
    return translation.override(chosen or language_of(user))


def figure(value: Decimal | float | int, decimals: int = 2) -> str:
    """A figure with the reader's decimal and thousands separators: 1234.5 -> '1,234.50'
    (English), '1.234,50' (German). Values scripts read stay '.'-decimal (`json_script`)."""
    # number_format cuts extra decimals off; round them as f"{value:,.2f}" did (half even).
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)
    return formats.number_format(rounded, decimals, use_l10n=True, force_grouping=True)


# The date part of the tables' times in each language: year-month-day in English (as before, and
# what sorts), day first with the language's own separator elsewhere. The time stays 24-hour with
# the zone's abbreviation in every language.
DATE_ORDER = {"de": "d.m.Y", "fr": "d/m/Y", "es": "d/m/Y"}


def date_pattern() -> str:
    return DATE_ORDER.get(translation.get_language() or "", "Y-m-d")


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

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        response = super().process_response(request, response)
        # The language was activated for this thread, which serves other work next: work that
        # is no request (a live push, a task run eagerly) must not speak the last visitor's.
        translation.deactivate()
        return response
