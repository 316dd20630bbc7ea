"""The load-management pages' forms: the editor's (they validate the input; the services
write), the load chart's window, and the what-if's EVs (nothing is written)."""

from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from django import forms

from chargers.models import IdToken
from chargers.smart_charging.models import Phases, Sharing
from chargers.smart_charging.selectors import needed_current, phases_of
from chargers.smart_charging.series import DEFAULT_WINDOW, WINDOWS
from chargers.smart_charging.what_if import Ev, Place


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


class WhatIfForm(forms.Form):
    keep_sessions = forms.BooleanField(
        required=False, initial=True, label="Start from the site's current sessions"
    )
    grid_limit_a = amperes(
        "Grid limit per phase (A)",
        required=False,
        help_text="Empty: the limit in force now, with the hours and signals ahead.",
    )

    def clean_grid_limit_a(self) -> Decimal | None:
        value = self.cleaned_data["grid_limit_a"]
        if value is not None and value <= 0:
            raise forms.ValidationError("Above 0 A.")
        return value


class EvForm(forms.Form):
    """One hypothetical EV: where it charges and with what. Empty currents and phases are the
    place's own (the connector's wiring and limits, or the site's defaults)."""

    place = forms.ChoiceField(label="Where")
    phases = forms.ChoiceField(
        label="Phases", required=False, choices=[("", "As wired"), *Phases.choices]
    )
    min_a = amperes("Minimum (A)", required=False)
    max_a = amperes("Maximum (A)", required=False)
    priority = forms.IntegerField(label="Priority", required=False, min_value=-10, max_value=10)
    departure = forms.DateTimeField(
        label="Leaves at",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    energy_kwh = forms.DecimalField(
        label="Energy needed (kWh)", required=False, min_value=0, max_digits=7, decimal_places=1
    )

    def __init__(self, *args, places: dict[str, Place], now: datetime, busy: set[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.places, self.now, self.busy = places, now, busy
        choose(self, "place", [("", "—"), *((value, p.label) for value, p in places.items())])
        # A row's label holds its errors too: each input keeps its field's name for screen
        # readers.
        for field in self.fields.values():
            field.widget.attrs["aria-label"] = str(field.label)
        self.fields["priority"].widget.attrs["placeholder"] = "0"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        place = self.places.get(data.get("place") or "")
        if place is None:
            return data  # the field says what is wrong
        if place.connector in self.busy:
            self.add_error(
                "place",
                f"{place.label} is charging a session now: choose another connector, or leave "
                "the current sessions out.",
            )
        phases = phases_of(data["phases"]) if data.get("phases") else place.phases
        if not set(phases) <= set(place.phases):
            self.add_error("phases", f"{place.label} has {', '.join(place.phases)} only.")
        max_a = data.get("max_a")
        if max_a is not None and max_a <= 0:
            self.add_error("max_a", "Above 0 A.")
        if data.get("min_a") is not None and max_a is not None and data["min_a"] > max_a:
            self.add_error("min_a", "Above the maximum.")
        departure, energy = data.get("departure"), data.get("energy_kwh")
        if energy is not None and departure is None:
            self.add_error("departure", "Needed with the energy: when the EV leaves.")
        if departure is not None and departure <= self.now:
            self.add_error("departure", "Choose a time in the future.")
        return data

    def ev(self, name: str) -> Ev:
        """The EV of a valid, filled row."""
        data = self.cleaned_data
        place = self.places[data["place"]]
        phases = phases_of(data["phases"]) if data["phases"] else place.phases
        max_a = float(data["max_a"]) if data["max_a"] is not None else place.max_a
        # An empty minimum is the place's, but never above the maximum asked for.
        min_a = float(data["min_a"]) if data["min_a"] is not None else min(place.min_a, max_a)
        need_a = None
        if data["energy_kwh"] is not None and data["departure"] is not None:
            need_a = needed_current(
                phases,
                energy_wh=float(data["energy_kwh"]) * 1000,
                departure_at=data["departure"],
                now=self.now,
            )
        return Ev(
            name=name,
            where=place.label,
            connector=place.connector,
            node=place.node,
            phases=phases,
            min_a=min_a,
            max_a=max_a,
            priority=data["priority"] or 0,
            need_a=need_a,
        )


class BaseEvFormSet(forms.BaseFormSet):
    def __init__(self, *args, keep_sessions: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.keep_sessions = keep_sessions

    def filled(self) -> list[tuple[int, EvForm]]:
        """The rows with an EV (1-based row numbers: an EV is named by its row)."""
        return [
            (number, form)
            for number, form in enumerate(self.forms, start=1)
            if form.has_changed() and form.is_valid()
        ]

    def clean(self) -> None:
        if any(self.errors):
            return
        taken: set[str] = set()
        for _number, form in self.filled():
            connector = form.places[form.cleaned_data["place"]].connector
            if connector is None:
                continue
            if connector in taken:
                form.add_error("place", "Another row has this connector.")
            taken.add(connector)
        if not self.filled() and not self.keep_sessions:
            raise forms.ValidationError("Add an EV, or start from the current sessions.")

    def evs(self) -> list[Ev]:
        return [form.ev(f"EV {number}") for number, form in self.filled()]


# Blank rows a what-if starts with, and adds on "More rows"; at most MAX_EVS.
EV_ROWS = 4
MAX_EVS = 100
EV_PREFIX = "ev"
EvFormSet = cast(
    type[BaseEvFormSet],
    forms.formset_factory(
        EvForm,
        formset=BaseEvFormSet,
        extra=EV_ROWS,
        max_num=MAX_EVS,
        absolute_max=MAX_EVS,
        validate_max=True,
    ),
)


class GroupPriorityForm(forms.Form):
    group = forms.CharField(
        label="Id-token group",
        max_length=36,
        help_text="The group's token (what its members' cards carry as their parent).",
    )
    priority = forms.IntegerField(
        min_value=-10, max_value=10, help_text="Higher goes first when current is scarce."
    )
    label = forms.CharField(max_length=40, required=False, help_text="e.g. fleet")

    def clean_group(self) -> IdToken:
        uid = self.cleaned_data["group"].strip()
        found = IdToken.objects.filter(uid__iexact=uid).first()
        if found is None:
            raise forms.ValidationError(f"No id token {uid} in this tenant.")
        return found
