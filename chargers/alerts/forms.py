from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from chargers.alerts.models import AlertKind, Severity
from cpms.models import Membership, Role


class AcknowledgeForm(forms.Form):
    note = forms.CharField(
        label=_("Note"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What you are doing about it, for your colleagues."),
    )


class MembersField(forms.ModelMultipleChoiceField):
    """Members, each shown by their email."""

    def label_from_instance(self, obj: Any) -> str:
        return obj.user.email


class AlertRuleForm(forms.Form):
    """One kind's rule; the rules page shows one of these per kind."""

    enabled = forms.BooleanField(required=False)
    severity = forms.ChoiceField(choices=Severity.choices)
    threshold_minutes = forms.IntegerField(min_value=1, max_value=7 * 24 * 60, required=False)
    never_stopped_hours = forms.IntegerField(min_value=1, max_value=24 * 30, initial=24)
    notify = MembersField(
        queryset=Membership.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.label = AlertKind(kind).label
        # Portal members are customers, not staff on call.
        notify = cast(MembersField, self.fields["notify"])
        notify.queryset = (
            Membership.objects.exclude(role=Role.PORTAL)
            .filter(accepted_at__isnull=False)
            .select_related("user")
        )
