"""Charger resources of the API: chargers and their connectors, sessions, meter samples,
status history, id tokens and commands. The base view (`cpms.api.base`) owns scope and roles."""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Iterator

from django.db import transaction
from django.db.models import Avg, Count, Max, Min, ProtectedError
from django.db.models.functions import Trunc
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
)
from ocpp.messages import get_validator
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from chargers import actions, commands, credentials, services
from chargers.commands import send_command
from chargers.models import (
    Charger,
    ChargingSession,
    Command,
    CommandStatus,
    ConnectionEvent,
    Connector,
    DeviceModelVariable,
    IdToken,
    MeterSample,
    OcppMessage,
    OcppVersion,
    RegistrationStatus,
    StatusEvent,
)
from chargers.ocpp.errors import CALL, schema_problem
from chargers.ocpp.handshake import MAX_IDENTITY
from cpms.api import examples as ex
from cpms.api.base import (
    CursorPaged,
    DateTimeFilter,
    TenantModelSerializer,
    TenantViewSet,
)
from cpms.api.resources import CrudViewSet
from cpms.models import Role
from cpms.tenancy import scoping


class Conflict(APIException):
    status_code = 409
    default_code = "conflict"
    default_detail = "This conflicts with the resource's current state."


# --- Chargers and connectors ------------------------------------------------------------------


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
    unique_in_tenant = ("identity",)
    connectors = ConnectorSerializer(many=True, read_only=True)
    password = serializers.CharField(
        write_only=True,
        required=False,
        help_text="16-40 printable ASCII characters; omit to have one generated.",
    )
    ocpp_version = serializers.CharField(
        read_only=True, help_text="1.6, 2.0.1 or 2.1; empty until the charger first connects."
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
            "ocpp_version",
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
        if not value or len(value) > MAX_IDENTITY or ":" in value or not value.isprintable():
            raise serializers.ValidationError(
                f"A charge point id is 1 to {MAX_IDENTITY} printable characters without ':'."
            )
        return value

    def validate_password(self, value: str) -> str:
        problem = credentials.validate(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def validate_certificate_fingerprint(self, value: str) -> str:
        try:
            return credentials.normalize_fingerprint(value)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None


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

    class Meta:
        model = Charger
        fields = ["site", "is_online", "registration_status", "ocpp_version"]


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
        description="Move a charger to another site, or set its registration status.",
        examples=ex.exchange("Move to another site", request={"site": 5}, response=MOVED_CHARGER),
    ),
    destroy=extend_schema(description="Remove a charger that has no sessions."),
)
class ChargerViewSet(CrudViewSet):
    """Chargers with their connectors' live state. Admins register and remove them and set
    passwords; operators approve or reject pending ones and send commands."""

    serializer_class = ChargerSerializer
    write_role = Role.ADMIN
    action_roles = {"approve": Role.OPERATOR, "reject": Role.OPERATOR}
    filterset_class = ChargerFilter
    ordering_fields = ["identity", "last_seen", "created_at"]
    ordering = ["identity"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return Charger.objects.prefetch_related("connectors")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        password = data.pop("password", None)
        with transaction.atomic():
            charger = Charger.objects.create(**data)
            password = services.set_password(charger=charger, password=password)
        charger.refresh_from_db()
        body = NewChargerSerializer(charger, context=self.get_serializer_context()).data
        body["password"] = password
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        serializer.validated_data.pop("password", None)
        new_status = serializer.validated_data.pop("registration_status", None)
        charger = serializer.save()
        if new_status and new_status != charger.registration_status:
            services.set_registration(charger=charger, status=new_status)

    def perform_destroy(self, instance):
        try:
            with transaction.atomic():
                instance.delete()
        except ProtectedError:
            raise Conflict("The charger has sessions; keep it for their history.") from None

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
        password = services.set_password(
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
        services.set_registration(charger=charger, status=registration)
        return Response(self.get_serializer(charger).data)

    @extend_schema(responses={200: ConnectorSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def connectors(self, request, pk=None):
        """The charger's connectors and their latest status."""
        charger = self.get_object()
        return Response(ConnectorSerializer(charger.connectors.all(), many=True).data)


# --- Sessions -------------------------------------------------------------------------------


@extend_schema_serializer(examples=[ex.returns("A session", ex.SESSION)])
class SessionSerializer(serializers.ModelSerializer):
    charger_identity = serializers.CharField(source="charger.identity", read_only=True)

    class Meta:
        model = ChargingSession
        fields = [
            "id",
            "charger",
            "charger_identity",
            "site",
            "evse_id",
            "connector_id",
            "transaction_id",
            "state",
            "id_token",
            "id_tag",
            "auth_status",
            "started_at",
            "stopped_at",
            "meter_start_wh",
            "meter_stop_wh",
            "energy_wh",
            "power_w",
            "stop_reason",
            "updated_at",
        ]


class SessionFilter(filters.FilterSet):
    site = filters.NumberFilter(field_name="site_id")
    charger = filters.NumberFilter(field_name="charger_id")
    id_token = filters.NumberFilter(field_name="id_token_id")
    id_tag = filters.CharFilter(field_name="id_tag", lookup_expr="iexact")
    started_after = DateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = DateTimeFilter(field_name="started_at", lookup_expr="lt")

    class Meta:
        model = ChargingSession
        fields = ["site", "charger", "id_token", "id_tag", "state"]


class CsvRenderer(BaseRenderer):
    """Lets `Accept: text/csv` through content negotiation; errors still render as JSON."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data)


# Spreadsheets run cells that start with these as formulas (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = [
    ("id", "id"),
    ("charger", "charger__identity"),
    ("site", "site__name"),
    ("evse_id", "evse_id"),
    ("connector_id", "connector_id"),
    ("transaction_id", "transaction_id"),
    ("state", "state"),
    ("id_tag", "id_tag"),
    ("started_at", "started_at"),
    ("stopped_at", "stopped_at"),
    ("energy_wh", "energy_wh"),
    ("stop_reason", "stop_reason"),
]


def csv_cell(value) -> str:
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return f"'{text}" if text.startswith(FORMULA_START) else text


class _Echo:
    def write(self, value):
        return value


@extend_schema_view(
    list=extend_schema(description="Sessions, newest first, by cursor."),
)
class SessionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CursorPaged, TenantViewSet):
    """Charging sessions, whichever OCPP version reported them."""

    serializer_class = SessionSerializer
    filterset_class = SessionFilter
    # Only by id: start times come from the chargers, and a fleet starting on a schedule shares
    # them, which a cursor cannot step over. `since`/`until` select by time; `export` sorts by it.
    ordering_fields = ["id"]

    def get_queryset(self):
        return ChargingSession.objects.select_related("charger")

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["csv"], required=False)],
        responses={(200, "text/csv"): OpenApiTypes.STR},
        examples=[
            OpenApiExample(
                "Sessions as CSV",
                value=ex.SESSIONS_CSV,
                response_only=True,
                media_type="text/csv",
                status_codes=["200"],
            )
        ],
    )
    @action(detail=False, methods=["get"], renderer_classes=[JSONRenderer, CsvRenderer])
    def export(self, request):
        """The filtered sessions as CSV (the same filters as the list), oldest first."""
        rows = (
            self.filter_queryset(self.get_queryset())
            .order_by("started_at", "id")
            .values_list(*[source for _, source in CSV_COLUMNS])
        )
        tenant = self.tenant
        writer = csv.writer(_Echo())

        def lines() -> Iterator[str]:
            # The response streams after the view returns, outside the request's scope.
            with scoping.scope(tenant):
                yield writer.writerow([name for name, _ in CSV_COLUMNS])
                for row in rows.iterator(chunk_size=2000):
                    yield writer.writerow([csv_cell(value) for value in row])

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="sessions.csv"'
        return response


# --- Meter samples and status history --------------------------------------------------------


@extend_schema_serializer(examples=[ex.returns("A sample", ex.METER_SAMPLE)])
class MeterSampleSerializer(serializers.ModelSerializer):
    class Meta:
        model = MeterSample
        fields = [
            "id",
            "charger",
            "session",
            "evse_id",
            "timestamp",
            "measurand",
            "phase",
            "location",
            "context",
            "unit",
            "value",
        ]


class MeterSampleFilter(filters.FilterSet):
    charger = filters.NumberFilter(field_name="charger_id")
    session = filters.NumberFilter(field_name="session_id")
    since = DateTimeFilter(field_name="timestamp", lookup_expr="gte")
    until = DateTimeFilter(field_name="timestamp", lookup_expr="lt")

    class Meta:
        model = MeterSample
        fields = ["charger", "session", "evse_id", "measurand", "phase"]


class SeriesQuerySerializer(serializers.Serializer):
    interval = serializers.ChoiceField(choices=["minute", "hour", "day"], default="hour")


@extend_schema_serializer(examples=[ex.returns("A point", ex.SERIES_POINT)])
class SeriesPointSerializer(serializers.Serializer):
    bucket = serializers.DateTimeField()
    measurand = serializers.CharField()
    phase = serializers.CharField()
    unit = serializers.CharField()
    avg = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True)
    min = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True)
    max = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True)
    count = serializers.IntegerField()


MAX_SERIES_POINTS = 10_000


class MeterSampleViewSet(mixins.ListModelMixin, CursorPaged, TenantViewSet):
    """Sampled meter values by time range; `series` downsamples them."""

    serializer_class = MeterSampleSerializer
    # Only by id: one MeterValues carries many samples at one timestamp, and fleets report at
    # aligned instants, so a cursor on the timestamp would skip and repeat rows.
    ordering_fields = ["id"]
    filterset_class = MeterSampleFilter

    def get_queryset(self):
        return MeterSample.objects.all()

    @extend_schema(
        parameters=[SeriesQuerySerializer], responses={200: SeriesPointSerializer(many=True)}
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def series(self, request):
        """Average, minimum and maximum per interval, measurand and phase, oldest first.
        Name a charger or a session; at most 10,000 points come back."""
        query = SeriesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        if not (request.query_params.get("charger") or request.query_params.get("session")):
            raise ValidationError({"charger": ["Name a charger or a session to downsample."]})
        points = (
            self.filter_queryset(self.get_queryset())
            .annotate(bucket=Trunc("timestamp", query.validated_data["interval"]))
            .values("bucket", "measurand", "phase", "unit")
            .annotate(avg=Avg("value"), min=Min("value"), max=Max("value"), count=Count("id"))
            .order_by("bucket", "measurand", "phase")[:MAX_SERIES_POINTS]
        )
        return Response(SeriesPointSerializer(points, many=True).data)


@extend_schema_serializer(examples=[ex.returns("A status change", ex.STATUS_EVENT)])
class StatusEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = StatusEvent
        fields = [
            "id",
            "charger",
            "evse_id",
            "connector_id",
            "status",
            "error_code",
            "info",
            "vendor_error_code",
            "timestamp",
            "received_at",
        ]


class StatusEventFilter(filters.FilterSet):
    charger = filters.NumberFilter(field_name="charger_id")
    since = DateTimeFilter(field_name="timestamp", lookup_expr="gte")
    until = DateTimeFilter(field_name="timestamp", lookup_expr="lt")

    class Meta:
        model = StatusEvent
        fields = ["charger", "evse_id", "connector_id", "status"]


class StatusEventViewSet(mixins.ListModelMixin, CursorPaged, TenantViewSet):
    """Every status a connector reported: the history behind uptime figures."""

    serializer_class = StatusEventSerializer
    # Only by id: the timestamps come from the chargers, and a restart or a fleet reporting at
    # aligned instants shares them (see `CursorOrderingFilter`).
    ordering_fields = ["id"]
    filterset_class = StatusEventFilter

    def get_queryset(self):
        return StatusEvent.objects.all()


# --- What the dashboard shows for support: the message log and the 2.0.1 device model -------


@extend_schema_serializer(examples=[ex.returns("A StatusNotification", ex.OCPP_MESSAGE)])
class OcppMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = OcppMessage
        fields = ["id", "charger", "at", "incoming", "message_type", "unique_id", "action", "body"]


class OcppMessageFilter(filters.FilterSet):
    charger = filters.NumberFilter(field_name="charger_id")
    since = DateTimeFilter(field_name="at", lookup_expr="gte")
    until = DateTimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = OcppMessage
        fields = ["charger", "action", "incoming", "message_type", "unique_id"]


class OcppMessageViewSet(mixins.ListModelMixin, CursorPaged, TenantViewSet):
    """The OCPP message log, as the charger and the CSMS exchanged it (secrets redacted),
    newest first. Kept for a bounded time per charger."""

    serializer_class = OcppMessageSerializer
    filterset_class = OcppMessageFilter
    # `at` is stamped by this server per message: ties are rare and broken by id.
    ordering_fields = ["id", "at"]

    def get_queryset(self):
        return OcppMessage.objects.all()


@extend_schema_serializer(examples=[ex.returns("A closed connection", ex.CONNECTION)])
class ConnectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConnectionEvent
        fields = [
            "id",
            "charger",
            "connected_at",
            "disconnected_at",
            "ocpp_version",
            "remote_addr",
            "close_reason",
        ]


class ConnectionFilter(filters.FilterSet):
    charger = filters.NumberFilter(field_name="charger_id")
    since = DateTimeFilter(field_name="connected_at", lookup_expr="gte")
    until = DateTimeFilter(field_name="connected_at", lookup_expr="lt")
    open = filters.BooleanFilter(
        field_name="disconnected_at", lookup_expr="isnull", label="Only open (true) or closed."
    )

    class Meta:
        model = ConnectionEvent
        fields = ["charger", "ocpp_version"]


class ConnectionViewSet(mixins.ListModelMixin, CursorPaged, TenantViewSet):
    """Each socket a charger opened: when, from where, with which OCPP version, and why it
    closed. Newest first."""

    serializer_class = ConnectionSerializer
    filterset_class = ConnectionFilter
    # `connected_at` is stamped by this server per socket: ties are rare and broken by id.
    ordering_fields = ["id", "connected_at"]

    def get_queryset(self):
        return ConnectionEvent.objects.all()


@extend_schema_serializer(examples=[ex.returns("A variable", ex.DEVICE_MODEL_VARIABLE)])
class DeviceModelVariableSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeviceModelVariable
        fields = [
            "id",
            "charger",
            "component",
            "component_instance",
            "evse_id",
            "connector_id",
            "variable",
            "variable_instance",
            "attribute_type",
            "value",
            "mutability",
            "persistent",
            "constant",
            "characteristics",
            "updated_at",
        ]


class DeviceModelVariableFilter(filters.FilterSet):
    charger = filters.NumberFilter(field_name="charger_id")

    class Meta:
        model = DeviceModelVariable
        fields = ["charger", "component", "variable", "evse_id", "attribute_type", "mutability"]


class DeviceModelVariableViewSet(mixins.ListModelMixin, TenantViewSet):
    """A 2.0.1 charger's device model as it last reported it (NotifyReport, GetVariables and
    accepted SetVariables). Refresh it with a GetBaseReport command; change a value with a
    SetVariables command."""

    serializer_class = DeviceModelVariableSerializer
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    filterset_class = DeviceModelVariableFilter
    ordering_fields = ["component", "variable", "updated_at"]
    ordering = ["charger", "component", "component_instance", "evse_id", "variable", "id"]

    def get_queryset(self):
        return DeviceModelVariable.objects.all()


# --- Id tokens -------------------------------------------------------------------------------


@extend_schema_serializer(examples=[ex.returns("A token", ex.ID_TOKEN)])
class IdTokenSerializer(TenantModelSerializer):
    unique_in_tenant = ("uid",)

    class Meta:
        model = IdToken
        fields = ["id", "uid", "type", "label", "group", "blocked", "expires_at", "created_at"]

    def validate_uid(self, value: str) -> str:
        value = value.strip()
        if not value or not value.isprintable() or " " in value:
            raise serializers.ValidationError("A token is printable characters without spaces.")
        return value

    def validate_group(self, value):
        if value is not None and self.instance is not None and value.pk == self.instance.pk:
            raise serializers.ValidationError("A token cannot be its own group.")
        return value


class BulkTokenSerializer(IdTokenSerializer):
    # In a bulk upsert an existing uid is an update, not a clash.
    unique_in_tenant = ()


class BulkIdTokenSerializer(serializers.Serializer):
    tokens = BulkTokenSerializer(many=True, help_text="Up to 1,000 tokens, matched by uid.")

    def validate_tokens(self, value):
        if len(value) > 1000:
            raise serializers.ValidationError("Send at most 1,000 tokens at a time.")
        uids = [token["uid"].upper() for token in value]
        if len(set(uids)) != len(uids):
            raise serializers.ValidationError("Each uid may appear once.")
        return value


@extend_schema_serializer(
    examples=[ex.returns("One new, one updated", {"created": 1, "updated": 1})]
)
class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()


@extend_schema_view(
    create=extend_schema(
        examples=ex.exchange(
            "A new card",
            request={"uid": "04A1B2C3", "type": "ISO14443", "label": "Van 12"},
            response=ex.ID_TOKEN,
            status=201,
        )
    ),
    partial_update=extend_schema(
        examples=ex.exchange(
            "Block a lost card",
            request={"blocked": True},
            response={**ex.ID_TOKEN, "blocked": True},
        )
    ),
)
class IdTokenViewSet(CrudViewSet):
    """RFID cards, app accounts and key codes accepted for charging. Operators write."""

    serializer_class = IdTokenSerializer
    filterset_fields = ["type", "blocked", "group"]
    ordering_fields = ["uid", "created_at"]
    ordering = ["uid"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return IdToken.objects.all()

    @extend_schema(
        request=BulkIdTokenSerializer,
        responses={200: BulkResultSerializer},
        examples=ex.exchange(
            "Two cards",
            request={
                "tokens": [
                    {"uid": "04A1B2C3", "label": "Van 12"},
                    {"uid": "04D4E5F6", "label": "Van 13", "blocked": True},
                ]
            },
            response={"created": 1, "updated": 1},
        ),
    )
    @action(detail=False, methods=["post"], url_path="bulk-upsert")
    def bulk_upsert(self, request):
        """Create or update many tokens by uid (case-insensitive), all or nothing."""
        serializer = BulkIdTokenSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        created = updated = 0
        with transaction.atomic():
            for data in serializer.validated_data["tokens"]:
                token = IdToken.objects.filter(uid__iexact=data["uid"]).first()
                if token is None:
                    IdToken.objects.create(**data)
                    created += 1
                else:
                    # Matched case-insensitively; the stored spelling of the uid stays.
                    for field, value in data.items():
                        if field != "uid":
                            setattr(token, field, value)
                    token.save()
                    updated += 1
        return Response({"created": created, "updated": updated})


# --- Commands ----------------------------------------------------------------------------------


class RemoteStartArgs(serializers.Serializer):
    id_tag = serializers.CharField(max_length=36)
    evse_id = serializers.IntegerField(min_value=1, required=False)


class RemoteStopArgs(serializers.Serializer):
    transaction_id = serializers.CharField(max_length=36)


class ResetArgs(serializers.Serializer):
    hard = serializers.BooleanField(default=False)


class UnlockArgs(serializers.Serializer):
    evse_id = serializers.IntegerField(min_value=1)
    connector_id = serializers.IntegerField(min_value=1, default=1)


class AvailabilityArgs(serializers.Serializer):
    operative = serializers.BooleanField()
    evse_id = serializers.IntegerField(min_value=0, default=0)


class TriggerArgs(serializers.Serializer):
    message = serializers.ChoiceField(choices=list(actions.TRIGGERABLE))
    evse_id = serializers.IntegerField(min_value=1, required=False)


class NoArgs(serializers.Serializer):
    pass


class DiagnosticsArgs(serializers.Serializer):
    location = serializers.URLField(max_length=512)


class GetConfigurationArgs(serializers.Serializer):
    keys = serializers.ListField(child=serializers.CharField(max_length=100), required=False)


class ChangeConfigurationArgs(serializers.Serializer):
    key = serializers.CharField(max_length=100)
    value = serializers.CharField(max_length=500, allow_blank=True)


# Version-neutral actions: the builder in chargers.actions and the arguments it takes.
NEUTRAL_ACTIONS = {
    "remote_start": (actions.remote_start, RemoteStartArgs),
    "remote_stop": (actions.remote_stop, RemoteStopArgs),
    "reset": (actions.reset, ResetArgs),
    "unlock": (actions.unlock, UnlockArgs),
    "set_availability": (actions.set_availability, AvailabilityArgs),
    "trigger": (actions.trigger, TriggerArgs),
    "clear_cache": (actions.clear_cache, NoArgs),
    "get_diagnostics": (actions.get_diagnostics, DiagnosticsArgs),
    "get_configuration": (actions.get_configuration, GetConfigurationArgs),
    "change_configuration": (actions.change_configuration, ChangeConfigurationArgs),
}
OCPP_ACTION_NAME = re.compile(r"^[A-Z][A-Za-z0-9]{1,49}$")

# The longest a request thread waits for a command's outcome. Chargers answer in a second or
# two when they answer at all; a slower outcome is worth a poll, not a thread held for it.
MAX_SYNC_WAIT = 15.0
# Between looks at the command's row: quick at first, for the usual fast reply, then calmer.
FIRST_LOOK, CALMEST_LOOK = 0.05, 0.5


def await_outcome(command: Command, seconds: float) -> bool:
    """Reload `command` until it has an outcome or `seconds` pass; whether it has one.

    The consumer holding the charger's socket writes the outcome (the reply, or a timeout
    after the command's own `timeout`) into the row; reading the row by its key a couple of
    times a second is all the waiting costs.
    """
    deadline = time.monotonic() + seconds
    pause = FIRST_LOOK
    while True:
        command.refresh_from_db()
        if command.status not in commands.UNFINISHED:
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(pause, left))
        pause = min(pause * 2, CALMEST_LOOK)


@extend_schema_serializer(examples=[ex.returns("A command", ex.COMMAND)])
class CommandSerializer(serializers.ModelSerializer):
    charger_identity = serializers.CharField(source="charger.identity", read_only=True)
    requested_by = serializers.EmailField(
        source="requested_by.email", read_only=True, default=None, allow_null=True
    )
    duration_ms = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Command
        fields = [
            "id",
            "charger",
            "charger_identity",
            "action",
            "payload",
            "status",
            "response",
            "error",
            "requested_by",
            "source",
            "created_at",
            "sent_at",
            "completed_at",
            "duration_ms",
        ]


class CommandRequestSerializer(serializers.Serializer):
    """Either a version-neutral `action` with its `arguments`, or a raw `ocpp_action` with its
    `payload` for the charger's OCPP version (validated against that version's schema)."""

    charger = serializers.PrimaryKeyRelatedField(queryset=Charger.objects.all())
    action = serializers.ChoiceField(choices=list(NEUTRAL_ACTIONS), required=False)
    arguments = serializers.DictField(required=False, default=dict)
    ocpp_action = serializers.CharField(required=False, max_length=50)
    payload = serializers.DictField(required=False, default=dict)
    wait = serializers.BooleanField(
        default=True,
        help_text="Wait a bounded moment for the outcome: at most `timeout` plus one second, "
        f"and never more than {MAX_SYNC_WAIT:g} s. With `false` the request does not wait. "
        "Either way the answer is 201 when the outcome is known as the response is sent (an "
        "offline charger is known at once) and 202 to poll while the command is pending.",
    )
    timeout = serializers.FloatField(
        default=30, min_value=1, max_value=60, help_text="Seconds the charger has to answer."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built at import time, outside any scope: read the charger in the request's scope.
        self.fields["charger"].queryset = Charger.objects.all()

    def validate(self, attrs):
        charger = attrs["charger"]
        if bool(attrs.get("action")) == bool(attrs.get("ocpp_action")):
            raise ValidationError({"action": ["Send either `action` or `ocpp_action`."]})
        if attrs.get("action"):
            build, args_serializer = NEUTRAL_ACTIONS[attrs["action"]]
            args = args_serializer(data=attrs.get("arguments") or {})
            if not args.is_valid():
                raise ValidationError({"arguments": args.errors})
            try:
                attrs["request"] = build(charger, **args.validated_data)
            except actions.ActionError as error:
                raise ValidationError({"arguments": [str(error)]}) from None
            return attrs
        name, payload = attrs["ocpp_action"], attrs.get("payload") or {}
        version = charger.ocpp_version
        if not version:
            raise ValidationError(
                {"ocpp_action": ["The charger has not connected yet: its OCPP version is unknown."]}
            )
        if version not in (OcppVersion.V16, OcppVersion.V201):
            raise ValidationError({"ocpp_action": [f"OCPP {version} has no schemas here yet."]})
        if not OCPP_ACTION_NAME.match(name):
            raise ValidationError({"ocpp_action": ["Not an OCPP action name."]})
        try:
            get_validator(CALL, name, version)
        except (OSError, ValueError):
            raise ValidationError(
                {"ocpp_action": [f"{name} is not an OCPP {version} action."]}
            ) from None
        problem = schema_problem(version, CALL, name, payload)
        if problem is not None:
            where, _, message = problem[1].partition(": ")
            field = "payload" if where == "payload" else f"payload.{where.replace('/', '.')}"
            raise ValidationError({field: [message or problem[1]]})
        attrs["request"] = actions.Request(name, payload)
        return attrs


class CommandFilter(filters.FilterSet):
    charger = filters.NumberFilter(field_name="charger_id")
    since = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = DateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Command
        fields = ["charger", "action", "status", "source"]


@extend_schema_view(
    list=extend_schema(description="The audit log: every command, who asked, the reply."),
)
class CommandViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    CursorPaged,
    TenantViewSet,
):
    """Commands to chargers and their audit log. Operators send, everyone reads."""

    serializer_class = CommandSerializer
    # `created_at` is stamped by this server per command: ties are rare and broken by id.
    ordering_fields = ["id", "created_at"]
    filterset_class = CommandFilter

    def get_queryset(self):
        return Command.objects.select_related("charger", "requested_by")

    def get_object(self):
        """The command, given up on when nothing will ever finish it: requests answer 202
        and leave the waiting to the consumer, so a doorbell lost in the channel layer (or a
        process that died holding the socket) would otherwise leave a poller waiting forever.
        This is the timeout `send_command` records when it waits itself."""
        command = super().get_object()
        overdue = commands.deadline(command.created_at, command.timeout) < timezone.now()
        if command.status in commands.UNFINISHED and overdue:
            commands.finish(
                command_id=command.pk,
                status=CommandStatus.TIMEOUT,
                error="No answer from the charger's connection.",
            )
            command.refresh_from_db()
        return command

    @extend_schema(
        request=CommandRequestSerializer,
        responses={
            201: OpenApiResponse(
                CommandSerializer,
                description="The outcome is known as the response is sent: answered, "
                "call_error or timeout after a wait, or offline or refused at once (also with "
                "`wait: false`).",
            ),
            202: OpenApiResponse(
                CommandSerializer,
                description="Pending: sent with `wait: false`, or still running when the "
                "bounded wait ended. Poll the URL in `Location` until `status` is no longer "
                "queued or sent (a command nothing finished within about two minutes reads as "
                "timeout).",
            ),
        },
        examples=[
            OpenApiExample(
                "Reset, version-neutral",
                value={"charger": 12, "action": "reset", "arguments": {"hard": False}},
                request_only=True,
            ),
            OpenApiExample(
                "Remote start",
                value={
                    "charger": 12,
                    "action": "remote_start",
                    "arguments": {"id_tag": "04A1B2C3", "evse_id": 1},
                },
                request_only=True,
            ),
            OpenApiExample(
                "A raw OCPP 1.6 call, not waiting",
                value={
                    "charger": 12,
                    "ocpp_action": "DataTransfer",
                    "payload": {"vendorId": "com.acme", "messageId": "ping"},
                    "wait": False,
                },
                request_only=True,
            ),
            *ex.exchange("Answered", response=ex.COMMAND, status=201),
            *ex.exchange("Still running: poll Location", response=ex.QUEUED_COMMAND, status=202),
        ],
    )
    def create(self, request, *args, **kwargs):
        """Send a command. The answer is 201 when its outcome is known as the response is
        sent, and 202 with the command's URL in `Location` to poll while it is pending.

        A charger that is offline, or a command the channel layer refused, is known at once:
        201, with or without `wait`. Otherwise `wait` (the default) waits a bounded moment,
        `timeout` + 1 s and never more than 15 s, for the reply or the timeout (201), and a
        command still running after that is 202; with `wait: false` it is 202 at once."""
        serializer = CommandRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # Sent without waiting inside send_command, whose own wait allows for a queue in front
        # of the charger (twice the timeout and more); this request waits its own bound.
        command = send_command(
            data["charger"],
            data["request"].action,
            data["request"].payload,
            requested_by=request.auth.user,
            source=request.auth.source,
            timeout=data["timeout"],
            wait=False,
        )
        finished = command.status not in commands.UNFINISHED
        if data["wait"] and not finished:
            finished = await_outcome(command, min(data["timeout"] + 1, MAX_SYNC_WAIT))
        body = CommandSerializer(command).data
        if finished:
            return Response(body, status=status.HTTP_201_CREATED)
        location = reverse("api:command-detail", kwargs={"pk": command.pk})
        return Response(
            body,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": location, "Retry-After": "1"},
        )
