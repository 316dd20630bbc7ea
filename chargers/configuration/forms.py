"""The dashboard's configuration forms. They validate input; the services write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from chargers.configuration.desired import parse_lines
from chargers.configuration.models import Protocol
from chargers.models import Charger
from cpms.models import Site

ENTRIES_HELP = _(
    "One setting a line: setting = value. 1.6: the key (HeartbeatInterval = 300). 2.0.1: "
    "Component.Variable, with /instance, @evse/connector and #AttributeType where needed "
    "(OCPPCommCtrlr.HeartbeatInterval = 300, EVSE@1.Power#MaxSet = 11000)."
)


class TemplateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    protocol = forms.ChoiceField(label=_("Protocol"), choices=Protocol.choices)
    vendor = forms.CharField(
        label=_("Vendor"), max_length=50, required=False, help_text=_("As chargers report it.")
    )
    model = forms.CharField(label=_("Model"), max_length=50, required=False)
    site = forms.ModelChoiceField(
        label=_("Site"),
        queryset=Site.objects.none(),
        required=False,
        help_text=_("A site's template wins."),
    )
    entries = forms.CharField(
        label=_("Entries"), widget=forms.Textarea(attrs={"rows": 8}), help_text=ENTRIES_HELP
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built in the request's scope, not at import time.
        self.fields["site"].queryset = Site.objects.all()  # type: ignore[attr-defined]

    def clean(self):
        data = super().clean() or {}
        if "entries" in data and "protocol" in data:
            try:
                data["entries"] = parse_lines(protocol=data["protocol"], text=data["entries"])
            except ValueError as error:
                self.add_error("entries", str(error))
        return data


class ApplyForm(forms.Form):
    chargers = forms.ModelMultipleChoiceField(
        label=_("Chargers"), queryset=Charger.objects.none(), required=False
    )
    all = forms.BooleanField(label=_("All"), required=False)

    def __init__(self, *args, chargers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["chargers"].queryset = chargers  # type: ignore[attr-defined]

    def clean(self):
        data = super().clean() or {}
        if not data.get("all") and not data.get("chargers"):
            self.add_error("chargers", _("Choose chargers, or apply to all."))
        return data
