from django.contrib import admin, messages

from chargers.models import (
    Charger,
    ChargerBoot,
    ChargerEvent,
    ChargingSession,
    Command,
    ConnectionEvent,
    Connector,
    DeviceModelVariable,
    HandshakeRefusal,
    IdToken,
    MeterSample,
    OcppMessage,
    RegistrationStatus,
    StatusEvent,
    TransactionEventRecord,
)
from chargers.services.chargers import charger_set_password, charger_set_registration
from chargers.services.reports import BOOT_FIELDS
from cpms.admin import TenantAdmin


@admin.register(IdToken)
class IdTokenAdmin(TenantAdmin):
    list_display = ["uid", "type", "label", "group", "blocked", "expires_at"]
    list_filter = ["type", "blocked"]
    search_fields = ["uid", "label"]


class ConnectorInline(admin.TabularInline):
    model = Connector
    extra = 0
    exclude = ["tenant"]
    readonly_fields = [
        "evse_id",
        "connector_id",
        "status",
        "error_code",
        "info",
        "vendor_id",
        "vendor_error_code",
        "status_at",
    ]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Charger)
class ChargerAdmin(TenantAdmin):
    list_display = [
        "identity",
        "site",
        "registration_status",
        "is_online",
        "last_seen",
        "ocpp_version",
        "vendor",
        "model",
        "firmware_version",
    ]
    list_filter = ["registration_status", "is_online", "ocpp_version", "vendor"]
    search_fields = ["identity", "serial_number", "vendor", "model"]
    readonly_fields = [
        "ocpp_version",
        *BOOT_FIELDS,  # what the charger says about itself when it boots
        "last_boot_at",
        "firmware_status",
        "diagnostics_status",
        "is_online",
        "last_seen",
        "connected_at",
        "channel_name",
        "node",
        "remote_addr",
        "password_set_at",
    ]
    inlines = [ConnectorInline]
    actions = ["approve", "reject", "rotate_password"]

    @admin.action(description="Approve (BootNotification answers Accepted)")
    def approve(self, request, queryset):
        for charger in queryset:
            charger_set_registration(charger=charger, status=RegistrationStatus.ACCEPTED)
        self.message_user(request, f"{queryset.count()} charger(s) approved.")

    @admin.action(description="Reject (BootNotification answers Rejected)")
    def reject(self, request, queryset):
        for charger in queryset:
            charger_set_registration(charger=charger, status=RegistrationStatus.REJECTED)
        self.message_user(request, f"{queryset.count()} charger(s) rejected.")

    @admin.action(description="Rotate password (the new one is shown once)")
    def rotate_password(self, request, queryset):
        for charger in queryset:
            password = charger_set_password(charger=charger)
            self.message_user(
                request, f"{charger.identity}: new password {password}", messages.WARNING
            )


class ReadOnlyAdmin(TenantAdmin):
    """Facts reported by chargers: readable in the admin, never edited there."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ChargingSession)
class ChargingSessionAdmin(ReadOnlyAdmin):
    list_display = [
        "transaction_id",
        "charger",
        "evse_id",
        "id_tag",
        "state",
        "started_at",
        "stopped_at",
        "energy_wh",
        "stop_reason",
    ]
    list_filter = ["state", "stop_reason"]
    search_fields = ["transaction_id", "id_tag", "charger__identity"]


@admin.register(MeterSample)
class MeterSampleAdmin(ReadOnlyAdmin):
    list_display = ["charger", "evse_id", "timestamp", "measurand", "phase", "value", "unit"]
    list_filter = ["measurand"]


@admin.register(StatusEvent)
class StatusEventAdmin(ReadOnlyAdmin):
    list_display = ["charger", "evse_id", "connector_id", "status", "error_code", "timestamp"]
    list_filter = ["status"]


@admin.register(ChargerBoot)
class ChargerBootAdmin(ReadOnlyAdmin):
    list_display = ["charger", "at", "answered", "changes"]


@admin.register(ChargerEvent)
class ChargerEventAdmin(ReadOnlyAdmin):
    list_display = ["charger", "kind", "summary", "critical", "at"]
    list_filter = ["kind", "critical"]


@admin.register(Command)
class CommandAdmin(ReadOnlyAdmin):
    list_display = [
        "charger",
        "action",
        "status",
        "requested_by",
        "source",
        "created_at",
        "duration_ms",
    ]
    list_filter = ["status", "action", "source"]


@admin.register(OcppMessage)
class OcppMessageAdmin(ReadOnlyAdmin):
    list_display = ["charger", "at", "incoming", "message_type", "action", "unique_id"]
    list_filter = ["incoming", "message_type"]
    search_fields = ["charger__identity", "unique_id", "action"]


@admin.register(ConnectionEvent)
class ConnectionEventAdmin(ReadOnlyAdmin):
    list_display = [
        "charger",
        "connected_at",
        "disconnected_at",
        "remote_addr",
        "node",
        "close_reason",
    ]


@admin.register(HandshakeRefusal)
class HandshakeRefusalAdmin(ReadOnlyAdmin):
    list_display = ["at", "tenant_slug", "identity", "remote_addr", "reason", "detail"]
    list_filter = ["reason"]


@admin.register(TransactionEventRecord)
class TransactionEventRecordAdmin(ReadOnlyAdmin):
    list_display = ["session", "seq_no", "event_type", "trigger_reason", "timestamp", "offline"]
    list_filter = ["event_type", "offline"]


@admin.register(DeviceModelVariable)
class DeviceModelVariableAdmin(ReadOnlyAdmin):
    list_display = [
        "charger",
        "component",
        "evse_id",
        "variable",
        "attribute_type",
        "value",
        "mutability",
    ]
    list_filter = ["component", "mutability"]
    search_fields = ["charger__identity", "component", "variable"]
