"""The dashboard's reservation form. It validates input; the service writes (and refuses what
spans rows: an unknown or blocked token, a connector reserved already, an offline charger)."""

from __future__ import annotations

from typing import cast

from django import forms

from chargers.models import Charger, Connector

ANY = ""


class ReservationForm(forms.Form):
    evse_id = forms.TypedChoiceField(
        label="Connector", coerce=int, empty_value=None, required=False, choices=()
    )
    id_token = forms.CharField(
        label="Id token", max_length=36, help_text="The uid of one of your id tokens."
    )
    expires_at = forms.DateTimeField(
        label="Until",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="In the charger's local time.",
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
        field.choices = [(ANY, "Any connector")] + [(n, f"Connector {n}") for n in numbers]
