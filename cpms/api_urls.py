"""The REST API's URLs: /api/v1/ resources, the OpenAPI schema and the interactive docs."""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from billing import api as billing_api
from chargers.alerts import api as alerts_api
from chargers.api import chargers, commands, fleet_settings, sessions, telemetry, tokens
from chargers.certificates import api as certificates_api
from chargers.certificates import pnc_api
from chargers.configuration import api as configuration_api
from chargers.firmware import api as firmware_api
from chargers.local_lists import api as local_lists_api
from chargers.reservations import api as reservations_api
from chargers.smart_charging import api as smart_api
from cpms.api import resources, webhooks
from cpms.audit import api as audit_api

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("sites", resources.SiteViewSet, basename="site")
router.register("site-owners", resources.SiteOwnerViewSet, basename="site-owner")
router.register("members", resources.MemberViewSet, basename="member")
router.register("api-keys", resources.ApiKeyViewSet, basename="api-key")
router.register("chargers", chargers.ChargerViewSet, basename="charger")
router.register("sessions", sessions.SessionViewSet, basename="session")
router.register("meter-samples", telemetry.MeterSampleViewSet, basename="meter-sample")
router.register("status-events", telemetry.StatusEventViewSet, basename="status-event")
router.register("connections", telemetry.ConnectionViewSet, basename="connection")
router.register("ocpp-messages", telemetry.OcppMessageViewSet, basename="ocpp-message")
router.register(
    "device-model-variables",
    telemetry.DeviceModelVariableViewSet,
    basename="device-model-variable",
)
router.register("id-tokens", tokens.IdTokenViewSet, basename="id-token")
router.register("commands", commands.CommandViewSet, basename="command")
router.register("alerts", alerts_api.AlertViewSet, basename="alert")
router.register("audit-log", audit_api.AuditEntryViewSet, basename="audit")
router.register("tariffs", billing_api.TariffViewSet, basename="tariff")
router.register(
    "tariff-assignments", billing_api.TariffAssignmentViewSet, basename="tariff-assignment"
)
router.register("cdrs", billing_api.CdrViewSet, basename="cdr")
router.register("customers", billing_api.CustomerViewSet, basename="customer")
router.register("invoices", billing_api.InvoiceViewSet, basename="invoice")
router.register("site-shares", billing_api.SiteShareViewSet, basename="site-share")
router.register("statements", billing_api.StatementViewSet, basename="statement")
router.register("grid-connections", smart_api.GridConnectionViewSet, basename="grid-connection")
router.register("circuits", smart_api.CircuitViewSet, basename="circuit")
router.register("charger-wiring", smart_api.WiringViewSet, basename="charger-wiring")
router.register("grid-limit-windows", smart_api.WindowViewSet, basename="grid-limit-window")
router.register("limit-signals", smart_api.SignalViewSet, basename="limit-signal")
router.register("session-needs", smart_api.NeedsViewSet, basename="session-needs")
router.register("group-priorities", smart_api.GroupPriorityViewSet, basename="group-priority")
router.register("sites", smart_api.LoadPlanViewSet, basename="load-plan")
router.register(
    "charging-profile-reports", smart_api.ProfilesReportViewSet, basename="charging-profile-report"
)
router.register("firmware-images", firmware_api.FirmwareImageViewSet, basename="firmware-image")
router.register("firmware-campaigns", firmware_api.CampaignViewSet, basename="firmware-campaign")
router.register("firmware-targets", firmware_api.CampaignTargetViewSet, basename="firmware-target")
router.register("diagnostics", firmware_api.DiagnosticsViewSet, basename="diagnostics")
router.register("reservations", reservations_api.ReservationViewSet, basename="reservation")
router.register(
    "local-list-policies", local_lists_api.LocalListPolicyViewSet, basename="local-list-policy"
)
router.register("local-lists", local_lists_api.LocalListViewSet, basename="local-list")
router.register("config-templates", configuration_api.TemplateViewSet, basename="config-template")
router.register("config-apply-runs", configuration_api.RunViewSet, basename="config-apply-run")
router.register("config-drift", configuration_api.DriftViewSet, basename="config-drift")
router.register(
    "charger-configuration",
    configuration_api.ChargerConfigurationViewSet,
    basename="charger-configuration",
)
router.register("certificates", certificates_api.IssuedViewSet, basename="certificate")
router.register("contract-certificates", pnc_api.ContractViewSet, basename="contract-certificate")
router.register(
    "ev-certificate-requests", pnc_api.EvRequestViewSet, basename="ev-certificate-request"
)
router.register(
    "certificate-requests", certificates_api.RequestViewSet, basename="certificate-request"
)
router.register(
    "certificate-rotations", certificates_api.RotationViewSet, basename="certificate-rotation"
)
router.register(
    "installed-certificates", certificates_api.InstalledViewSet, basename="installed-certificate"
)
router.register(
    "certificate-operations", certificates_api.OperationViewSet, basename="certificate-operation"
)
router.register("webhook-endpoints", webhooks.WebhookEndpointViewSet, basename="webhook-endpoint")
router.register("webhook-deliveries", webhooks.WebhookDeliveryViewSet, basename="webhook-delivery")

# One resource per tenant, without an id: no router route fits it.
singletons = [
    path(
        "charger-settings/",
        fleet_settings.FleetSettingsViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="charger-settings",
    ),
    path(
        "charger-settings/onboarding-password/",
        fleet_settings.FleetSettingsViewSet.as_view(
            {"post": "open_onboarding", "delete": "close_onboarding"}
        ),
        name="charger-settings-onboarding",
    ),
    path(
        "billing-settings/",
        billing_api.BillingSettingsViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="billing-settings",
    ),
    path(
        "certificate-authority/",
        certificates_api.AuthorityViewSet.as_view({"get": "retrieve", "post": "create_built_in"}),
        name="certificate-authority",
    ),
    path(
        "certificate-authority/import/",
        certificates_api.AuthorityViewSet.as_view({"post": "import_pem"}),
        name="certificate-authority-import",
    ),
    path(
        "certificate-settings/",
        certificates_api.SettingsViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="certificate-settings",
    ),
    path(
        "plug-and-charge-settings/",
        pnc_api.PncSettingsViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="plug-and-charge-settings",
    ),
    path(
        "v2g-authority/",
        pnc_api.V2gAuthorityViewSet.as_view({"get": "retrieve"}),
        name="v2g-authority",
    ),
]

urlpatterns = [
    path("v1/", include(([*router.urls, *singletons], "api"), namespace="api")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI injects its own <style> elements; its page alone allows inline styles (its
    # script is a file of its own: the split view).
    path(
        "docs/",
        csp_update({"style-src": [UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
]
