from django.contrib import admin

from chargers.models import IdToken
from cpms.admin import TenantAdmin


@admin.register(IdToken)
class IdTokenAdmin(TenantAdmin):
    list_display = ["uid", "type", "label", "group", "blocked", "expires_at"]
    list_filter = ["type", "blocked"]
    search_fields = ["uid", "label"]
    autocomplete_fields: list[str] = []
