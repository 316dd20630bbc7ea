"""Billing in the Django admin, scoped like every tenant-owned model: readable for support,
never edited here (tariffs change through their services, which version them; records are
never changed at all)."""

from django.contrib import admin

from billing.models import ChargeDetailRecord, Tariff, TariffAssignment, TariffVersion
from chargers.admin import ReadOnlyAdmin


class NeverDeleted(ReadOnlyAdmin):
    # No bulk delete either.
    actions = None

    def has_delete_permission(self, request, obj=None):
        # No row is deleted here; asked without a row (a stranger's id, which is no row in
        # his scope) the answer lets the admin reach its 404, as for every model.
        return obj is None and super().has_delete_permission(request)


@admin.register(Tariff)
class TariffAdmin(NeverDeleted):
    list_display = ["name", "currency", "created_at", "archived_at"]
    search_fields = ["name"]


@admin.register(TariffVersion)
class TariffVersionAdmin(NeverDeleted):
    list_display = ["tariff", "number", "effective_from", "created_at"]


@admin.register(TariffAssignment)
class TariffAssignmentAdmin(NeverDeleted):
    list_display = ["tariff", "place", "site", "charger", "connector", "group", "priority"]


@admin.register(ChargeDetailRecord)
class ChargeDetailRecordAdmin(NeverDeleted):
    list_display = [
        "session",
        "version",
        "charger",
        "start_date_time",
        "currency",
        "total_excl_vat_minor",
        "total_incl_vat_minor",
        "issued_at",
    ]
    search_fields = ["id_tag", "charger__identity"]
