"""The dashboard's local list forms. They validate input; the services write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from chargers.local_lists.models import PolicyMode
from chargers.models import Charger, IdToken
from cpms.models import Site


class PolicyForm(forms.Form):
    site = forms.ModelChoiceField(
        label=_("Site"),
        queryset=Site.objects.none(),
        required=False,
        help_text=_("A site's override; none: the tenant's policy."),
    )
    charger = forms.ModelChoiceField(
        label=_("Charger"),
        queryset=Charger.objects.none(),
        required=False,
        help_text=_("Or a charger's override."),
    )
    mode = forms.ChoiceField(label=_("Mode"), choices=PolicyMode.choices)
    groups = forms.ModelMultipleChoiceField(
        label=_("Groups"),
        queryset=IdToken.objects.none(),
        required=False,
        help_text=_("With “the tokens of chosen groups”: the groups whose cards are listed."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built in the request's scope: only the tenant's sites, chargers and group tokens.
        self.fields["site"].queryset = Site.objects.all()  # type: ignore[attr-defined]
        self.fields["charger"].queryset = Charger.objects.all()  # type: ignore[attr-defined]
        self.fields["groups"].queryset = IdToken.objects.filter(members__isnull=False).distinct()  # type: ignore[attr-defined]


class SyncForm(forms.Form):
    site = forms.ModelChoiceField(
        label=_("Site"),
        queryset=Site.objects.none(),
        required=False,
        help_text=_("None: every connected charger."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.all()  # type: ignore[attr-defined]
