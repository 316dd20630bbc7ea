"""The dashboard's reservation form. It validates input; the service writes (and refuses what
spans rows: an unknown or blocked token, a connector reserved already, an offline charger)."""

from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from chargers.models import Charger, Connector

ANY = ""


class ReservationForm(forms.Form):
    evse_id = forms.TypedChoiceField(
        label=_("Connector"), coerce=int, empty_value=None, required=False, choices=()
    )
    id_token = forms.CharField(
        label=_("Id token"), max_length=36, help_text=_("The uid of one of your id tokens.")
    )
    expires_at = forms.DateTimeField(
        label=_("Until"),
        # The browser's own format, whatever the page's language (a German format would
        # leave the input empty).
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("In the charger's local time."),
    )

    def __init__(self, *args, charger: Charger, **kwargs):
        super().__init__(*args, **kwargs)
        numbers = (
            Connector.objects.filter(charger=charger, evse_id__gt=0)
            .values_list("evse_id", flat=True)
            .distinct()
            .order_by("evse_id")
        )
        field = cast(forms.TypedChoiceField, self.fields["evse_id"])
        field.choices = [(ANY, gettext("Any connector"))] + [
            (n, gettext("Connector %(number)s") % {"number": n}) for n in numbers
        ]
