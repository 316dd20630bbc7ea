"""What chargers reported, in the API: meter samples and their series, status history, the
message log, connections and the 2.0.1 device model. Read-only.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Avg, Count, Max, Min
from django.db.models.functions import Trunc
from django_filters import rest_framework as filters
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from chargers.models import (
    ConnectionEvent,
    DeviceModelVariable,
    MeterSample,
    OcppMessage,
    StatusEvent,
)
from cpms.api import examples as ex
from cpms.api.base import CursorPaged, TenantViewSet, time_range


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
    since, until = time_range("timestamp")

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


class ReportViewSet(mixins.ListModelMixin, CursorPaged, TenantViewSet):
    """A cursor-paged list of what chargers reported: the rows of `model`, all of them."""

    model: Any

    def get_queryset(self):
        return self.model.objects.all()


class MeterSampleViewSet(ReportViewSet):
    """Sampled meter values by time range; `series` downsamples them."""

    model = MeterSample
    serializer_class = MeterSampleSerializer
    # Only by id: one MeterValues carries many samples at one timestamp, and fleets report at
    # aligned instants, so a cursor on the timestamp would skip and repeat rows.
    ordering_fields = ["id"]
    filterset_class = MeterSampleFilter

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
    since, until = time_range("timestamp")

    class Meta:
        model = StatusEvent
        fields = ["charger", "evse_id", "connector_id", "status"]


class StatusEventViewSet(ReportViewSet):
    """Every status a connector reported: the history behind uptime figures."""

    model = StatusEvent
    serializer_class = StatusEventSerializer
    # Only by id: the timestamps come from the chargers, and a restart or a fleet reporting at
    # aligned instants shares them (see `CursorOrderingFilter`).
    ordering_fields = ["id"]
    filterset_class = StatusEventFilter


@extend_schema_serializer(examples=[ex.returns("A StatusNotification", ex.OCPP_MESSAGE)])
class OcppMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = OcppMessage
        fields = ["id", "charger", "at", "incoming", "message_type", "unique_id", "action", "body"]


class OcppMessageFilter(filters.FilterSet):
    charger = filters.NumberFilter(field_name="charger_id")
    since, until = time_range("at")

    class Meta:
        model = OcppMessage
        fields = ["charger", "action", "incoming", "message_type", "unique_id"]


class OcppMessageViewSet(ReportViewSet):
    """The OCPP message log, as the charger and the CSMS exchanged it (secrets redacted),
    newest first. Kept for a bounded time per charger."""

    model = OcppMessage
    serializer_class = OcppMessageSerializer
    filterset_class = OcppMessageFilter
    # `at` is stamped by this server per message: ties are rare and broken by id.
    ordering_fields = ["id", "at"]


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
    since, until = time_range("connected_at")
    open = filters.BooleanFilter(
        field_name="disconnected_at", lookup_expr="isnull", label="Only open (true) or closed."
    )

    class Meta:
        model = ConnectionEvent
        fields = ["charger", "ocpp_version"]


class ConnectionViewSet(ReportViewSet):
    """Each socket a charger opened: when, from where, with which OCPP version, and why it
    closed. Newest first."""

    model = ConnectionEvent
    serializer_class = ConnectionSerializer
    filterset_class = ConnectionFilter
    # `connected_at` is stamped by this server per socket: ties are rare and broken by id.
    ordering_fields = ["id", "connected_at"]


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
