"""The REST API's URLs: /api/v1/ resources, the OpenAPI schema and the interactive docs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from chargers.alerts import api as alerts_api
from chargers.api import chargers, commands, sessions, telemetry, tokens
from chargers.firmware import api as firmware_api
from cpms.api import resources, webhooks

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
router.register("firmware-images", firmware_api.FirmwareImageViewSet, basename="firmware-image")
router.register("firmware-campaigns", firmware_api.CampaignViewSet, basename="firmware-campaign")
router.register("firmware-targets", firmware_api.CampaignTargetViewSet, basename="firmware-target")
router.register("diagnostics", firmware_api.DiagnosticsViewSet, basename="diagnostics")
router.register("webhook-endpoints", webhooks.WebhookEndpointViewSet, basename="webhook-endpoint")
router.register("webhook-deliveries", webhooks.WebhookDeliveryViewSet, basename="webhook-delivery")

urlpatterns = [
    path("v1/", include((router.urls, "api"), namespace="api")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
