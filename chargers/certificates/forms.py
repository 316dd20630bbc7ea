"""The certificate pages' forms: they validate input; the services write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from chargers.certificates.models import OcspMode, OperationKind, ProviderKind, RootKind
from chargers.certificates.services.pnc_settings import MAX_REMOTE_TIMEOUT
from chargers.models import Charger, IdToken
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


class PncSettingsForm(forms.Form):
    provider = forms.ChoiceField(
        label=_("Contract-certificate provider"), choices=ProviderKind.choices
    )
    remote_url = forms.URLField(
        label=_("Remote provider URL"), required=False, max_length=300, assume_scheme="https"
    )
    remote_username = forms.CharField(label=_("Username"), required=False, max_length=150)
    remote_secret = forms.CharField(
        label=_("Password or token"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Kept sealed and never shown; leave empty to keep the stored one."),
    )
    remote_timeout = forms.IntegerField(
        label=_("Give the provider this many seconds"), min_value=1, max_value=MAX_REMOTE_TIMEOUT
    )
    ocsp_mode = forms.ChoiceField(label=_("OCSP"), choices=OcspMode.choices)
    trusted_roots_pem = forms.CharField(
        label=_("Further trusted V2G roots (PEM)"), required=False, widget=PEM_AREA
    )
    token_group = forms.ModelChoiceField(
        label=_("Group of the eMAID tokens the built-in PKI creates"),
        queryset=IdToken.objects.none(),
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read in the request's scope (the form is built inside the view).
        self.fields["token_group"].queryset = IdToken.objects.order_by("uid")  # type: ignore[attr-defined]


class ContractIssueForm(forms.Form):
    emaid = forms.CharField(
        label=_("eMAID"), max_length=36, help_text=_("For a test EV, e.g. DE-ABC-C12345678-9.")
    )
