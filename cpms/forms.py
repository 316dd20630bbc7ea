from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from cpms.languages import recipient_language
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
        labels = {
            "name": _("Name"),
            "site_owner": _("Site owner"),
            "street": _("Street"),
            "postal_code": _("Postal code"),
            "city": _("City"),
            "country": _("Country"),
            "timezone": _("Timezone"),
            "latitude": _("Latitude"),
            "longitude": _("Longitude"),
        }


class SiteOwnerForm(TenantModelForm):
    class Meta:
        model = SiteOwner
        fields = list(SITE_OWNER_FIELDS)
        labels = {
            "name": _("Name"),
            "contact_email": _("Contact email"),
            "contact_phone": _("Contact phone"),
        }


class MemberForm(forms.Form):
    """Invite a person by email, or change an existing member's role. The rules (a portal
    member belongs to a site owner, nobody demotes themselves) are the services'."""

    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    site_owner = forms.ModelChoiceField(
        queryset=SiteOwner.objects.none(),
        required=False,
        label=_("Site owner"),
        help_text=_("Required for site-owner portal members."),
    )

    def __init__(self, *args, member: Membership | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        site_owner = cast(forms.ModelChoiceField, self.fields["site_owner"])
        site_owner.queryset = SiteOwner.objects.all()
        if member is not None:
            self.fields["email"].disabled = True


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("What uses it, e.g. “Billing export”.")
    )
    role = forms.ChoiceField(label=_("Role"), choices=ApiKeyRole.choices)
    expires_at = forms.DateTimeField(
        label=_("Expires at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Empty: until revoked."),
    )

    def clean_expires_at(self):
        value = self.cleaned_data["expires_at"]
        if value is not None and value <= timezone.now():
            raise forms.ValidationError(_("Choose a time in the future."))
        return value


class LogoForm(forms.Form):
    logo = forms.FileField(
        label=_("Logo"),
        help_text=_("PNG, JPEG or WebP, at most 512 KB; shown in the header of every page."),
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


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's, writing to each person in the language they chose (else the page's)."""

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs):
        with recipient_language(context["user"], otherwise=translation.get_language()):
            super().send_mail(subject_template_name, email_template_name, context, *args, **kwargs)
