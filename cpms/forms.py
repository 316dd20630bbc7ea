from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cpms.models import ApiKeyRole, Membership, Role, Site, SiteOwner
from cpms.services.sites import SITE_FIELDS, SITE_OWNER_FIELDS

T = TypeVar("T")


class TenantModelForm(forms.ModelForm):
    """A form for a tenant-owned row. It validates the input; the service the view calls
    writes the row and checks what spans rows (uniqueness in the tenant), and `save_with` puts
    what the service refuses beside the field it names."""

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.tenant = tenant
        # Choice fields were built at import time, outside any scope: rebuild them in this one.
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField) and field.queryset is not None:
                field.queryset = field.queryset.model._default_manager.all()

    def values(self) -> dict[str, Any]:
        """The cleaned values of the form's model fields, as the services take them."""
        names = self._meta.fields or ()
        return {name: self.cleaned_data[name] for name in names if name in self.fields}


def save_with(form: forms.BaseForm, write: Callable[..., T], **kwargs: Any) -> T | None:
    """Call the service that writes what `form` holds. A ValidationError it raises is shown on
    the form, beside the field it names (or above the form); then None is returned."""
    try:
        return write(**kwargs)
    except ValidationError as error:
        problems: Iterable[tuple[str | None, list[str]]] = (
            error.message_dict.items() if hasattr(error, "error_dict") else [(None, error.messages)]
        )
        for field, messages in problems:
            form.add_error(field if field in form.fields else None, messages)
        return None


def form_page(
    request: HttpRequest, form: forms.BaseForm, *, title: str, instance: object, cancel: str
) -> HttpResponse:
    """The page of one form: `instance` is the row it edits (None for a new one), `cancel` the
    name of the URL its Cancel link leads back to."""
    return render(
        request,
        "cpms/form.html",
        {"form": form, "title": title, "object": instance, "cancel": cancel},
    )


class SiteForm(TenantModelForm):
    class Meta:
        model = Site
        fields = list(SITE_FIELDS)


class SiteOwnerForm(TenantModelForm):
    class Meta:
        model = SiteOwner
        fields = list(SITE_OWNER_FIELDS)


class MemberForm(forms.Form):
    """Invite a person by email, or change an existing member's role. The rules (a portal
    member belongs to a site owner, nobody demotes themselves) are the services'."""

    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices)
    site_owner = forms.ModelChoiceField(
        queryset=SiteOwner.objects.none(),
        required=False,
        help_text="Required for site-owner portal members.",
    )

    def __init__(self, *args, member: Membership | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        site_owner = cast(forms.ModelChoiceField, self.fields["site_owner"])
        site_owner.queryset = SiteOwner.objects.all()
        if member is not None:
            self.fields["email"].disabled = True


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. “Billing export”.")
    role = forms.ChoiceField(choices=ApiKeyRole.choices)
    expires_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Empty: until revoked.",
    )

    def clean_expires_at(self):
        value = self.cleaned_data["expires_at"]
        if value is not None and value <= timezone.now():
            raise forms.ValidationError("Choose a time in the future.")
        return value


class LogoForm(forms.Form):
    logo = forms.FileField(
        help_text="PNG, JPEG or WebP, at most 512 KB; shown in the header of every page.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("As my browser asks"))]
        + [(code, name) for code, name in settings.LANGUAGES],
        help_text=_("Pages, live updates and the emails you receive are written in it."),
    )
