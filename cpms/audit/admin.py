"""Audit entries in the admin: read only (no add, change or delete, for anyone)."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404

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

    def delete_view(self, request, object_id, extra_context=None):
        # Refused for everyone; another tenant's entry is the same 404 as everywhere.
        if self.get_object(request, object_id) is None:
            raise Http404
        raise PermissionDenied("Audit entries are never deleted by hand.")
