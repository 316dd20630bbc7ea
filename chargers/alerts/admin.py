"""Alerts in the Django admin: scoped like every tenant-owned model (`cpms.admin.TenantAdmin`).

Alerts are opened and resolved by the rules, so they are read-only here; acknowledging goes
through the same service as the dashboard. Rules are edited here or on the rules page.
"""

from django import forms
from django.contrib import admin, messages

from chargers.admin import ReadOnlyAdmin
from chargers.alerts import services
from chargers.alerts.models import Alert, AlertRule
from cpms.admin import TenantAdmin
from cpms.models import Membership, Role
from cpms.tenancy import scoping


class OpenFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", "Open"), ("no", "Resolved")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = [
        "title",
        "kind",
        "severity",
        "charger",
        "opened_at",
        "acknowledged_by",
        "acknowledged_at",
        "resolved_at",
    ]
    list_filter = [OpenFilter, "kind", "severity"]
    search_fields = ["title", "detail", "subject", "charger__identity"]
    list_select_related = ["charger", "acknowledged_by"]
    actions = ["acknowledge"]

    @admin.action(description="Acknowledge the selected alerts")
    def acknowledge(self, request, queryset):
        done = 0
        for alert in queryset.filter(acknowledged_at__isnull=True).select_related("tenant"):
            # Platform staff act across tenants; each alert is written in its own tenant's scope.
            with scoping.scope(alert.tenant):
                services.alert_acknowledge(
                    alert=alert, user=request.user, note="Acknowledged in the admin."
                )
            done += 1
        skipped = queryset.count() - done
        self.message_user(request, f"{done} alert(s) acknowledged.")
        if skipped:
            self.message_user(
                request, f"{skipped} alert(s) were acknowledged already.", messages.WARNING
            )


class AlertRuleAdminForm(forms.ModelForm):
    class Meta:
        model = AlertRule
        # `tenant` is added for platform staff and left out for tenant admins by TenantAdmin.
        fields = [
            "tenant",
            "kind",
            "enabled",
            "severity",
            "threshold_minutes",
            "never_stopped_hours",
            "notify",
        ]

    def clean(self):
        super().clean()
        data = self.cleaned_data
        tenant = (
            data.get("tenant")
            or getattr(self, "tenant_of_request", None)
            or getattr(self.instance, "tenant", None)
        )
        kind = data.get("kind")
        if tenant is not None and kind:
            with scoping.scope(tenant):
                clash = AlertRule.objects.filter(kind=kind).exclude(pk=self.instance.pk)
                if clash.exists():
                    self.add_error("kind", "This tenant has a rule for this kind of alert.")
        for membership in data.get("notify") or []:
            if tenant is not None and membership.tenant_id != tenant.pk:
                self.add_error("notify", f"{membership.user.email} is not a member of {tenant}.")
            elif membership.role == Role.PORTAL:
                self.add_error("notify", f"{membership.user.email} is a site owner, not staff.")
        return data


@admin.register(AlertRule)
class AlertRuleAdmin(TenantAdmin):
    form = AlertRuleAdminForm
    list_display = ["kind", "enabled", "severity", "threshold_minutes", "never_stopped_hours"]
    list_filter = ["enabled", "severity"]
    filter_horizontal = ["notify"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if not request.user.is_superuser:
            # A tenant admin's form has no tenant field; its checks need to know the tenant.
            form = type(form.__name__, (form,), {"tenant_of_request": request.tenant})
        return form

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "notify":
            kwargs["queryset"] = (
                Membership.objects.exclude(role=Role.PORTAL)
                .filter(accepted_at__isnull=False)
                .select_related("user", "tenant")
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)
