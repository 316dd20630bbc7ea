"""Audit entries in the admin: read only (no add, change or delete, for anyone)."""

from django.contrib import admin

from cpms.admin import TenantAdmin
from cpms.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(TenantAdmin):
    list_display = ["at", "actor_label", "action", "object_type", "object_id"]
    list_filter = ["action", "object_type", "actor_kind"]
    search_fields = ["actor_label", "object_label", "object_id"]
    date_hierarchy = "at"

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in AuditEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
