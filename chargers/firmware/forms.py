"""The dashboard's firmware forms. They validate input; the services write."""

from django import forms

from chargers.firmware.models import FirmwareImage
from cpms.models import Site


class ImageForm(forms.Form):
    vendor = forms.CharField(max_length=50, help_text="As the chargers report it at boot.")
    model = forms.CharField(max_length=50)
    version = forms.CharField(max_length=50)
    file = forms.FileField(required=False, help_text="The image; its SHA-256 is computed here.")
    external_url = forms.URLField(
        max_length=512,
        required=False,
        assume_scheme="https",
        help_text="Or where chargers fetch it instead.",
    )
    signature = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Base64, optional."
    )
    signing_certificate = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="PEM, optional."
    )
    notes = forms.CharField(max_length=500, required=False)


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=200)
    image = forms.ModelChoiceField(queryset=FirmwareImage.objects.none())
    sites = forms.ModelMultipleChoiceField(
        queryset=Site.objects.none(), required=False, help_text="None: every site."
    )
    from_versions = forms.CharField(
        required=False, help_text="Only chargers on these versions, comma-separated."
    )
    canary_size = forms.IntegerField(min_value=0, max_value=10000, initial=5)
    batch_size = forms.IntegerField(min_value=1, required=False, help_text="Chargers per wave…")
    batch_percent = forms.IntegerField(
        min_value=1, max_value=100, required=False, initial=20, help_text="…or % of the fleet."
    )
    max_in_flight = forms.IntegerField(min_value=1, max_value=10000, initial=20)
    failure_threshold_percent = forms.IntegerField(min_value=0, max_value=100, initial=10)
    window_start = forms.TimeField(
        required=False, widget=forms.TimeInput(attrs={"type": "time"}), help_text="Site time."
    )
    window_end = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    defer_minutes = forms.IntegerField(
        min_value=1,
        required=False,
        help_text="Minutes a charger in a session is deferred at most; empty: until it is free.",
    )
    send_after_deferral = forms.BooleanField(
        required=False,
        initial=True,
        help_text="Then send it anyway (it installs once free); unticked: skip the charger.",
    )
    download_timeout_minutes = forms.IntegerField(min_value=1, max_value=10080, initial=30)
    install_timeout_minutes = forms.IntegerField(min_value=1, max_value=10080, initial=30)
    boot_timeout_minutes = forms.IntegerField(min_value=1, max_value=10080, initial=15)
    max_attempts = forms.IntegerField(min_value=1, max_value=10, initial=2)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built in the request's scope, not at import time.
        self.fields["image"].queryset = FirmwareImage.objects.all()  # type: ignore[attr-defined]
        self.fields["sites"].queryset = Site.objects.all()  # type: ignore[attr-defined]

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        data["from_versions"] = [
            v.strip() for v in (data.get("from_versions") or "").split(",") if v.strip()
        ]
        data["sites"] = list(data.get("sites") or [])
        return data


class CampaignActionForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, a) for a in ("start", "pause", "resume", "cancel")])
