from django import forms

from chargers.models import IdToken
from cpms.forms import TenantModelForm


class IdTokenForm(TenantModelForm):
    class Meta:
        model = IdToken
        fields = ["uid", "type", "label", "group", "blocked", "expires_at"]
        widgets = {"expires_at": forms.DateTimeInput(attrs={"type": "datetime-local"})}

    unique_in_tenant = ("uid",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["group"].queryset = IdToken.objects.exclude(pk=self.instance.pk)

    def clean_uid(self):
        uid = self.cleaned_data["uid"].strip()
        if not uid.isprintable() or " " in uid:
            raise forms.ValidationError("A token is printable characters without spaces.")
        return uid
