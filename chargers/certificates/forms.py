"""The certificate pages' forms: they validate input; the services write."""

from __future__ import annotations

from typing import Any

from django import forms

from chargers.certificates.models import OperationKind, RootKind
from chargers.models import Charger
from cpms.models import Site

PEM_AREA = forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "class": "mono"})


class RootInstallForm(forms.Form):
    root_kind = forms.ChoiceField(label="Kind", choices=RootKind.choices, initial=RootKind.CSMS)
    certificate = forms.CharField(label="Certificate (PEM)", widget=PEM_AREA)


class AuthorityImportForm(forms.Form):
    certificate = forms.CharField(
        label="Sub-CA certificate (PEM)",
        widget=PEM_AREA,
        help_text="The sub-CA's certificate first, then those above it up to the root.",
    )
    key = forms.CharField(
        label="Its private key (PEM, unencrypted)",
        widget=PEM_AREA,
        help_text="Kept encrypted; never shown again.",
    )


class SettingsForm(forms.Form):
    renew_days = forms.IntegerField(
        label="Renew this many days before expiry", min_value=1, max_value=365
    )
    pin_issued = forms.BooleanField(
        label="Security profile 3: accept only certificates issued here to that charger",
        required=False,
    )


class FleetOperationForm(forms.Form):
    """One operation on chosen chargers or on every charger of a site."""

    kind = forms.ChoiceField(label="Operation", choices=OperationKind.choices)
    site = forms.ModelChoiceField(queryset=Site.objects.none(), required=False)
    chargers = forms.ModelMultipleChoiceField(
        queryset=Charger.objects.none(), required=False, widget=forms.SelectMultiple
    )
    root_kind = forms.ChoiceField(
        label="Certificate kind", choices=RootKind.choices, required=False
    )
    certificate = forms.CharField(label="Certificate (PEM)", widget=PEM_AREA, required=False)
    issuer_name_hash = forms.CharField(max_length=128, required=False)
    issuer_key_hash = forms.CharField(max_length=128, required=False)
    serial_number = forms.CharField(max_length=40, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read in the request's scope (the form is built inside the view).
        self.fields["site"].queryset = Site.objects.all()  # type: ignore[attr-defined]
        self.fields["chargers"].queryset = Charger.objects.order_by("identity")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        targets = list(data.get("chargers") or [])
        if data.get("site") is not None:
            targets += [c for c in Charger.objects.filter(site=data["site"]) if c not in targets]
        if not targets:
            self.add_error("chargers", "Choose chargers or a site with chargers.")
        data["targets"] = targets
        if data.get("kind") == OperationKind.INSTALL:
            for field in ("root_kind", "certificate"):
                if not data.get(field):
                    self.add_error(field, "Required to install a certificate.")
        if data.get("kind") == OperationKind.DELETE:
            for field in ("issuer_name_hash", "issuer_key_hash", "serial_number"):
                if not data.get(field):
                    self.add_error(field, "Required to delete a certificate.")
        return data
