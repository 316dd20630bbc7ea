"""Django admin for platform staff, and for tenant admins given staff access.

Querysets come from the scoped default managers, so a tenant admin sees only their tenant's
rows (the scope is opened by `cpms.tenancy.TenantMiddleware`); objects outside it are 404.
"""

from typing import ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import Http404
from django.utils import timezone

from cpms.models import Membership, PlatformApiKey, Role, Site, SiteOwner, Tenant, User
from cpms.services import apikeys


def is_tenant_admin(request) -> bool:
    membership = getattr(request, "membership", None)
    return bool(
        request.user.is_active
        and request.user.is_staff
        and membership
        and membership.role == Role.ADMIN
    )


class TenantAdmin(admin.ModelAdmin):
    """Base for every tenant-owned model: the tenant field is staff-only."""

    def _allowed(self, request) -> bool:
        return request.user.is_superuser or is_tenant_admin(request)

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)

    def has_add_permission(self, request):
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request)

    def get_exclude(self, request, obj=None):
        excluded = list(super().get_exclude(request, obj) or [])
        return excluded if request.user.is_superuser else [*excluded, "tenant"]

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        return [*columns, "tenant"] if request.user.is_superuser else columns

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))
        return [*filters, "tenant"] if request.user.is_superuser else filters

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser:
            obj.tenant = request.tenant
        super().save_model(request, obj, form, change)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # The admin's default redirect says "doesn't exist"; strangers get the same 404 as
        # everywhere else.
        raise Http404


@admin.register(Tenant)
class TenantModelAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "timezone", "currency", "is_active", "created_at"]
    search_fields = ["name", "slug"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        if is_tenant_admin(request):
            return queryset.filter(pk=request.tenant.pk)
        return queryset.none()

    def has_module_permission(self, request):
        return request.user.is_superuser or is_tenant_admin(request)

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser or is_tenant_admin(request)

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser or is_tenant_admin(request)

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        return [] if request.user.is_superuser else ["slug", "is_active"]

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404


@admin.register(SiteOwner)
class SiteOwnerAdmin(TenantAdmin):
    list_display = ["name", "contact_email"]
    search_fields = ["name", "contact_email"]


@admin.register(Site)
class SiteAdmin(TenantAdmin):
    list_display = ["name", "city", "country", "site_owner", "grid_limit_kw", "timezone"]
    search_fields = ["name", "city"]


@admin.register(Membership)
class MembershipAdmin(TenantAdmin):
    list_display = ["user", "role", "site_owner"]
    list_filter = ["role"]
    search_fields = ["user__email"]

    def get_readonly_fields(self, request, obj=None):
        # Tenant admins invite people from the dashboard; the admin must not list every
        # account on the platform in a user picker.
        if request.user.is_superuser:
            return []
        return ["user"] if obj else []

    def has_add_permission(self, request):
        return request.user.is_superuser

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user" and not request.user.is_superuser:
            kwargs["queryset"] = User.objects.filter(memberships__tenant=request.tenant)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class SuperuserOnlyAdmin:
    """A model admin for platform staff only: every permission is the user's superuser flag."""

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


# People are global; only platform staff manage accounts.
@admin.register(User)
class UserAdmin(SuperuserOnlyAdmin, BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_superuser", "last_login"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Personal info", {"fields": ["first_name", "last_name"]}),
        ("Platform access", {"fields": ["is_active", "is_staff", "is_superuser"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    filter_horizontal: ClassVar[list[str]] = []
    list_filter = ["is_staff", "is_superuser", "is_active"]


class PlatformApiKeyForm(forms.ModelForm):
    class Meta:
        model = PlatformApiKey
        fields = ["name", "role", "expires_at"]

    def clean_expires_at(self):
        value = self.cleaned_data.get("expires_at")
        if value is not None and value <= timezone.now():
            raise forms.ValidationError("Choose a moment in the future.")
        return value


# Platform keys reach every tenant: platform staff only.
@admin.register(PlatformApiKey)
class PlatformApiKeyAdmin(SuperuserOnlyAdmin, admin.ModelAdmin):
    """Staff keys for the REST API: each request names its tenant in `X-Tenant`. Superusers
    only; the secret is shown once, on the page after the key is added."""

    form = PlatformApiKeyForm
    list_display = ["name", "prefix", "role", "created_by", "expires_at", "revoked_at"]
    list_filter = ["role"]
    search_fields = ["name", "prefix"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["prefix", "role", "created_by", "created_at", "last_used_at", "revoked_at"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "role", "expires_at"]
        return ["name", "prefix", "role", "created_by", "created_at", "expires_at",
                "last_used_at", "revoked_at"]  # fmt: skip

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        new = apikeys.platform_api_key_create(
            name=obj.name, role=obj.role, created_by=request.user, expires_at=obj.expires_at
        )
        # The admin goes on with `obj` (its log entry, the redirect): make it the saved key.
        for field in PlatformApiKey._meta.concrete_fields:
            setattr(obj, field.attname, getattr(new.key, field.attname))
        obj._state.adding = False
        messages.warning(request, f"The new key, shown this once (store it now): {new.secret}")

    @admin.action(description="Revoke the selected keys at once")
    def revoke(self, request, queryset):
        for key in queryset:
            apikeys.api_key_revoke(key=key)
        messages.success(request, f"Revoked {len(queryset)} key(s).")
