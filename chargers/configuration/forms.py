"""The dashboard's configuration forms. They validate input; the services write."""

from django import forms

from chargers.configuration.desired import parse_lines
from chargers.configuration.models import Protocol
from chargers.models import Charger
from cpms.models import Site

ENTRIES_HELP = (
    "One setting a line: setting = value. 1.6: the key (HeartbeatInterval = 300). 2.0.1: "
    "Component.Variable, with /instance, @evse/connector and #AttributeType where needed "
    "(OCPPCommCtrlr.HeartbeatInterval = 300, EVSE@1.Power#MaxSet = 11000)."
)


class TemplateForm(forms.Form):
    name = forms.CharField(max_length=200)
    protocol = forms.ChoiceField(choices=Protocol.choices)
    vendor = forms.CharField(max_length=50, required=False, help_text="As chargers report it.")
    model = forms.CharField(max_length=50, required=False)
    site = forms.ModelChoiceField(
        queryset=Site.objects.none(), required=False, help_text="A site's template wins."
    )
    entries = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), help_text=ENTRIES_HELP)

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
    chargers = forms.ModelMultipleChoiceField(queryset=Charger.objects.none(), required=False)
    all = forms.BooleanField(required=False)

    def __init__(self, *args, chargers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["chargers"].queryset = chargers  # type: ignore[attr-defined]

    def clean(self):
        data = super().clean() or {}
        if not data.get("all") and not data.get("chargers"):
            self.add_error("chargers", "Choose chargers, or apply to all.")
        return data
