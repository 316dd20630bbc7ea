"""The dashboard's firmware forms. They validate input; the services write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from chargers.firmware.models import (
    DEFAULT_DEFER_MINUTES,
    DEFAULT_RETRY_DELAY_MINUTES,
    FirmwareImage,
)
from chargers.tags import TagsField
from cpms.models import Site


class ImageForm(forms.Form):
    vendor = forms.CharField(
        label=_("Vendor"), max_length=50, help_text=_("As the chargers report it at boot.")
    )
    model = forms.CharField(label=_("Model"), max_length=50)
    version = forms.CharField(label=_("Version"), max_length=50)
    file = forms.FileField(
        label=_("File"), required=False, help_text=_("The image; its SHA-256 is computed here.")
    )
    external_url = forms.URLField(
        label=_("External url"),
        max_length=512,
        required=False,
        assume_scheme="https",
        help_text=_("Or where chargers fetch it instead."),
    )
    signature = forms.CharField(
        label=_("Signature"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Base64, optional."),
    )
    signing_certificate = forms.CharField(
        label=_("Signing certificate"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("PEM, optional."),
    )
    notes = forms.CharField(label=_("Notes"), max_length=500, required=False)


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    image = forms.ModelChoiceField(label=_("Image"), queryset=FirmwareImage.objects.none())
    sites = forms.ModelMultipleChoiceField(
        label=_("Sites"),
        queryset=Site.objects.none(),
        required=False,
        help_text=_("None: every site."),
    )
    from_versions = forms.CharField(
        label=_("From versions"),
        required=False,
        help_text=_("Only chargers on these versions, comma-separated."),
    )
    tags = TagsField(help_text=_("Only chargers carrying one of these tags, comma-separated."))
    canary_size = forms.IntegerField(
        label=_("Canary size"), min_value=0, max_value=10000, initial=5
    )
    batch_size = forms.IntegerField(
        label=_("Batch size"), min_value=1, required=False, help_text=_("Chargers per wave…")
    )
    batch_percent = forms.IntegerField(
        label=_("Batch percent"),
        min_value=1,
        max_value=100,
        required=False,
        initial=20,
        help_text=_("…or % of the fleet."),
    )
    max_in_flight = forms.IntegerField(
        label=_("Max in flight"), min_value=1, max_value=10000, initial=20
    )
    failure_threshold_percent = forms.IntegerField(
        label=_("Failure threshold percent"), min_value=0, max_value=100, initial=10
    )
    window_start = forms.TimeField(
        label=_("Window start"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("Site time."),
    )
    window_end = forms.TimeField(
        label=_("Window end"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    defer_minutes = forms.IntegerField(
        label=_("Defer minutes"),
        min_value=1,
        required=False,
        initial=DEFAULT_DEFER_MINUTES,
        help_text=_("Minutes a charger in a session is deferred at most; empty: until it is free."),
    )
    send_after_deferral = forms.BooleanField(
        label=_("Send after deferral"),
        required=False,
        initial=True,
        help_text=_("Then send it anyway (it installs once free); unticked: skip the charger."),
    )
    download_timeout_minutes = forms.IntegerField(
        label=_("Download timeout minutes"), min_value=1, max_value=10080, initial=30
    )
    install_timeout_minutes = forms.IntegerField(
        label=_("Install timeout minutes"), min_value=1, max_value=10080, initial=30
    )
    boot_timeout_minutes = forms.IntegerField(
        label=_("Boot timeout minutes"), min_value=1, max_value=10080, initial=15
    )
    max_attempts = forms.IntegerField(label=_("Max attempts"), min_value=1, max_value=10, initial=2)
    retry_delay_minutes = forms.IntegerField(
        label=_("Retry delay minutes"),
        required=False,
        min_value=0,
        max_value=1440,
        initial=DEFAULT_RETRY_DELAY_MINUTES,
        help_text=_("Minutes before a failed charger is tried again."),
    )

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
        if data.get("retry_delay_minutes") is None:
            data["retry_delay_minutes"] = DEFAULT_RETRY_DELAY_MINUTES
        return data


class CampaignActionForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"), choices=[(a, a) for a in ("start", "pause", "resume", "cancel")]
    )
