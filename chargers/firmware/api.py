"""Firmware images, campaigns (with their waves, counts and per-charger timelines) and
diagnostics requests in the REST API. Roles come from `chargers.firmware.access`."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.http import FileResponse, Http404
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from chargers.firmware import access
from chargers.firmware import examples as ex
from chargers.firmware.models import (
    Campaign,
    CampaignState,
    CampaignTarget,
    DiagnosticsRequest,
    DiagnosticsState,
    FirmwareImage,
    TargetEvent,
    TargetState,
)
from chargers.firmware.selectors import campaign_progress
from chargers.firmware.services import campaigns as campaign_services
from chargers.firmware.services import diagnostics as diagnostics_services
from chargers.firmware.services import images as image_services
from chargers.models import Charger
from cpms.api.base import CursorPaged, TenantPrimaryKeyRelatedField, TenantViewSet, validation_error
from cpms.api.texts import text_field
from cpms.models import Site

# --- Images ------------------------------------------------------------------------------------


@extend_schema_serializer(examples=[ex.returns("An uploaded image", ex.IMAGE)])
class FirmwareImageSerializer(serializers.ModelSerializer):
    file = serializers.FileField(
        write_only=True, required=False, help_text="The image (multipart upload)."
    )
    # A plain string in the schema: a blank URL field would match two of its alternatives.
    external_url = serializers.CharField(
        max_length=512,
        required=False,
        allow_blank=True,
        help_text="Where chargers fetch the image, instead of a file kept here.",
    )
    has_file = serializers.SerializerMethodField()
    is_signed = serializers.BooleanField(read_only=True)

    class Meta:
        model = FirmwareImage
        fields = [
            "id",
            "vendor",
            "model",
            "version",
            "file",
            "has_file",
            "file_name",
            "size",
            "sha256",
            "external_url",
            "signature",
            "signing_certificate",
            "is_signed",
            "notes",
            "created_at",
        ]
        read_only_fields = ["file_name", "size", "sha256", "created_at"]
        # The uniqueness of vendor/model/version is checked by the service, in the scope.
        validators: list = []

    def get_has_file(self, image: FirmwareImage) -> bool:
        return bool(image.file)


@extend_schema_view(
    create=extend_schema(
        examples=ex.exchange(
            "An image at an external URL",
            request=ex.IMAGE_REQUEST,
            response=ex.EXTERNAL_IMAGE,
            status=201,
        )
    ),
)
class FirmwareImageViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Firmware per vendor, model and version: uploaded here (SHA-256 computed, optionally
    signed) or at an external URL. Admins manage them; everyone reads."""

    serializer_class = FirmwareImageSerializer
    read_role = access.READ
    write_role = access.MANAGE_IMAGES
    parser_classes = [JSONParser, MultiPartParser]
    filter_backends = [filters.DjangoFilterBackend]
    filterset_fields = ["vendor", "model"]

    def get_queryset(self):
        return FirmwareImage.objects.all()

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        try:
            serializer.instance = image_services.image_create(
                uploaded_by=self.request.auth.user, **data
            )
        except DjangoValidationError as error:
            raise validation_error(error) from error

    def perform_destroy(self, instance):
        try:
            image_services.image_delete(image=instance)
        except DjangoValidationError as error:
            raise validation_error(error) from error


# --- Campaigns ---------------------------------------------------------------------------------


class WaveSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    is_canary = serializers.BooleanField()
    size = serializers.IntegerField()
    state = serializers.CharField()
    counts = serializers.DictField(child=serializers.IntegerField())
    progress_percent = serializers.IntegerField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


