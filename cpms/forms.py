from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from cpms.models import ApiKeyRole, Membership, Role, Site, SiteOwner


class TenantModelForm(forms.ModelForm):
    """A form for a tenant-owned row: binds the tenant and checks case-insensitive uniqueness
    within it (Django skips constraints on excluded fields, and `tenant` is never a field)."""

    unique_in_tenant: tuple[str, ...] = ()

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.tenant = tenant
        # Choice fields were built at import time, outside any scope: rebuild them in this one.
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField):
                field.queryset = field.queryset.model._default_manager.all()

    def clean(self):
        data = super().clean()
        model = self._meta.model
        for field in self.unique_in_tenant:
            value = data.get(field)
            if not value:
                continue
            clash = model.objects.filter(**{f"{field}__iexact": value})
            if self.instance.pk:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                label = model._meta.get_field(field).verbose_name
                self.add_error(field, f"A {model._meta.verbose_name} with this {label} exists.")
        return data


class SiteForm(TenantModelForm):
    class Meta:
        model = Site
        fields = [
            "name",
            "site_owner",
            "street",
            "postal_code",
            "city",
            "country",
            "timezone",
            "grid_limit_kw",
            "latitude",
            "longitude",
        ]

    unique_in_tenant = ("name",)


class SiteOwnerForm(TenantModelForm):
    class Meta:
        model = SiteOwner
        fields = ["name", "contact_email", "contact_phone"]

    unique_in_tenant = ("name",)


class MemberForm(forms.Form):
    """Invite a person by email, or change an existing member's role."""

    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices)
    site_owner = forms.ModelChoiceField(
        queryset=SiteOwner.objects.none(),
        required=False,
        help_text="Required for site-owner portal members.",
    )

    def __init__(self, *args, tenant, member: Membership | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant, self.member = tenant, member
        self.fields["site_owner"].queryset = SiteOwner.objects.all()
        if member is not None:
            self.fields["email"].disabled = True

    def clean_email(self):
        email = self.cleaned_data["email"].lower()
        if self.member is None and Membership.objects.filter(user__email=email).exists():
            raise forms.ValidationError("This person is already a member of this tenant.")
        return email

    def clean(self):
        data = super().clean()
        role, owner = data.get("role"), data.get("site_owner")
        if role == Role.PORTAL and owner is None:
            self.add_error("site_owner", "Choose the site owner this portal member belongs to.")
        if role and role != Role.PORTAL and owner is not None:
            self.add_error("site_owner", "Only portal members belong to a site owner.")
        return data

    def save(self) -> tuple[Membership, bool]:
        """Create or update the membership; True when a new account was created."""
        data = self.cleaned_data
        created = False
        if self.member is None:
            User = get_user_model()
            user = User.objects.filter(email=data["email"]).first()
            if user is None:
                user = User.objects.create_user(email=data["email"], password=None)
                created = True
            self.member = Membership(tenant=self.tenant, user=user)
        self.member.role = data["role"]
        self.member.site_owner = data["site_owner"] if data["role"] == Role.PORTAL else None
        self.member.full_clean()
        self.member.save()
        return self.member, created


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
