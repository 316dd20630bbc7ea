"""Chargers and their connectors in the API: register, move, approve or reject, rotate a
password, remove. The base view (`cpms.api.base`) owns scope and roles.
"""

from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from chargers import credentials
from chargers import tags as charger_tags
from chargers.access import MANAGE_CHARGERS
from chargers.exports import chargers_csv
from chargers.models import (
    Charger,
    Connector,
    RegistrationStatus,
)
from chargers.selectors.fleet import STATE_CHOICES, with_state
from chargers.services import chargers as charger_services
from cpms.api import examples as ex
from cpms.api.base import (
    Conflict,
    CrudViewSet,
    CsvRenderer,
    TenantModelSerializer,
)
from cpms.exports import export_filename


@extend_schema_serializer(examples=[ex.returns("A connector", ex.CONNECTOR)])
class ConnectorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Connector
        fields = [
            "evse_id",
            "connector_id",
            "status",
            "error_code",
            "info",
            "vendor_id",
            "vendor_error_code",
            "status_at",
        ]


@extend_schema_serializer(examples=[ex.returns("A charger", ex.CHARGER)])
class ChargerSerializer(TenantModelSerializer):
    connectors = ConnectorSerializer(many=True, read_only=True)
    password = serializers.CharField(
        write_only=True,
        required=False,
        help_text="16-40 printable ASCII characters; omit to have one generated.",
    )
    ocpp_version = serializers.CharField(
        read_only=True, help_text="1.6, 2.0.1 or 2.1; empty until the charger first connects."
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=charger_tags.MAX_LENGTH, trim_whitespace=True),
        required=False,
        max_length=charger_tags.MAX_TAGS,
        help_text="Slugs to group chargers by (firmware campaigns, the `tag` filter): up to 20, "
        "each 1-40 lowercase letters, digits, - or _. PATCH replaces the whole list.",
    )
    state = serializers.ChoiceField(
        choices=STATE_CHOICES,
        read_only=True,
        help_text="As the dashboard shows it, most urgent first: pending (approval), offline, "
        "faulted, charging, unavailable or available.",
    )

    class Meta:
        model = Charger
        fields = [
            "id",
            "identity",
            "site",
            "password",
            "security_profile",
            "certificate_fingerprint",
            "registration_status",
            "tags",
            "ocpp_version",
            "state",
            "vendor",
            "model",
            "serial_number",
            "firmware_version",
            "is_online",
            "last_seen",
            "connected_at",
            "last_boot_at",
            "connectors",
            "created_at",
        ]
        read_only_fields = [
            f
            for f in fields
            if f
            not in {
                "identity",
                "site",
                "password",
                "security_profile",
                "certificate_fingerprint",
                "registration_status",
                "tags",
                "id",
            }
        ]
        extra_kwargs = {
            "security_profile": {
                "help_text": "1 (profiles 1 and 2: password) or 3 (TLS client certificate "
                "whose CN is the charge point id, verified by the proxy)."
            },
            "certificate_fingerprint": {
                "max_length": 200,
                "help_text": "Profile 3: pin one certificate by its SHA-256 (hex, colons "
                "allowed); empty accepts any of the charger CA's with the right CN.",
            },
        }

    def validate_identity(self, value: str) -> str:
        if self.instance is not None and value != self.instance.identity:
            raise serializers.ValidationError("A charger's id cannot change; add a new charger.")
        return value

    def validate_password(self, value: str) -> str:
        problem = credentials.validate(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def validate_tags(self, value: list[str]) -> list[str]:
        try:
            return charger_tags.clean_tags(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None


class NewChargerSerializer(ChargerSerializer):
    password = serializers.CharField(
        read_only=True, help_text="The charger's password. Shown once: configure it now."
    )


class PasswordSerializer(serializers.Serializer):
    password = serializers.CharField(
        required=False, help_text="16-40 printable ASCII characters; omit to generate one."
    )

    def validate_password(self, value: str) -> str:
        problem = credentials.validate(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value


class NewPasswordSerializer(serializers.Serializer):
    password = serializers.CharField(help_text="Shown once: configure it in the charger now.")


class ChargerFilter(filters.FilterSet):
    site = filters.NumberFilter(field_name="site_id")
    # The fleet state the overview counts (the queryset carries it, `with_state`).
    state = filters.ChoiceFilter(choices=STATE_CHOICES)
    tag = filters.CharFilter(
        method="filter_tag",
        validators=[charger_tags.validate_tag],
        help_text="Only chargers carrying this tag.",
    )

    class Meta:
        model = Charger
        fields = ["site", "is_online", "registration_status", "ocpp_version", "state", "tag"]

    def filter_tag(self, queryset, name, value):
        return queryset.filter(charger_tags.tagged(value))


MOVED_CHARGER = {**ex.CHARGER, "site": 5}


@extend_schema_view(
    create=extend_schema(
        description="Register a charger. The response carries its password once; omit "
        "`password` to have one generated.",
        examples=ex.exchange(
            "A new charger",
            request={"identity": "ACME-0042", "site": 3},
            response=ex.NEW_CHARGER,
            status=201,
        ),
        responses={201: NewChargerSerializer},
    ),
    partial_update=extend_schema(
        description="Move a charger to another site, set its tags (the whole list) or its "
        "registration status.",
        examples=[
            *ex.exchange("Move to another site", request={"site": 5}, response=MOVED_CHARGER),
            *ex.exchange(
                "Set its tags",
                request={"tags": ["depot", "beta-firmware"]},
                response={**ex.CHARGER, "tags": ["depot", "beta-firmware"]},
            ),
        ],
    ),
    destroy=extend_schema(description="Remove a charger that has no sessions."),
)
class ChargerViewSet(CrudViewSet):
    """Chargers with their connectors' live state. Admins register and remove them and set
    passwords; operators approve or reject pending ones and send commands."""

    serializer_class = ChargerSerializer
    write_role = MANAGE_CHARGERS
    action_roles = {"approve": MANAGE_CHARGERS, "reject": MANAGE_CHARGERS}
    filterset_class = ChargerFilter
    ordering_fields = ["identity", "last_seen", "created_at"]
    ordering = ["identity"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return with_state(Charger.objects.prefetch_related("connectors"))

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        new = charger_services.charger_create(**serializer.validated_data)
        charger = self.get_queryset().get(pk=new.charger.pk)
        body = NewChargerSerializer(charger, context=self.get_serializer_context()).data
        body["password"] = new.password
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["csv"], required=False)],
        responses={(200, "text/csv"): OpenApiTypes.STR},
        examples=ex.download("Chargers as CSV", ex.CHARGERS_CSV, "text/csv"),
    )
    @action(detail=False, methods=["get"], renderer_classes=[JSONRenderer, CsvRenderer])
    def export(self, request):
        """The filtered chargers as CSV (the same filters and ordering as the list), with their
        fleet state, connectors and open alerts; times in the tenant's time zone."""
        # The connectors come as a count: no prefetch for a table of tuples.
        chargers = self.filter_queryset(self.get_queryset()).prefetch_related(None)
        return chargers_csv(
            chargers,
            tz=zoneinfo.ZoneInfo(self.tenant.timezone),
            tenant=self.tenant,
            filename=export_filename("chargers", self.tenant),
        )

    def update_row(self, instance, **data):
        data.pop("password", None)
        data.pop("identity", None)  # the same id (validate_identity refuses another)
        registration = data.pop("registration_status", None)
        charger = charger_services.charger_update(charger=instance, **data)
        if registration and registration != charger.registration_status:
            charger_services.charger_set_registration(charger=charger, status=registration)
        return self.get_queryset().get(pk=charger.pk)

    def delete_row(self, instance):
        try:
            charger_services.charger_delete(charger=instance)
        except charger_services.ChargerInUse as in_use:
            raise Conflict(str(in_use)) from None

    @extend_schema(
        request=PasswordSerializer,
        responses={200: NewPasswordSerializer},
        examples=[
            *ex.exchange(
                "Generate one",
                request={},
                response={"password": "Zx4Tq8Lm1Rv7Wc3Np9Ks2Hd6Jf5Gb0Ya"},
            ),
            *ex.exchange(
                "Choose one",
                request={"password": "correct-horse-battery-42"},
                response={"password": "correct-horse-battery-42"},
            ),
        ],
    )
    @action(detail=True, methods=["post"], url_path="rotate-password")
    def rotate_password(self, request, pk=None):
        """Set a new password (given or generated); the charger must use it from its next
        connection. The response shows it once."""
        charger = self.get_object()
        serializer = PasswordSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        password = charger_services.charger_set_password(
            charger=charger, password=serializer.validated_data.get("password")
        )
        return Response({"password": password})

    @extend_schema(request=None, responses={200: ChargerSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Accept a pending or rejected charger; a connected one is told at once."""
        return self._register(RegistrationStatus.ACCEPTED)

    @extend_schema(
        request=None,
        responses={200: ChargerSerializer},
        examples=ex.exchange(
            "Rejected", response={**ex.CHARGER, "registration_status": "Rejected"}
        ),
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject a charger: its boots are answered Rejected."""
        return self._register(RegistrationStatus.REJECTED)

    def _register(self, registration: str) -> Response:
        charger = self.get_object()
        charger_services.charger_set_registration(charger=charger, status=registration)
        return Response(self.get_serializer(self.get_queryset().get(pk=charger.pk)).data)

    @extend_schema(responses={200: ConnectorSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def connectors(self, request, pk=None):
        """The charger's connectors and their latest status."""
        charger = self.get_object()
        return Response(ConnectorSerializer(charger.connectors.all(), many=True).data)
