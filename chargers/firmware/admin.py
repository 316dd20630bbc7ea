"""Firmware in the Django admin, scoped like every tenant-owned model (`cpms.admin.TenantAdmin`).

Read mostly: images, campaigns, their chargers' timelines and diagnostics are written by the
services (a file's hash, a campaign's frozen targets, an upload's one-time token), which the
dashboard and the API call; here they are looked up. An image's notes are the one thing edited.
"""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import Http404

from chargers.firmware.models import (
    Campaign,
    CampaignTarget,
    CampaignWave,
    DiagnosticsRequest,
    FirmwareImage,
    TargetEvent,
)
from cpms.admin import TenantAdmin


class ReadMostlyAdmin(TenantAdmin):
    """Nothing added or deleted here; every field read-only but those named `editable`."""

    editable: tuple[str, ...] = ()

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return bool(self.editable) and super().has_change_permission(request, obj)

    def delete_view(self, request, object_id, extra_context=None):
        # The admin checks the permission before it looks the row up: a stranger would get
        # 403 for another tenant's row where everything else answers 404.
        if self.get_object(request, unquote(object_id)) is None:
            raise Http404
        return super().delete_view(request, object_id, extra_context)

    def get_readonly_fields(self, request, obj=None):
        fields = [f.name for f in self.model._meta.fields if f.name not in self.editable]
        many = [f.name for f in self.model._meta.many_to_many]
        return [*fields, *many]


@admin.register(FirmwareImage)
class FirmwareImageAdmin(ReadMostlyAdmin):
    list_display = ["vendor", "model", "version", "size", "external_url", "created_at"]
    list_filter = ["vendor", "model"]
    search_fields = ["vendor", "model", "version", "sha256"]
    editable = ("notes",)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields or []

    def has_add_permission(self, request, obj=None):
        return False


class WaveInline(ReadOnlyInline):
    model = CampaignWave
    fields = ["number", "size", "state", "gate_overridden", "started_at", "finished_at"]


@admin.register(Campaign)
class CampaignAdmin(ReadMostlyAdmin):
    list_display = ["name", "image", "state", "created_at", "started_at", "finished_at"]
    list_filter = ["state"]
    search_fields = ["name"]
    inlines = [WaveInline]


class EventInline(ReadOnlyInline):
    model = TargetEvent
    fields = ["at", "attempt", "state", "detail"]


@admin.register(CampaignTarget)
class CampaignTargetAdmin(ReadMostlyAdmin):
    list_display = ["charger", "campaign", "state", "attempt", "last_status", "updated_at"]
    list_filter = ["state"]
    search_fields = ["charger__identity", "campaign__name"]
    list_select_related = ["charger", "campaign"]
    inlines = [EventInline]


@admin.register(DiagnosticsRequest)
class DiagnosticsRequestAdmin(ReadMostlyAdmin):
    list_display = ["charger", "state", "file_name", "size", "created_at", "keep_until"]
    list_filter = ["state"]
    search_fields = ["charger__identity", "file_name"]
    list_select_related = ["charger"]
    # The token's hash opens nothing, but it is no one's business here.
    exclude = ["token_hash"]

    def get_readonly_fields(self, request, obj=None):
        return [name for name in super().get_readonly_fields(request, obj) if name != "token_hash"]