@extend_schema_serializer(examples=[ex.returns("A running campaign", ex.CAMPAIGN)])
class CampaignSerializer(serializers.ModelSerializer):
    image = TenantPrimaryKeyRelatedField(queryset=FirmwareImage.objects.all())
    sites = TenantPrimaryKeyRelatedField(queryset=Site.objects.all(), many=True, required=False)
    from_versions = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        help_text="Only chargers carrying one of these tags (chargers' `tags`).",
    )
    version = serializers.CharField(source="image.version", read_only=True)
    paused_reason_text = text_field()
    counts = serializers.SerializerMethodField()
    waves = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "image",
            "version",
            "state",
            "sites",
            "from_versions",
            "tags",
            "canary_size",
            "batch_size",
            "batch_percent",
            "max_in_flight",
            "failure_threshold_percent",
            "window_start",
            "window_end",
            "defer_minutes",
            "send_after_deferral",
            "download_timeout_minutes",
            "install_timeout_minutes",
            "boot_timeout_minutes",
            "max_attempts",
            "retry_delay_minutes",
            "paused_reason",
            "paused_reason_text",
            "created_at",
            "started_at",
            "finished_at",
            "counts",
            "waves",
        ]
        read_only_fields = ["state", "paused_reason", "created_at", "started_at", "finished_at"]
        extra_kwargs = {
            "canary_size": {"max_value": 10000},
            "batch_size": {"min_value": 1, "max_value": 100000},
            "batch_percent": {"min_value": 1, "max_value": 100},
            "max_in_flight": {"min_value": 1, "max_value": 10000},
            "failure_threshold_percent": {"max_value": 100},
            "defer_minutes": {"max_value": 100000},
            "download_timeout_minutes": {"min_value": 1, "max_value": 10080},
            "install_timeout_minutes": {"min_value": 1, "max_value": 10080},
            "boot_timeout_minutes": {"min_value": 1, "max_value": 10080},
            "max_attempts": {"min_value": 1, "max_value": 10},
            "retry_delay_minutes": {"max_value": 1440},
        }

    @extend_schema_field(serializers.DictField(child=serializers.IntegerField()))
    def get_counts(self, campaign: Campaign) -> dict[str, int]:
        return campaign_progress(campaign).counts

    @extend_schema_field(WaveSerializer(many=True))
    def get_waves(self, campaign: Campaign) -> list[dict]:
        return [wave.as_dict() for wave in campaign_progress(campaign).waves]


class CampaignFilter(filters.FilterSet):
    state = filters.ChoiceFilter(choices=CampaignState.choices)
    image = filters.NumberFilter(field_name="image_id")

    class Meta:
        model = Campaign
        fields = ["state", "image"]


def _campaign_action(summary: str, response: dict) -> dict:
    return {
        "request": None,
        "responses": {200: CampaignSerializer},
        "examples": ex.exchange(summary, response=response),
    }


@extend_schema_view(
    create=extend_schema(
        examples=ex.exchange(
            "A canary of five, then 20% at a time, at night",
            request=ex.CAMPAIGN_REQUEST,
            response=ex.DRAFT_CAMPAIGN,
            status=201,
        )
    ),
)
class CampaignViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, TenantViewSet
):
    """Firmware rollouts: created as drafts, started (the targets frozen into waves), paused,
    resumed and cancelled by admins; each shows its counts by state and each wave's progress.
    Per-charger timelines are under `firmware-targets`."""

    serializer_class = CampaignSerializer
    read_role = access.READ
    write_role = access.MANAGE_CAMPAIGNS
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = CampaignFilter

    def get_queryset(self):
        return Campaign.objects.select_related("image").prefetch_related("sites")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        try:
            serializer.instance = campaign_services.campaign_create(
                created_by=self.request.auth.user, **data
            )
        except DjangoValidationError as error:
            raise validation_error(error) from error

    def _act(self, service) -> Response:
        campaign = self.get_object()
        try:
            campaign = service(campaign=campaign)
        except DjangoValidationError as error:
            raise validation_error(error) from error
        return Response(CampaignSerializer(self.get_queryset().get(pk=campaign.pk)).data)

    @extend_schema(**_campaign_action("Started", ex.CAMPAIGN))
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        """Freeze the chargers the filter matches now into waves and start the first."""
        return self._act(campaign_services.campaign_start)

    @extend_schema(**_campaign_action("Paused", ex.OPERATOR_PAUSED_CAMPAIGN))
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        """Start no more chargers; updates already at a charger go on and are followed."""
        return self._act(campaign_services.campaign_pause)

    @extend_schema(**_campaign_action("Resumed", ex.CAMPAIGN))
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """Go on; a wave that paused the campaign on its failures no longer holds it."""
        return self._act(campaign_services.campaign_resume)

    @extend_schema(**_campaign_action("Cancelled", {**ex.CAMPAIGN, "state": "cancelled"}))
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """End it: chargers not started are cancelled; those under way are still followed."""
        return self._act(campaign_services.campaign_cancel)


class TimelineEntrySerializer(serializers.ModelSerializer):
    detail_text = text_field()

    class Meta:
        model = TargetEvent
        fields = ["at", "attempt", "state", "detail", "detail_text"]


