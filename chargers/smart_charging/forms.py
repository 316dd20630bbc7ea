"""The load-management pages' forms: the editor's (they validate the input; the services
write) and the load chart's window."""

from decimal import Decimal
from typing import Any, cast

from django import forms

from chargers.smart_charging.models import Phases, Sharing
from chargers.smart_charging.series import DEFAULT_WINDOW, WINDOWS


def amperes(label: str, **kwargs: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, max_digits=7, decimal_places=1, min_value=Decimal("0"), **kwargs
    )


def choose(form: forms.Form, name: str, choices: list[tuple[Any, str]]) -> None:
    """A choice field's choices, read in the request's scope (not at import time)."""
    cast(forms.ChoiceField, form.fields[name]).choices = choices


class GridConnectionForm(forms.Form):
    managed = forms.BooleanField(required=False, initial=True, help_text="Recompute and send.")
    grid_limit_a = amperes(
        "Grid limit per phase (A)",
        required=False,
        help_text="Empty: derived from the site's limit in kW (230 V, three phases).",
    )
    sharing = forms.ChoiceField(choices=Sharing.choices)
    min_current_a = amperes("EV minimum (A)", initial=Decimal("6"))


class CircuitForm(forms.Form):
    circuit = forms.TypedChoiceField(
        label="Circuit", coerce=int, required=False, empty_value=None, help_text="Or a new one."
    )
    name = forms.CharField(max_length=100)
    limit_a = amperes("Limit per phase (A)")
    phases = forms.ChoiceField(choices=Phases.choices)
    parent = forms.TypedChoiceField(label="Below", coerce=int, required=False, empty_value=None)

    def __init__(self, *args, circuits, **kwargs):
        super().__init__(*args, **kwargs)
        names = [(c.pk, c.name) for c in circuits]
        choose(self, "circuit", [("", "A new circuit"), *names])
        choose(self, "parent", [("", "The grid connection"), *names])


class WiringForm(forms.Form):
    charger = forms.TypedChoiceField(coerce=int)
    circuit = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label="On circuit"
    )
    phases = forms.ChoiceField(choices=Phases.choices)
    max_current_a = amperes("Maximum (A)", initial=Decimal("32"))

    def __init__(self, *args, chargers, circuits, **kwargs):
        super().__init__(*args, **kwargs)
        choose(self, "charger", [(c.pk, c.identity) for c in chargers])
        choose(self, "circuit", [("", "The grid connection"), *[(c.pk, c.name) for c in circuits]])


class WindowForm(forms.Form):
    starts = forms.TimeField(label="From (local time)", input_formats=["%H:%M"])
    ends = forms.TimeField(label="Until", input_formats=["%H:%M"])
    limit_a = amperes("Grid limit per phase (A)")


class LoadWindowForm(forms.Form):
    """The load chart's window (`?window=6h`)."""

    window = forms.ChoiceField(
        choices=[(key, window.label) for key, window in WINDOWS.items()], required=False
    )

    def chosen(self) -> str:
        """The window asked for, or the default one when the ask is empty or not one of them
        (the form then says so)."""
        if self.is_valid() and self.cleaned_data["window"]:
            return str(self.cleaned_data["window"])
        return DEFAULT_WINDOW
