"""The load-management pages' forms: the editor's (they validate the input; the services
write), the load chart's window, and the what-if's EVs (nothing is written)."""

from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from chargers.models import IdToken
from chargers.smart_charging.models import Phases, Sharing
from chargers.smart_charging.selectors import needed_current, phases_of
from chargers.smart_charging.series import DEFAULT_WINDOW, WINDOWS
from chargers.smart_charging.what_if import Ev, Place


def amperes(label: Any, **kwargs: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, max_digits=7, decimal_places=1, min_value=Decimal("0"), **kwargs
    )


def choose(form: forms.Form, name: str, choices: list[tuple[Any, str]]) -> None:
    """A choice field's choices, read in the request's scope (not at import time)."""
    cast(forms.ChoiceField, form.fields[name]).choices = choices


class GridConnectionForm(forms.Form):
    managed = forms.BooleanField(
        label=_("Managed"), required=False, initial=True, help_text=_("Recompute and send.")
    )
    grid_limit_a = amperes(
        _("Grid limit per phase (A)"),
        required=False,
        help_text=_("Empty: derived from the site's limit in kW (230 V, three phases)."),
    )
    sharing = forms.ChoiceField(label=_("Sharing"), choices=Sharing.choices)
    min_current_a = amperes(_("EV minimum (A)"), initial=Decimal("6"))


class CircuitForm(forms.Form):
    circuit = forms.TypedChoiceField(
        label=_("Circuit"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("Or a new one."),
    )
    name = forms.CharField(label=_("Name"), max_length=100)
    limit_a = amperes(_("Limit per phase (A)"))
    phases = forms.ChoiceField(label=_("Phases"), choices=Phases.choices)
    parent = forms.TypedChoiceField(label=_("Below"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, circuits, **kwargs):
        super().__init__(*args, **kwargs)
        names = [(c.pk, c.name) for c in circuits]
        choose(self, "circuit", [("", gettext("A new circuit")), *names])
        choose(self, "parent", [("", gettext("The grid connection")), *names])


class WiringForm(forms.Form):
    charger = forms.TypedChoiceField(label=_("Charger"), coerce=int)
    circuit = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label=_("On circuit")
    )
    phases = forms.ChoiceField(label=_("Phases"), choices=Phases.choices)
    max_current_a = amperes(_("Maximum (A)"), initial=Decimal("32"))

    def __init__(self, *args, chargers, circuits, **kwargs):
        super().__init__(*args, **kwargs)
        choose(self, "charger", [(c.pk, c.identity) for c in chargers])
        choose(
            self,
            "circuit",
            [("", gettext("The grid connection")), *[(c.pk, c.name) for c in circuits]],
        )


class WindowForm(forms.Form):
    starts = forms.TimeField(label=_("From (local time)"), input_formats=["%H:%M"])
    ends = forms.TimeField(label=_("Until"), input_formats=["%H:%M"])
    limit_a = amperes(_("Grid limit per phase (A)"))


class LoadWindowForm(forms.Form):
    """The load chart's window (`?window=6h`)."""

    window = forms.ChoiceField(
        label=_("Window"),
        choices=[(key, window.label) for key, window in WINDOWS.items()],
        required=False,
    )

    def chosen(self) -> str:
        """The window asked for, or the default one when the ask is empty or not one of them
        (the form then says so)."""
        if self.is_valid() and self.cleaned_data["window"]:
            return str(self.cleaned_data["window"])
        return DEFAULT_WINDOW


class WhatIfForm(forms.Form):
    keep_sessions = forms.BooleanField(
        required=False, initial=True, label=_("Start from the site's current sessions")
    )
    grid_limit_a = amperes(
        _("Grid limit per phase (A)"),
        required=False,
        help_text=_("Empty: the limit in force now, with the hours and signals ahead."),
    )

    def clean_grid_limit_a(self) -> Decimal | None:
        value = self.cleaned_data["grid_limit_a"]
        if value is not None and value <= 0:
            raise forms.ValidationError(gettext("Above 0 A."))
        return value


class EvForm(forms.Form):
    """One hypothetical EV: where it charges and with what. Empty currents and phases are the
    place's own (the connector's wiring and limits, or the site's defaults)."""

    place = forms.ChoiceField(label=_("Where"))
    phases = forms.ChoiceField(
        label=_("Phases"), required=False, choices=[("", _("As wired")), *Phases.choices]
    )
    min_a = amperes(_("Minimum (A)"), required=False)
    max_a = amperes(_("Maximum (A)"), required=False)
    priority = forms.IntegerField(label=_("Priority"), required=False, min_value=-10, max_value=10)
    departure = forms.DateTimeField(
        label=_("Leaves at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    energy_kwh = forms.DecimalField(
        label=_("Energy needed (kWh)"), required=False, min_value=0, max_digits=7, decimal_places=1
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
                gettext(
                    "%(place)s is charging a session now: choose another connector, or leave "
                    "the current sessions out."
                )
                % {"place": place.label},
            )
        phases = phases_of(data["phases"]) if data.get("phases") else place.phases
        if not set(phases) <= set(place.phases):
            self.add_error(
                "phases",
                gettext("%(place)s has %(phases)s only.")
                % {"place": place.label, "phases": ", ".join(place.phases)},
            )
        max_a = data.get("max_a")
        if max_a is not None and max_a <= 0:
            self.add_error("max_a", gettext("Above 0 A."))
        if data.get("min_a") is not None and max_a is not None and data["min_a"] > max_a:
            self.add_error("min_a", gettext("Above the maximum."))
        departure, energy = data.get("departure"), data.get("energy_kwh")
        if energy is not None and departure is None:
            self.add_error("departure", gettext("Needed with the energy: when the EV leaves."))
        if departure is not None and departure <= self.now:
            self.add_error("departure", gettext("Choose a time in the future."))
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
                form.add_error("place", gettext("Another row has this connector."))
            taken.add(connector)
        if not self.filled() and not self.keep_sessions:
            raise forms.ValidationError(gettext("Add an EV, or start from the current sessions."))

    def evs(self) -> list[Ev]:
        return [
            form.ev(gettext("EV %(number)s") % {"number": number}) for number, form in self.filled()
        ]


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
        label=_("Id-token group"),
        max_length=36,
        help_text=_("The group's token (what its members' cards carry as their parent)."),
    )
    priority = forms.IntegerField(
        label=_("Priority"),
        min_value=-10,
        max_value=10,
        help_text=_("Higher goes first when current is scarce."),
    )
    label = forms.CharField(
        label=_("Label"), max_length=40, required=False, help_text=_("e.g. fleet")
    )

    def clean_group(self) -> IdToken:
        uid = self.cleaned_data["group"].strip()
        found = IdToken.objects.filter(uid__iexact=uid).first()
        if found is None:
            raise forms.ValidationError(
                gettext("No id token %(uid)s in this tenant.") % {"uid": uid}
            )
        return found