@extend_schema_serializer(
    examples=[ex.returns("A charger that came back on the old version", ex.TARGET)]
)
class TargetSerializer(serializers.ModelSerializer):
    charger_identity = serializers.CharField(source="charger.identity", read_only=True)
    wave = serializers.IntegerField(source="wave.number", read_only=True)
    timeline = TimelineEntrySerializer(source="events", many=True, read_only=True)
    failure_reason_text = text_field()

    class Meta:
        model = CampaignTarget
        fields = [
            "id",
            "campaign",
            "charger",
            "charger_identity",
            "wave",
            "from_version",
            "state",
            "attempt",
            "last_status",
            "failure_reason",
            "failure_reason_text",
            "started_at",
            "finished_at",
            "timeline",
        ]
        read_only_fields = fields


class TargetFilter(filters.FilterSet):
    campaign = filters.NumberFilter(field_name="campaign_id")
    charger = filters.NumberFilter(field_name="charger_id")
    state = filters.ChoiceFilter(choices=TargetState.choices)
    wave = filters.NumberFilter(field_name="wave__number")

    class Meta:
        model = CampaignTarget
        fields = ["campaign", "charger", "state", "wave"]


class CampaignTargetViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, CursorPaged, TenantViewSet
):
    """Each charger of each campaign (thousands per campaign: cursor pages): its state,
    attempts, failure reason and timeline."""

    serializer_class = TargetSerializer
    read_role = access.READ
    filterset_class = TargetFilter
    ordering_fields = ["id"]

    def get_queryset(self):
        timeline = Prefetch("events", queryset=TargetEvent.objects.order_by("at", "id"))
        return CampaignTarget.objects.select_related("charger", "wave").prefetch_related(timeline)


# --- Diagnostics -------------------------------------------------------------------------------


@extend_schema_serializer(examples=[ex.returns("An uploaded log", ex.DIAGNOSTICS, 200)])
class DiagnosticsSerializer(serializers.ModelSerializer):
    charger = TenantPrimaryKeyRelatedField(queryset=Charger.objects.all())
    charger_identity = serializers.CharField(source="charger.identity", read_only=True)
    has_file = serializers.SerializerMethodField()

    class Meta:
        model = DiagnosticsRequest
        fields = [
            "id",
            "charger",
            "charger_identity",
            "state",
            "last_status",
            "error",
            "file_name",
            "size",
            "sha256",
            "has_file",
            "created_at",
            "uploaded_at",
            "keep_until",
        ]
        read_only_fields = [f for f in fields if f != "charger"]

    def get_has_file(self, request: DiagnosticsRequest) -> bool:
        return bool(request.file)


class DiagnosticsFilter(filters.FilterSet):
    charger = filters.NumberFilter(field_name="charger_id")
    state = filters.ChoiceFilter(choices=DiagnosticsState.choices)

    class Meta:
        model = DiagnosticsRequest
        fields = ["charger", "state"]


@extend_schema_view(
    create=extend_schema(
        examples=ex.exchange(
            "Ask a charger for its log",
            request=ex.DIAGNOSTICS_REQUEST,
            response=ex.NEW_DIAGNOSTICS,
            status=201,
        )
    ),
)
class DiagnosticsViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    CursorPaged,
    TenantViewSet,
):
    """Diagnostics (1.6) and logs (2.0.1): an operator asks, the charger uploads to a one-time
    URL this server issues, and the file is kept for the retention period."""

    serializer_class = DiagnosticsSerializer
    read_role = access.READ
    write_role = access.REQUEST_DIAGNOSTICS
    filterset_class = DiagnosticsFilter
    # `created_at` is stamped by this server per request; ties are broken by id.
    ordering_fields = ["id", "created_at"]

    def get_queryset(self):
        return DiagnosticsRequest.objects.select_related("charger")

    def perform_create(self, serializer):
        serializer.instance = diagnostics_services.diagnostics_request(
            charger=serializer.validated_data["charger"], requested_by=self.request.auth.user
        )

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
        examples=ex.download("A log file", ex.LOG_FILE, "application/octet-stream"),
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The uploaded file (404 until it arrived, or once its retention ended)."""
        diagnostics = self.get_object()
        if not diagnostics.file:
            raise Http404
        return FileResponse(
            diagnostics.file.open("rb"),
            as_attachment=True,
            filename=diagnostics.file_name or "diagnostics.log",
            content_type="application/octet-stream",
        )
